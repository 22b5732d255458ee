package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// noteMarker tags a note so that a retried activity finds it and does not post it twice.
func noteMarker(workflowID, step string) string {
	return fmt.Sprintf("[s1copilot %s %s]", workflowID, step)
}

// ApproveCommands are the exact commands that approve or reject an investigation,
// printed in notes and by the demo so a human can copy them.
func ApproveCommands(threatID string) (signal, starter string) {
	signal = fmt.Sprintf(`temporal workflow signal -w %s --name %s --input '{"approved":true,"approver":"YOUR-NAME","reason":"WHY"}'`, WorkflowID(threatID), ApprovalSignal)
	starter = fmt.Sprintf(`starter approve %s --as YOUR-NAME --reason "WHY"   (or: starter reject ...)`, threatID)
	return signal, starter
}

// triageNote is the verdict and the plan, and the lines that are this threat's own (its
// host, its context, its approval commands): an outbreak's triage notes differ only in
// those, and may go out as one.
func triageNote(threatID string, ev investigation.Evidence, a investigation.Analysis, plan policy.Plan, s activities.Settings) (string, []string) {
	f := ev.Facts
	var b noteBuilder
	fmt.Fprintf(&b, "s1copilot triage: %s (confidence %.2f, priority %s)\n", a.Verdict, a.Confidence, a.Priority)
	b.own("Host: %s (%s, %s), network %s\n", f.AgentName, orNone(f.OSName), orNone(f.MachineType), orNone(f.NetworkStatus))
	if w := f.Workload; w != nil {
		b.own("Workload: %s\n", workloadLine(*w))
	}
	if line := coLocatedLine(ev.CoLocated); line != "" {
		// Its own even when the counts match another threat's: the examples exclude
		// the threat itself, and counts read seconds apart differ in an outbreak.
		b.own("%s\n", line)
	}
	if line := contextLine(ev.Context); line != "" {
		b.own("%s", line)
	}
	if a.ReusedFrom != "" {
		b.own("Analysis reused from investigation %s (same evidence fingerprint; this host's facts are its own)\n", a.ReusedFrom)
	}
	fmt.Fprintf(&b, "Analyzer: %s", a.Analyzer)
	if a.FallbackReason != "" {
		fmt.Fprintf(&b, " (fallback: %s)", a.FallbackReason)
	}
	if len(a.Rules) > 0 {
		fmt.Fprintf(&b, "; rules: %s", strings.Join(a.Rules, ", "))
	}
	fmt.Fprintf(&b, "\nSummary: %s\n", a.Summary)
	if d := a.Disagreement; d != nil {
		b.WriteString(disagreementLines(*d, a))
	}
	if len(a.InjectionFlags) > 0 {
		fmt.Fprintf(&b, "Suspected prompt injection in the threat's data (shown to the model as quoted data, never as instructions). %s\n", guard.GuardOutcome(a))
		for _, f := range a.InjectionFlags {
			fmt.Fprintf(&b, "  ! %s\n", f)
		}
	}
	if a.Corrected {
		fmt.Fprintf(&b, "Model answer corrected once: %s\n", a.CorrectionNote)
	}
	if a.Pseudonymized {
		b.WriteString("Host and user names were pseudonymised for the model (the names in this note are the real ones).\n")
	}
	if len(a.MITRETechniques) > 0 {
		fmt.Fprintf(&b, "MITRE ATT&CK: %s\n", strings.Join(a.MITRETechniques, ", "))
	}
	if len(a.AttackTimeline) > 0 {
		b.WriteString("Attack timeline:\n")
		for i, st := range a.AttackTimeline {
			fmt.Fprintf(&b, "  %d. %s [evidence: %s]", i+1, st.Step, st.Evidence)
			if st.Technique != "" {
				fmt.Fprintf(&b, " %s", st.Technique)
			}
			b.WriteString("\n")
		}
	}
	for _, r := range a.ActionReasons {
		fmt.Fprintf(&b, "Why %s: %s\n", r.Action, r.Reason)
	}
	for _, q := range a.OpenQuestions {
		fmt.Fprintf(&b, "Open question: %s\n", q)
	}
	if len(plan.Steps) == 0 {
		b.WriteString("Recommended actions: none.\n")
	} else {
		b.WriteString("Plan (" + plan.PolicyVersion + "):\n")
		for _, st := range plan.Steps {
			fmt.Fprintf(&b, "- %s [%s impact]: %s — %s", st.Action, st.Impact, st.Disposition, st.Reason)
			if st.Rule != "" && st.Rule != "default" {
				fmt.Fprintf(&b, " (rule: %s)", st.Rule)
			}
			if st.Disposition == policy.Approve && len(st.Approvers) > 0 {
				fmt.Fprintf(&b, " [approvers: %s]", strings.Join(st.Approvers, ", "))
			}
			b.WriteString("\n")
		}
	}
	if len(plan.Actions(policy.Approve)) > 0 || a.Disagreement != nil {
		sig, st := ApproveCommands(threatID)
		b.own("Waiting up to %s for approval; without one, no action is taken. Approve with:\n  %s\n  %s\n", s.ApprovalTimeout, sig, st)
	}
	return b.String(), b.ownLines
}

// disagreementLines put both readings before the human who decides between them.
func disagreementLines(d investigation.Disagreement, a investigation.Analysis) string {
	var b strings.Builder
	reason := d.Reason
	if reason != "" {
		reason = strings.ToUpper(reason[:1]) + reason[1:]
	}
	fmt.Fprintf(&b, "%s.\n", reason)
	fmt.Fprintf(&b, "  Model's reading (%s): %s (confidence %.2f): %s\n", d.Model.Analyzer, d.Model.Verdict, d.Model.Confidence, d.Model.Summary)
	if len(d.Model.Evidence) > 0 {
		fmt.Fprintf(&b, "  The model cited: %s\n", strings.Join(d.Model.Evidence, "; "))
	}
	fmt.Fprintf(&b, "  SentinelOne rates it %s; the rules engine reads %s", orNone(d.S1Rating), d.RulesVerdict)
	if len(a.Rules) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(a.Rules, ", "))
	}
	b.WriteString(". This note's verdict and plan are that reading, decided by the policy as if no model had spoken.\n")
	b.WriteString("  To decide: approve: SentinelOne's reading stands (the plan's actions, if any, run); reject: the model's reading stands (no action).\n")
	return b.String()
}

// outcomeNote is what happened, with the lines that are this threat's own (who decided,
// its actions' verified states, its Slack message).
func outcomeNote(r Result) (string, []string) {
	var b noteBuilder
	fmt.Fprintf(&b, "s1copilot outcome: %s\n", r.Outcome)
	switch {
	case r.ApprovalTimedOut:
		b.own("Approval: none before the deadline; the actions awaiting approval were not taken.\n")
	case r.Decision != nil:
		word := "approved"
		if !r.Decision.Approved {
			word = "rejected"
		}
		line := fmt.Sprintf("Approval: %s by %s via %s (identity: %s)", word, r.Decision.Approver, r.Decision.Channel, orNone(r.Decision.Identity))
		if r.Decision.Reason != "" {
			line += ": " + r.Decision.Reason
		}
		b.own("%s\n", line)
	}
	for _, act := range r.Actions {
		line := fmt.Sprintf("- %s (%s): %s", act.Action, act.Disposition, act.State)
		if act.Detail != "" {
			line += " — " + act.Detail
		}
		b.own("%s\n", line) // its own: the agent's report time differs per threat
		if f := act.Forensics; f != nil {
			b.own("  %s\n", forensicsLine(*f))
		}
	}
	if len(r.Actions) == 0 {
		b.WriteString("No action was carried out.\n")
	}
	if r.Injection != "" {
		b.WriteString(r.Injection + "\n")
	}
	if r.Slack != "" {
		b.own("Slack: %s.\n", r.Slack)
	}
	if r.Handoff != "" {
		b.own("Hand-off: %s.\n", r.Handoff)
	}
	if r.TicketID != "" {
		b.own("Ticket: %s (also the threat's external ticket ID).\n", r.TicketID)
	}
	return b.String(), b.ownLines
}

// forensicsLine says where a collection's package is, or why there is none.
func forensicsLine(f activities.Forensics) string {
	line := "Forensic collection: parent task " + orNone(f.ParentTaskID)
	if f.TaskID != "" {
		line += ", task " + f.TaskID
	}
	if f.Status != "" {
		line += ", status " + f.Status
	}
	if f.DownloadURL != "" {
		return line + "; package " + orNone(f.FileName) + ": " + f.DownloadURL
	}
	return line + "; no package: " + orNone(f.NoFile)
}

// currentDetails is the markdown the Web UI shows while the investigation runs.
func currentDetails(s Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Stage:** %s\n\n", s.Stage)
	if s.Analysis != nil {
		fmt.Fprintf(&b, "**Verdict:** %s (%.2f, %s) by %s\n\n", s.Analysis.Verdict, s.Analysis.Confidence, s.Analysis.Priority, s.Analysis.Analyzer)
	}
	if s.Review != "" {
		fmt.Fprintf(&b, "**A human decides:** %s\n\n", s.Review)
	}
	if len(s.AwaitingApproval) > 0 || s.Review != "" {
		sig, _ := ApproveCommands(s.ThreatID)
		fmt.Fprintf(&b, "**Awaiting approval** for %v until %s:\n\n`%s`\n\n", s.AwaitingApproval, s.ApprovalDeadline.UTC().Format(time.RFC3339), sig)
	}
	for _, act := range s.Actions {
		state := string(act.State)
		if state == "" {
			state = "requested"
		}
		fmt.Fprintf(&b, "- %s: %s\n", act.Action, state)
	}
	if s.Outcome != "" {
		fmt.Fprintf(&b, "\n**Outcome:** %s\n", s.Outcome)
	}
	return b.String()
}

// workloadLine names where a cloud-workload threat ran.
func workloadLine(w investigation.Workload) string {
	var parts []string
	add := func(label, v string) {
		if v != "" {
			parts = append(parts, label+" "+v)
		}
	}
	add("cluster", w.Cluster)
	add("namespace", w.Namespace)
	add("pod", w.Pod)
	add("controller", w.Controller)
	add("node", w.Node)
	add("container", w.ContainerName)
	add("image", w.ContainerImage)
	add("ECS cluster", w.ECSCluster)
	add("service", w.ECSService)
	add("task", w.ECSTask)
	add("launch type", w.ECSLaunch)
	return strings.Join(parts, ", ")
}

// coLocatedLine says how many other recent threats share the threat's cluster,
// namespace and image, with the newest of them, or that it could not be checked;
// empty when there are none or the threat is no container workload.
func coLocatedLine(c *investigation.CoLocated) string {
	if c == nil {
		return ""
	}
	if c.Unavailable != "" {
		where := "image " + c.Image
		if c.Cluster != "" {
			where = "cluster " + c.Cluster
		}
		return fmt.Sprintf("Same workload: could not check for other threats in %s: %s", where, c.Unavailable)
	}
	total := c.Total()
	if total == 0 {
		return ""
	}
	n := func(v int) string {
		if c.Capped {
			return fmt.Sprintf("%d+", v) // a full page: there may be more
		}
		return strconv.Itoa(v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Same workload: %s other %s ", n(total), plural(total, "threat", "threats"))
	if c.Cluster != "" {
		fmt.Fprintf(&b, "in cluster %s in %s", c.Cluster, lastWindow(c.Window))
		if c.Namespace != "" {
			fmt.Fprintf(&b, ", %s in namespace %s", n(c.InNamespace), c.Namespace)
		}
		if c.Image != "" {
			fmt.Fprintf(&b, ", %s with image %s", n(c.WithImage), c.Image)
		}
	} else {
		fmt.Fprintf(&b, "with image %s in %s", c.Image, lastWindow(c.Window))
	}
	ids := make([]string, len(c.Examples))
	for i, e := range c.Examples {
		ids[i] = e.ThreatID
	}
	if len(ids) > 0 {
		fmt.Fprintf(&b, "; newest: %s", strings.Join(ids, ", "))
		if more := total - len(ids); more > 0 {
			fmt.Fprintf(&b, " and %s more", n(more))
		}
	}
	return b.String()
}

// lastWindow names a look-back window: "the last hour", "the last 30m".
func lastWindow(d time.Duration) string {
	switch d {
	case time.Hour:
		return "the last hour"
	case 24 * time.Hour:
		return "the last day"
	}
	return "the last " + policy.Duration(d).String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// contextLine tells the analyst what context the analysis had, so a verdict can be
// weighed ("the file is on 37 endpoints") and a gap is not mistaken for absence.
func contextLine(c *investigation.Context) string {
	if c == nil || c.Skipped != "" {
		return ""
	}
	var parts []string
	if n := len(c.ProcessChains); n > 0 || c.EventsRead > 0 {
		parts = append(parts, fmt.Sprintf("%d process chains from %d storyline events", n, c.EventsRead))
	}
	if p := c.Prevalence; p != nil {
		parts = append(parts, fmt.Sprintf("file seen on %d endpoints", p.Endpoints))
	}
	if c.PriorThreatsTotal > 0 {
		same := 0
		for _, t := range c.PriorThreats {
			if t.SameFile {
				same++
			}
		}
		parts = append(parts, fmt.Sprintf("%d earlier threats on this host (%d with the same file)", c.PriorThreatsTotal, same))
	} else if c.Prevalence != nil || len(c.ProcessChains) > 0 {
		parts = append(parts, "no earlier threats on this host")
	}
	var b strings.Builder
	if len(parts) > 0 {
		b.WriteString("Context: " + strings.Join(parts, "; ") + "\n")
	}
	for _, u := range c.Unavailable {
		b.WriteString("Context unavailable: " + u + "\n")
	}
	return b.String()
}

// noteBuilder writes a note and remembers which of its lines are the threat's own.
type noteBuilder struct {
	strings.Builder
	ownLines []string
}

// own writes lines that belong to this threat alone.
func (b *noteBuilder) own(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	b.WriteString(text)
	b.ownLines = append(b.ownLines, strings.Split(strings.TrimSuffix(text, "\n"), "\n")...)
}

// injectionLine is the outcome note's one line on suspected prompt injection: where it
// was, and what the guard did; empty when none was suspected.
func injectionLine(a investigation.Analysis) string {
	if len(a.InjectionFlags) == 0 {
		return ""
	}
	did := "the model's answer stood after the guard's check against the rules analyzer"
	if len(a.GuardChanges) > 0 {
		did = "the guard changed the model's answer: " + strings.Join(a.GuardChanges, "; ")
	}
	return fmt.Sprintf("Suspected prompt injection in this threat's data (%d field(s) flagged, see the triage note): %s.", len(a.InjectionFlags), did)
}
