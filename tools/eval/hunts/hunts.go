// Package hunts is the hunting eval (issue 15): labeled plain-language questions over a
// hunting scenario, and the scoring of any hunt.Translator on them.
//
// scenario.json holds six agents (Windows, Linux, macOS) and some 200 Deep Visibility
// events tied to no threat: ordinary activity and several intrusions. questions.json
// holds the questions; each is labeled with a reference S1QL query and a lookback, and
// its expected answer is the set of events that query returns, over the lookback, from
// the simulator. A translation is scored by running its query through the same
// simulator over HTTP with s1client (init-query → query-status → events) and comparing
// event-ID sets — precision, recall, exact match — never query strings.
//
// The simulator enforces DV init-query's 1-per-minute limit by default; the eval runs
// one query per label and per translation, so its simulator relaxes that limit through
// Options.RateLimits[ClassDVInitQuery] (and its client runs without client-side
// limits). The clock is fixed (Now), so "today" or "last 24 hours" mean the same on
// every run.
package hunts

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

//go:embed scenario.json questions.json
var files embed.FS

// Now is the eval's clock: the scenario's events lie before it, and every question is
// asked at it.
var Now = time.Date(2026, 6, 15, 14, 0, 0, 0, time.UTC)

// Question is one labeled question.
type Question struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	// Label is the reference S1QL query whose results are the expected answer.
	Label string `json:"label"`
	// Lookback is the label's time range, ending at Now (Go duration); "168h" when empty.
	Lookback string `json:"lookback,omitempty"`
}

// Range is the label's time range.
func (q Question) Range() (from, to time.Time, err error) {
	lb := q.Lookback
	if lb == "" {
		lb = "168h"
	}
	d, err := time.ParseDuration(lb)
	if err != nil || d <= 0 || d > hunt.MaxRange {
		return time.Time{}, time.Time{}, fmt.Errorf("question %s: lookback %q must be a duration within 0..%s", q.ID, q.Lookback, hunt.MaxRange)
	}
	return Now.Add(-d), Now, nil
}

// Questions returns the labeled questions.
func Questions() ([]Question, error) {
	raw, err := files.ReadFile("questions.json")
	if err != nil {
		return nil, err
	}
	var qs []Question
	if err := json.Unmarshal(raw, &qs); err != nil {
		return nil, fmt.Errorf("hunting questions: %w", err)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		if q.ID == "" || q.Question == "" || q.Label == "" || seen[q.ID] {
			return nil, fmt.Errorf("hunting questions: %q needs a unique id, a question and a label", q.ID)
		}
		seen[q.ID] = true
	}
	return qs, nil
}

// Scenario returns the hunting scenario.
func Scenario() (*scenario.Scenario, error) {
	return scenario.LoadFS(files, "scenario")
}

// Console is the hunting scenario in a simulator, served over HTTP on a free local
// port, and a client of it.
type Console struct {
	client *s1client.Client
	srv    *httptest.Server
}

const simToken = "hunt-eval-token"

// StartConsole serves the hunting scenario. Close it when done.
func StartConsole() (*Console, error) {
	sc, err := Scenario()
	if err != nil {
		return nil, err
	}
	sim, err := simulator.New(sc, simulator.Options{
		Token: simToken,
		Now:   func() time.Time { return Now },
		// One init-query per label and per translation: lift the console's 1 per
		// minute (the simulator's default) for the eval only.
		RateLimits: map[string]simulator.Limit{simulator.ClassDVInitQuery: {RPS: 1000, Burst: 100000}},
	})
	if err != nil {
		return nil, fmt.Errorf("hunting simulator: %w", err)
	}
	srv := httptest.NewServer(sim.Handler())
	client, err := s1client.New(srv.URL, simToken, s1client.WithoutRateLimits(), s1client.WithUserAgent("s1copilot-hunt-eval"))
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &Console{client: client, srv: srv}, nil
}

// Close stops the server.
func (c *Console) Close() { c.srv.Close() }

// Run runs a DV query to the end and returns the IDs of its events.
func (c *Console) Run(ctx context.Context, query string, from, to time.Time) (map[string]bool, error) {
	id, err := c.client.DVInitQuery(ctx, s1client.DVQueryParams{Query: query, FromDate: from, ToDate: to})
	if err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		st, err := c.client.DVQueryStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if s := st.State(); s == s1client.DVFinishedEmpty {
			return map[string]bool{}, nil
		} else if s.Terminal() {
			if s != s1client.DVFinished {
				return nil, fmt.Errorf("dv query %s ended %s %s", id, st.ResponseState, st.ResponseError)
			}
			break
		}
		if i > 100 {
			return nil, fmt.Errorf("dv query %s still %s", id, st.ResponseState)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ids := map[string]bool{}
	err = c.client.EachDVEvent(ctx, id, 0, func(e s1client.DVEvent) error {
		ids[string(e.ID)] = true
		return nil
	})
	return ids, err
}

// Named is a translator with the name the report shows.
type Named struct {
	Name       string
	Translator hunt.Translator
}

// Result is one translator's answer to one question.
type Result struct {
	Translation hunt.Translation
	// Err is a translation that failed, did not pass Check, or could not run.
	Err               error
	Want, Got, Hit    int
	Precision, Recall float64
	Exact             bool
}

// Report is the eval's outcome: Results[question][translator].
type Report struct {
	Questions   []Question
	Translators []string
	Expected    []int // events each label returns
	Results     [][]Result
}

// Score compares the events a translation found with the expected ones. Precision is
// 1 for an empty answer only when nothing was expected.
func Score(want, got map[string]bool) (precision, recall float64, exact bool, hit int) {
	for id := range got {
		if want[id] {
			hit++
		}
	}
	switch {
	case len(got) > 0:
		precision = float64(hit) / float64(len(got))
	case len(want) == 0:
		precision = 1
	}
	recall = 1
	if len(want) > 0 {
		recall = float64(hit) / float64(len(want))
	}
	return precision, recall, hit == len(want) && hit == len(got), hit
}

// ErrEmptyLabel is returned when a label query finds nothing: such a question cannot
// tell a right translation from a wrong one.
var ErrEmptyLabel = errors.New("label query returns no event")

// Run asks every question of every translator and scores the answers.
func Run(ctx context.Context, qs []Question, translators []Named) (*Report, error) {
	c, err := StartConsole()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rep := &Report{Questions: qs}
	for _, t := range translators {
		rep.Translators = append(rep.Translators, t.Name)
	}
	for _, q := range qs {
		from, to, err := q.Range()
		if err != nil {
			return nil, err
		}
		want, err := c.Run(ctx, q.Label, from, to)
		if err != nil {
			return nil, fmt.Errorf("question %s: label: %w", q.ID, err)
		}
		if len(want) == 0 {
			return nil, fmt.Errorf("question %s: %w", q.ID, ErrEmptyLabel)
		}
		rep.Expected = append(rep.Expected, len(want))
		row := make([]Result, len(translators))
		for i, t := range translators {
			row[i] = answer(ctx, c, t.Translator, q, want)
		}
		rep.Results = append(rep.Results, row)
	}
	return rep, nil
}

func answer(ctx context.Context, c *Console, t hunt.Translator, q Question, want map[string]bool) Result {
	r := Result{Want: len(want)}
	tr, err := t.Translate(ctx, hunt.Request{Question: q.Question, Now: Now})
	r.Translation = tr
	if err == nil {
		err = tr.Check(Now)
	}
	if err == nil && tr.Language != hunt.S1QL {
		err = fmt.Errorf("%s query not run: the simulator serves DV S1QL only", tr.Language)
	}
	var got map[string]bool
	if err == nil {
		got, err = c.Run(ctx, tr.Query, tr.From, tr.To)
	}
	if err != nil {
		r.Err = err
		return r
	}
	r.Got = len(got)
	r.Precision, r.Recall, r.Exact, r.Hit = Score(want, got)
	return r
}

// Totals are a translator's mean precision and recall, exact answers and errors.
type Totals struct {
	Precision, Recall float64
	Exact, Errors, N  int
}

// Totals sums translator i's results.
func (r *Report) Totals(i int) Totals {
	var t Totals
	for _, row := range r.Results {
		res := row[i]
		t.N++
		t.Precision += res.Precision
		t.Recall += res.Recall
		if res.Exact {
			t.Exact++
		}
		if res.Err != nil {
			t.Errors++
		}
	}
	if t.N > 0 {
		t.Precision /= float64(t.N)
		t.Recall /= float64(t.N)
	}
	return t
}
