package evalset

import (
	"context"
	"fmt"
	"sync"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/llm"
)

// Named is an analyzer under evaluation.
type Named struct {
	Name     string // column title, e.g. "rules" or "openai:gpt-4o-mini"
	Analyzer llm.Analyzer
}

// Outcome is one analyzer's answer for one case.
type Outcome struct {
	Analysis investigation.Analysis
	Err      error // the analyzer failed (or answered an invalid analysis): a miss
	Score    Score
}

// OK reports whether the analyzer answered and got verdict and actions right.
func (o Outcome) OK() bool { return o.Err == nil && o.Score.OK() }

// Result is one case with every analyzer's outcome (indexed like Report.Analyzers).
type Result struct {
	Case     Case
	Evidence investigation.Evidence
	Outcomes []Outcome
}

// Report is a whole evaluation.
type Report struct {
	Dir       string
	Files     []string
	Analyzers []string
	Results   []Result
}

// Run collects the evidence of every case and runs every analyzer on it.
// concurrency bounds the analyzer calls in flight (a model is slow; the rules
// are not). Only failing to collect evidence is an error: analyzer failures
// are outcomes.
func Run(ctx context.Context, dir string, files []*File, analyzers []Named, concurrency int) (*Report, error) {
	r := &Report{Dir: dir}
	for _, a := range analyzers {
		r.Analyzers = append(r.Analyzers, a.Name)
	}
	for _, f := range files {
		r.Files = append(r.Files, f.Name)
		evs, err := CollectEvidence(ctx, f)
		if err != nil {
			return nil, err
		}
		for i, c := range f.Cases {
			r.Results = append(r.Results, Result{Case: c, Evidence: evs[i], Outcomes: make([]Outcome, len(analyzers))})
		}
	}
	concurrency = max(concurrency, 1)
	for ai, a := range analyzers {
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for ri := range r.Results {
			res := &r.Results[ri]
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				res.Outcomes[ai] = analyze(ctx, a.Analyzer, res.Case, res.Evidence)
			}()
		}
		wg.Wait()
	}
	return r, ctx.Err()
}

func analyze(ctx context.Context, a llm.Analyzer, c Case, ev investigation.Evidence) Outcome {
	an, err := a.Analyze(ctx, ev)
	if err == nil {
		if verr := an.Validate(); verr != nil {
			err = fmt.Errorf("%w: %v", llm.ErrInvalidOutput, verr)
		}
	}
	if err != nil {
		return Outcome{Analysis: an, Err: err}
	}
	return Outcome{Analysis: an, Score: Grade(c.Expect, an)}
}

// Stats are the figures of one analyzer.
type Stats struct {
	N, Verdict, Actions, Both, Errors int
	// Confusion counts expected verdict × predicted verdict ("error" when the
	// analyzer failed).
	Confusion map[investigation.Verdict]map[string]int
}

// Rate returns n/N (0 when there are no cases).
func (s Stats) Rate(n int) float64 {
	if s.N == 0 {
		return 0
	}
	return float64(n) / float64(s.N)
}

// Accuracy is the combined accuracy: verdict and actions right.
func (s Stats) Accuracy() float64 { return s.Rate(s.Both) }

// Stats computes the figures of analyzer i, over the results for which keep
// returns true (nil: all).
func (r *Report) Stats(i int, keep func(Result) bool) Stats {
	s := Stats{Confusion: map[investigation.Verdict]map[string]int{}}
	for _, res := range r.Results {
		if keep != nil && !keep(res) {
			continue
		}
		o := res.Outcomes[i]
		s.N++
		got := string(o.Analysis.Verdict)
		if o.Err != nil {
			s.Errors++
			got = "error"
		} else {
			if o.Score.VerdictOK {
				s.Verdict++
			}
			if o.Score.ActionsOK {
				s.Actions++
			}
			if o.Score.OK() {
				s.Both++
			}
		}
		row := s.Confusion[res.Case.Expect.Verdict]
		if row == nil {
			row = map[string]int{}
			s.Confusion[res.Case.Expect.Verdict] = row
		}
		row[got]++
	}
	return s
}

// Index returns the position of the named analyzer, or -1.
func (r *Report) Index(name string) int {
	for i, n := range r.Analyzers {
		if n == name {
			return i
		}
	}
	return -1
}
