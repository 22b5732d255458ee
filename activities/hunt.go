package activities

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/s1client"
)

// Hunter is what the hunting activities need besides SentinelOne: the translators
// and where results go. A nil Model means the library alone.
type Hunter struct {
	// Model translates with a model (llm.HuntTranslator); nil when none is configured.
	Model HuntModel
	// Library translates by named hunts (no model) and proposes follow-ups by rule.
	Library HuntLibrary
	// Check is the validator every query passes before it runs (Translation.Check).
	Check func(hunt.Translation, time.Time) error
	// Dir receives the events of each hunt as <id>.json and <id>.csv.
	Dir      string
	Settings HuntSettings
}

// HuntModel is a model that translates and proposes follow-ups (llm.HuntTranslator).
type HuntModel interface {
	hunt.Translator
	FollowUps(ctx context.Context, t hunt.Translation, summary string) ([]string, error)
}

// HuntLibrary is the library of named hunts (hunt.Library).
type HuntLibrary interface {
	hunt.Translator
	FollowUps(t hunt.Translation, s HuntSummary) []string
}

var _ HuntModel = (*llm.HuntTranslator)(nil)

// GetHuntSettings returns the deployment's hunting settings.
func (a *Activities) GetHuntSettings(context.Context) (HuntSettings, error) {
	s := a.Hunter.Settings
	s.ModelConfigured = a.Hunter.Model != nil
	s.GateSpacing = cmp.Or(s.GateSpacing, DefaultHuntSpacing)
	s.MaxEvents = cmp.Or(s.MaxEvents, DefaultHuntMaxEvents)
	return s, nil
}

// TranslateHunt writes the query for a question: with the model when one is
// configured, else (and when the model fails) with the library of named hunts, saying
// so in the notice. A question nothing answers is a non-retryable NoTranslation error
// that says what to ask instead.
func (a *Activities) TranslateHunt(ctx context.Context, in TranslateHuntInput) (hunt.Translation, error) {
	var notice string
	if m := a.Hunter.Model; m != nil {
		t, err := m.Translate(ctx, in.Request)
		if err == nil {
			return withSince(t, in), nil
		}
		if ctx.Err() != nil {
			return hunt.Translation{}, ctx.Err() // cancelled or timed out: Temporal decides
		}
		activity.GetLogger(ctx).Warn("The model could not translate the hunt; using the library.", "Error", err)
		notice = "The model could not translate the question (" + clip(err.Error(), 200) + "); a named hunt from the library answers it instead."
	}
	if a.Hunter.Library == nil {
		return hunt.Translation{}, temporal.NewNonRetryableApplicationError("no model and no hunt library are configured: set S1C_LLM_MODEL", ErrTypeNoTranslation, nil)
	}
	t, err := a.Hunter.Library.Translate(ctx, in.Request)
	if err != nil {
		return hunt.Translation{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNoTranslation, nil)
	}
	if notice != "" {
		t.Notice = strings.TrimSpace(notice + " " + t.Notice)
	}
	return withSince(t, in), nil
}

// withSince applies the analyst's --since over the translator's window.
func withSince(t hunt.Translation, in TranslateHuntInput) hunt.Translation {
	if in.Since > 0 {
		t.From, t.To = in.Request.Now.Add(-in.Since), in.Request.Now
	}
	return t
}

// CheckHunt runs the validator. A refusal is an answer, not an error: the workflow
// ends the hunt with the reason.
func (a *Activities) CheckHunt(_ context.Context, t hunt.Translation, now time.Time) (CheckHuntResult, error) {
	if a.Hunter.Check == nil {
		return CheckHuntResult{Refusal: "no query validator is configured"}, nil
	}
	if err := a.Hunter.Check(t, now); err != nil {
		return CheckHuntResult{Refusal: err.Error()}, nil
	}
	return CheckHuntResult{}, nil
}

// JoinDVGate queues a hunt on the DV query gate, starting the gate if it is not
// running (signal-with-start: one request, never two gates).
func (a *Activities) JoinDVGate(ctx context.Context, in JoinGateInput) error {
	_, err := activity.GetClient(ctx).SignalWithStartWorkflow(ctx, in.GateWorkflowID, in.SignalName, in.HuntWorkflowID,
		client.StartWorkflowOptions{ID: in.GateWorkflowID, TaskQueue: in.GateTaskQueue, StaticSummary: "Deep Visibility init-query gate (one a minute per token)"},
		in.GateWorkflow, in.GateInput)
	if err != nil {
		return fmt.Errorf("joining the DV query gate %s: %w", in.GateWorkflowID, err)
	}
	return nil
}

// InitHuntQuery starts the Deep Visibility query (POST /dv/init-query): one call, made
// only when the gate has granted the hunt its turn.
func (a *Activities) InitHuntQuery(ctx context.Context, in HuntQueryInput) (string, error) {
	id, err := a.S1.DVInitQuery(ctx, s1client.DVQueryParams{Query: in.Query, FromDate: in.From, ToDate: in.To, Limit: in.Limit, QueryType: []string{"events"}})
	if err != nil {
		return "", S1Error("starting the Deep Visibility query of hunt "+in.HuntID, err)
	}
	return id, nil
}

// HuntPollInterval is how often AwaitHuntQuery reads query-status (the console allows
// one a second per token; the client's limiter keeps it across hunts).
var HuntPollInterval = 2 * time.Second

// AwaitHuntQuery polls query-status until the query is terminal, heartbeating, and
// signals the hunt its progress as it changes. Terminal states are answers, not
// errors (failed, expired, cancelled); only transport errors retry.
func (a *Activities) AwaitHuntQuery(ctx context.Context, in AwaitHuntQueryInput) (HuntQueryState, error) {
	last, unknown := -1, 0
	for {
		st, err := a.S1.DVQueryStatus(ctx, in.QueryID)
		if err != nil {
			return HuntQueryState{}, S1Error("reading the status of DV query "+in.QueryID, err)
		}
		state, progress := st.State(), int(st.ProgressStatus)
		activity.RecordHeartbeat(ctx, progress)
		if state.Terminal() {
			return HuntQueryState{State: string(state), Progress: progress, Error: clip(st.ResponseError, 300)}, nil
		}
		if state == s1client.DVUnknown {
			if unknown++; unknown > 300 {
				return HuntQueryState{State: string(state), Error: "the console kept answering an unknown state " + clip(st.ResponseState, 50)}, nil
			}
		}
		if in.HuntWorkflowID != "" && progress/10 != last/10 {
			// Best effort: the status query shows it; a lost signal costs only a stale %.
			if err := activity.GetClient(ctx).SignalWorkflow(ctx, in.HuntWorkflowID, "", HuntProgressSignal, progress); err == nil {
				last = progress
			}
		}
		select {
		case <-ctx.Done():
			return HuntQueryState{}, ctx.Err()
		case <-time.After(HuntPollInterval):
		}
	}
}

// HuntProgressSignal is workflows.HuntProgressSignal (activities cannot import
// workflows).
const HuntProgressSignal = "hunt-progress"

// CancelHuntQuery cancels a DV query of a hunt that was cancelled (best effort: the
// console answers the state of a query already done).
func (a *Activities) CancelHuntQuery(ctx context.Context, queryID string) error {
	if err := a.S1.DVCancel(ctx, queryID); err != nil {
		return S1Error("cancelling DV query "+queryID, err)
	}
	return nil
}

var errHuntCap = errors.New("hunt: event cap reached")

// FetchHuntEvents reads a finished query's events (at most MaxEvents, saying if
// capped), writes them as <dir>/<huntId>.json and .csv, and returns their summary.
// The files are written under temporary names and renamed, so a retry replaces them
// whole and a reader never sees half a file.
func (a *Activities) FetchHuntEvents(ctx context.Context, in FetchHuntInput) (HuntSummary, error) {
	name, err := huntFileName(in.HuntID)
	if err != nil {
		return HuntSummary{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeBadInput, nil)
	}
	dir := cmp.Or(a.Hunter.Dir, "hunts")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return HuntSummary{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("creating the hunt results directory %s (S1C_HUNT_DIR): %v", dir, err), ErrTypeHuntFiles, nil)
	}
	w, err := newHuntFiles(dir, name)
	if err != nil {
		return HuntSummary{}, err
	}
	defer w.abort()
	max := cmp.Or(in.MaxEvents, DefaultHuntMaxEvents)
	var sum summarizer
	capped := false
	page := 0
	err = a.S1.EachDVEvent(ctx, in.QueryID, 0, func(ev s1client.DVEvent) error {
		if sum.events == max {
			capped = true
			return errHuntCap
		}
		if sum.events%s1client.MaxLimit == 0 {
			page++
			activity.RecordHeartbeat(ctx, page)
		}
		sum.add(ev)
		return w.write(ev)
	})
	if err != nil && !errors.Is(err, errHuntCap) {
		return HuntSummary{}, S1Error("reading the events of DV query "+in.QueryID, err)
	}
	s := sum.summary()
	s.Capped = capped
	if s.JSONPath, s.CSVPath, err = w.commit(); err != nil {
		return HuntSummary{}, err
	}
	return s, nil
}

var huntIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$`)

// huntFileName is the hunt ID as a file name; anything that could leave the
// directory is refused.
func huntFileName(id string) (string, error) {
	if !huntIDRE.MatchString(id) || strings.Contains(id, "..") {
		return "", fmt.Errorf("hunt ID %q is not a safe file name (letters, digits, . _ -)", id)
	}
	return id, nil
}

// huntFiles writes the JSON array and the CSV of a hunt's events side by side.
type huntFiles struct {
	dir, name      string
	jf, cf         *os.File
	csv            *csv.Writer
	n              int
	jsonTmp, csTmp string
}

// huntCSVHeader are the CSV columns, the fields an analyst sorts and filters by.
var huntCSVHeader = []string{"time", "eventType", "endpoint", "agentId", "user", "process", "commandLine", "parentProcess", "dstIp", "dstPort", "dnsRequest", "url", "file", "registryPath", "indicator", "storyline"}

func newHuntFiles(dir, name string) (*huntFiles, error) {
	fail := func(err error) (*huntFiles, error) {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("writing hunt results in %s (S1C_HUNT_DIR): %v", dir, err), ErrTypeHuntFiles, nil)
	}
	jf, err := os.CreateTemp(dir, "."+name+".json.*")
	if err != nil {
		return fail(err)
	}
	cf, err := os.CreateTemp(dir, "."+name+".csv.*")
	if err != nil {
		_ = jf.Close()
		_ = os.Remove(jf.Name())
		return fail(err)
	}
	w := &huntFiles{dir: dir, name: name, jf: jf, cf: cf, csv: csv.NewWriter(cf), jsonTmp: jf.Name(), csTmp: cf.Name()}
	if _, err := jf.WriteString("["); err != nil {
		w.abort()
		return fail(err)
	}
	if err := w.csv.Write(huntCSVHeader); err != nil {
		w.abort()
		return fail(err)
	}
	return w, nil
}

func (w *huntFiles) write(ev s1client.DVEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	sep := "\n"
	if w.n > 0 {
		sep = ",\n"
	}
	w.n++
	if _, err := w.jf.WriteString(sep); err != nil {
		return err
	}
	if _, err := w.jf.Write(b); err != nil {
		return err
	}
	return w.csv.Write([]string{
		eventTime(ev).UTC().Format(time.RFC3339), ev.EventType, host(ev), string(ev.AgentID), cmp.Or(ev.SrcProcUser, ev.User),
		process(ev), cmdLine(ev), cmp.Or(ev.SrcProcParentName, ev.ParentProcessName), ev.DstIP, string(ev.DstPort), ev.DNSRequest,
		ev.NetworkURL, ev.FileFullName, ev.RegistryPath, ev.IndicatorName, cmp.Or(ev.SrcProcStorylineID, ev.Storyline),
	})
}

// commit closes and renames the files into place.
func (w *huntFiles) commit() (string, string, error) {
	fail := func(err error) (string, string, error) {
		return "", "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("writing hunt results in %s (S1C_HUNT_DIR): %v", w.dir, err), ErrTypeHuntFiles, nil)
	}
	if _, err := w.jf.WriteString("\n]\n"); err != nil {
		return fail(err)
	}
	w.csv.Flush()
	if err := errors.Join(w.csv.Error(), w.jf.Sync(), w.cf.Sync(), w.jf.Close(), w.cf.Close()); err != nil {
		return fail(err)
	}
	jp, cp := filepath.Join(w.dir, w.name+".json"), filepath.Join(w.dir, w.name+".csv")
	if err := errors.Join(os.Rename(w.jsonTmp, jp), os.Rename(w.csTmp, cp)); err != nil {
		return fail(err)
	}
	w.jsonTmp, w.csTmp = "", ""
	return jp, cp, nil
}

// abort removes what commit did not rename.
func (w *huntFiles) abort() {
	_ = w.jf.Close()
	_ = w.cf.Close()
	for _, f := range []string{w.jsonTmp, w.csTmp} {
		if f != "" {
			_ = os.Remove(f)
		}
	}
}

func eventTime(ev s1client.DVEvent) time.Time {
	for _, t := range []s1client.Time{ev.EventTime, ev.CreatedAt, ev.AgentTimestamp} {
		if !t.Time.IsZero() {
			return t.Time
		}
	}
	return time.Time{}
}

func host(ev s1client.DVEvent) string    { return cmp.Or(ev.EndpointName, ev.AgentName) }
func process(ev s1client.DVEvent) string { return cmp.Or(ev.SrcProcName, ev.ProcessName) }
func cmdLine(ev s1client.DVEvent) string { return cmp.Or(ev.SrcProcCmdLine, ev.ProcessCmd) }

// summarizer counts what a hunt found.
type summarizer struct {
	events                           int
	types, hosts, procs, cmds, dests map[string]int
}

func (s *summarizer) add(ev s1client.DVEvent) {
	if s.types == nil {
		s.types, s.hosts, s.procs, s.cmds, s.dests = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	}
	s.events++
	inc := func(m map[string]int, v string) {
		if v = strings.TrimSpace(v); v != "" {
			m[clip(v, 300)]++
		}
	}
	inc(s.types, ev.EventType)
	inc(s.hosts, host(ev))
	inc(s.procs, process(ev))
	inc(s.cmds, cmdLine(ev))
	dest := cmp.Or(ev.DNSRequest, ev.NetworkURL)
	if dest == "" && ev.DstIP != "" {
		dest = ev.DstIP
		if ev.DstPort != "" {
			dest += ":" + string(ev.DstPort)
		}
	}
	inc(s.dests, dest)
}

// TopN is how many values each of a summary's lists holds.
const TopN = 5

func (s *summarizer) summary() HuntSummary {
	return HuntSummary{
		Events: s.events, Hosts: len(s.hosts),
		EventTypes: top(s.types, TopN), TopHosts: top(s.hosts, TopN), TopProcesses: top(s.procs, TopN),
		TopCommandLines: top(s.cmds, TopN), TopDestinations: top(s.dests, TopN),
	}
}

// top returns the n most frequent values, ties by value, so the summary is stable.
func top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for v, c := range m {
		out = append(out, Count{Value: v, Count: c})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Value, b.Value))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// SuggestFollowUps proposes up to three next questions: the model's when one is
// configured and answers, else the library's rules.
func (a *Activities) SuggestFollowUps(ctx context.Context, in FollowUpsInput) ([]string, error) {
	if m := a.Hunter.Model; m != nil {
		qs, err := m.FollowUps(ctx, in.Translation, in.Summary.Text())
		if err == nil {
			return qs, nil
		}
		activity.GetLogger(ctx).Warn("The model proposed no follow-ups; using the library's rules.", "Error", err)
	}
	if a.Hunter.Library == nil {
		return nil, nil
	}
	qs := a.Hunter.Library.FollowUps(in.Translation, in.Summary)
	if len(qs) > llm.MaxFollowUps {
		qs = qs[:llm.MaxFollowUps]
	}
	return qs, nil
}

// Text renders the summary in a few lines (for a model, the CLI and Slack).
func (s HuntSummary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events on %d hosts", s.Events, s.Hosts)
	if s.Capped {
		b.WriteString(" (capped: more events matched; only these were read)")
	}
	b.WriteString("\n")
	for _, l := range []struct {
		name string
		cs   []Count
	}{
		{"event types", s.EventTypes}, {"top hosts", s.TopHosts}, {"top processes", s.TopProcesses},
		{"top command lines", s.TopCommandLines}, {"top network destinations", s.TopDestinations},
	} {
		if len(l.cs) == 0 {
			continue
		}
		parts := make([]string, len(l.cs))
		for i, c := range l.cs {
			parts[i] = fmt.Sprintf("%s (%d)", c.Value, c.Count)
		}
		fmt.Fprintf(&b, "%s: %s\n", l.name, strings.Join(parts, ", "))
	}
	return strings.TrimSpace(b.String())
}
