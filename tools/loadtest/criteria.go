package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Observed is what the run saw of one threat's investigation.
type Observed struct {
	// Runs is the number of InvestigateThreat executions with the threat's workflow ID.
	Runs int
	// Status is the Temporal execution status of the latest run ("Completed",
	// "Running", "Failed", …; "" when there was none).
	Status  string
	Outcome string
	Verdict string
	// Decision is what the harness sent while the investigation waited ("approve",
	// "reject"; "" when it never waited).
	Decision string
	// Notes is the number of notes the threat got (counted by the simulator).
	Notes int
}

// ThreatResult pairs a threat's expectation with what was observed.
type ThreatResult struct {
	ID     string
	Kind   Kind
	Agent  string
	Expect Expect
	Got    Observed
}

// Evidence is everything the pass criteria are judged on. It is plain data so the
// evaluation is tested with crafted inputs.
type Evidence struct {
	Threats []ThreatResult
	// Unexpected lists investigation workflow IDs of threats the harness never made.
	Unexpected []string
	// Simulator counters: mitigation requests per threat and action, agent actions
	// per agent and action, real rate-limit violations per class.
	Mitigations         map[string]map[string]int
	AgentActions        map[string]map[string]int
	RateLimitViolations map[string]int
	// NotesPerInvestigation is how many notes a finished investigation posts.
	NotesPerInvestigation int
	// Soak only: triage notes whose analysis fell back without saying so, and
	// secrets found where they must not be.
	CheckFallbacks      bool
	FallbackNotSaid     []string
	CheckSecrets        bool
	SecretLeaks         []string
	ModelCalls          int
	ModelCallsBadKey    int
	FallbackReasons     map[string]int
	InjectedFaults      map[string]int
	Events              []string
	Drain               time.Duration
	Elapsed             time.Duration
	HarnessErrors       []string
	DecisionsViaStarter int
}

// Report is the verdict of a run.
type Report struct {
	Failures []string
	Summary  [][2]string
}

// Passed reports whether every criterion held.
func (r Report) Passed() bool { return len(r.Failures) == 0 }

// maxListed bounds each failure's examples so a broken run stays readable.
const maxListed = 5

type failures struct{ list []string }

// add records one criterion that failed for the given items.
func (f *failures) add(criterion string, items []string) {
	if len(items) == 0 {
		return
	}
	slices.Sort(items)
	shown := items
	more := ""
	if len(items) > maxListed {
		shown, more = items[:maxListed], fmt.Sprintf(" … and %d more", len(items)-maxListed)
	}
	f.list = append(f.list, fmt.Sprintf("%s: %d (%s%s)", criterion, len(items), strings.Join(shown, "; "), more))
}

// Evaluate judges the evidence against the pass criteria of the chaos test and the
// fault soak, and builds the summary table.
func Evaluate(e Evidence) Report {
	var f failures
	var missing, duplicated, stuck, failed, wrongOutcome, wrongVerdict, wrongWait, missingNotes, dupNotes []string
	kinds := map[Kind]int{}
	outcomes := map[string]int{}
	completed, dupNoteCount := 0, 0
	for _, t := range e.Threats {
		kinds[t.Kind]++
		g := t.Got
		switch {
		case g.Runs == 0:
			missing = append(missing, t.ID)
			continue
		case g.Runs > 1:
			duplicated = append(duplicated, fmt.Sprintf("%s: %d runs", t.ID, g.Runs))
		}
		switch g.Status {
		case "Completed":
			completed++
		case "Running":
			stuck = append(stuck, t.ID)
			continue
		default:
			failed = append(failed, fmt.Sprintf("%s: %s", t.ID, g.Status))
			continue
		}
		outcomes[g.Outcome]++
		if g.Outcome != t.Expect.Outcome {
			wrongOutcome = append(wrongOutcome, fmt.Sprintf("%s (%s): %q, expected %q", t.ID, t.Kind, g.Outcome, t.Expect.Outcome))
		}
		if t.Expect.Verdict != "" && g.Verdict != t.Expect.Verdict {
			wrongVerdict = append(wrongVerdict, fmt.Sprintf("%s (%s): %q, expected %q", t.ID, t.Kind, g.Verdict, t.Expect.Verdict))
		}
		if (g.Decision == "") != (t.Expect.Decision == "") {
			want := "no approval"
			if t.Expect.Decision != "" {
				want = "an approval"
			}
			wrongWait = append(wrongWait, fmt.Sprintf("%s (%s): decision %q, expected %s", t.ID, t.Kind, g.Decision, want))
		}
		switch n := e.NotesPerInvestigation; {
		case g.Notes > n:
			dupNotes = append(dupNotes, fmt.Sprintf("%s: %d notes", t.ID, g.Notes))
			dupNoteCount += g.Notes - n
		case g.Notes < n:
			missingNotes = append(missingNotes, fmt.Sprintf("%s: %d notes", t.ID, g.Notes))
		}
	}
	f.add("threats without an investigation", missing)
	f.add("threats with more than one investigation", duplicated)
	f.add("investigations for threats the harness never made", append([]string(nil), e.Unexpected...))
	f.add("investigations stuck (still running at the deadline)", stuck)
	f.add("investigations that did not complete", failed)
	f.add("investigations with an unexpected outcome", wrongOutcome)
	f.add("investigations with an unexpected verdict", wrongVerdict)
	f.add("investigations that waited (or not) against expectation", wrongWait)

	var dupMit, dupIso []string
	dupMitCount, dupIsoCount := 0, 0
	for threat, byAction := range e.Mitigations {
		for action, n := range byAction {
			if n > 1 {
				dupMit = append(dupMit, fmt.Sprintf("%s %s ×%d", threat, action, n))
				dupMitCount += n - 1
			}
		}
	}
	for agent, byAction := range e.AgentActions {
		if n := byAction["disconnect"]; n > 1 {
			dupIso = append(dupIso, fmt.Sprintf("agent %s ×%d", agent, n))
			dupIsoCount += n - 1
		}
	}
	f.add("duplicate mitigations", dupMit)
	f.add("duplicate isolations", dupIso)
	f.add("duplicate notes", dupNotes)
	f.add("missing notes", missingNotes)
	var viol []string
	violations := 0
	for class, n := range e.RateLimitViolations {
		if n > 0 {
			viol = append(viol, fmt.Sprintf("%s ×%d", class, n))
			violations += n
		}
	}
	f.add("SentinelOne rate-limit violations", viol)
	if e.CheckFallbacks {
		f.add("triage notes whose analysis fell back without saying so", append([]string(nil), e.FallbackNotSaid...))
	}
	if e.CheckSecrets {
		f.add("secrets found in logs or workflow histories", append([]string(nil), e.SecretLeaks...))
		if e.ModelCalls == 0 {
			f.list = append(f.list, "the model endpoint was never called: the soak did not exercise the model path")
		}
		if e.ModelCallsBadKey > 0 {
			f.list = append(f.list, fmt.Sprintf("model calls without the configured API key: %d", e.ModelCallsBadKey))
		}
	}
	f.add("harness errors", append([]string(nil), e.HarnessErrors...))

	n := len(e.Threats)
	pct := func(k int) string {
		if n == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (%.1f%%)", k, 100*float64(k)/float64(n))
	}
	var mix []string
	for _, k := range Kinds {
		if kinds[k] > 0 {
			mix = append(mix, fmt.Sprintf("%s %d", k, kinds[k]))
		}
	}
	var outs []string
	for _, o := range slices.Sorted(maps.Keys(outcomes)) {
		outs = append(outs, fmt.Sprintf("%s %d", o, outcomes[o]))
	}
	rows := [][2]string{
		{"threats", fmt.Sprintf("%d (%s)", n, strings.Join(mix, ", "))},
		{"investigations completed", pct(completed)},
		{"outcomes", strings.Join(outs, ", ")},
		{"outcomes as expected", pct(completed - len(wrongOutcome))},
		{"threats without / with >1 investigation", fmt.Sprintf("%d / %d", len(missing), len(duplicated))},
		{"stuck", fmt.Sprint(len(stuck))},
		{"duplicate mitigations / isolations / notes", fmt.Sprintf("%d / %d / %d", dupMitCount, dupIsoCount, dupNoteCount)},
		{"rate-limit violations", fmt.Sprint(violations)},
	}
	if e.DecisionsViaStarter > 0 {
		rows = append(rows, [2]string{"decisions sent via bin/starter", fmt.Sprint(e.DecisionsViaStarter)})
	}
	if len(e.InjectedFaults) > 0 {
		rows = append(rows, [2]string{"injected S1 faults", joinCounts(e.InjectedFaults)})
	}
	if e.CheckSecrets {
		rows = append(rows, [2]string{"model calls", fmt.Sprint(e.ModelCalls)},
			[2]string{"fallbacks by reason", joinCounts(e.FallbackReasons)},
			[2]string{"secret leaks", fmt.Sprint(len(e.SecretLeaks))})
	}
	if len(e.Events) > 0 {
		rows = append(rows, [2]string{"chaos events", strings.Join(e.Events, "; ")})
	}
	if e.Drain > 0 {
		rows = append(rows, [2]string{"drain after the last kill", e.Drain.Round(100 * time.Millisecond).String()})
	}
	rows = append(rows, [2]string{"elapsed", e.Elapsed.Round(100 * time.Millisecond).String()})
	return Report{Failures: f.list, Summary: rows}
}

func joinCounts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Print writes the summary as a markdown table (to paste into BENCHMARKS.md) and the
// failed criteria, if any.
func (r Report) Print(w io.Writer, title string) {
	fmt.Fprintf(w, "\n### %s\n\n| | |\n|---|---|\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, row := range r.Summary {
		fmt.Fprintf(tw, "| %s\t| %s\t|\n", row[0], strings.ReplaceAll(row[1], "|", "/"))
	}
	_ = tw.Flush()
	if r.Passed() {
		fmt.Fprintln(w, "\nPASS: every criterion held.")
		return
	}
	fmt.Fprintln(w, "\nFAIL: these criteria did not hold:")
	for _, l := range r.Failures {
		fmt.Fprintln(w, "  - "+l)
	}
}
