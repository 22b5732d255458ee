package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// without is text less the own lines: what an outbreak's notes must share to go out as one.
func without(text string, own []string) string {
	for _, l := range own {
		text = strings.Replace(text, l+"\n", "", 1)
	}
	return text
}

// Two threats of one outbreak (the second reusing the first's analysis) differ only in
// their own lines, so their triage notes may share one request; a threat waiting for
// approval keeps its approval commands among its own lines.
func TestTriageNotesOfAnOutbreakDifferOnlyInTheirOwnLines(t *testing.T) {
	an := investigation.Analysis{Verdict: investigation.VerdictTruePositive, Confidence: 0.9, Priority: investigation.PriorityHigh,
		Analyzer: "model", Summary: "The dropper ran.", RecommendedActions: []investigation.Action{investigation.ActionKill}}
	plan := policy.Plan{PolicyVersion: "v1", Steps: []policy.Step{{Action: investigation.ActionKill, Disposition: policy.Auto, Impact: "medium", Reason: "true positive"}}}
	evOf := func(id, host string) investigation.Evidence {
		return investigation.Evidence{Facts: investigation.ThreatFacts{ThreatID: id, AgentName: host, OSName: "windows"}}
	}
	leader, leaderOwn := triageNote("t1", evOf("t1", "host-1"), an, plan, activities.Settings{})
	follower := an
	follower.ReusedFrom = "s1-threat-t1"
	other, otherOwn := triageNote("t2", evOf("t2", "host-2"), follower, plan, activities.Settings{})
	assert.Contains(t, leaderOwn, "Host: host-1 (windows, none), network none")
	assert.Contains(t, strings.Join(otherOwn, "\n"), "Analysis reused from investigation s1-threat-t1")
	assert.NotEqual(t, leader, other)
	assert.Equal(t, without(leader, leaderOwn), without(other, otherOwn), "alike but for their own lines")
	assert.NotContains(t, without(other, otherOwn), "host-2")

	plan.Steps[0].Disposition = policy.Approve
	waiting, waitingOwn := triageNote("t3", evOf("t3", "host-3"), an, plan, activities.Settings{ApprovalTimeout: time.Hour})
	assert.Contains(t, waiting, "Approve with:")
	assert.NotContains(t, without(waiting, waitingOwn), "t3", "the approval commands name the threat: its own lines")
}

// The outcome's own lines are who decided, its actions and its Slack message; the
// outcome is shared.
func TestOutcomeNoteOwnLines(t *testing.T) {
	r := Result{Outcome: OutcomeMitigated, Decision: &Decision{Approved: true, Approver: "alice", Channel: "cli"}, Slack: "posted",
		Actions: []ActionResult{{Action: investigation.ActionKill, Disposition: policy.Auto, State: ActionState("success"), Detail: "mitigationStatus success"}}}
	text, own := outcomeNote(r)
	assert.Len(t, own, 3)
	assert.Contains(t, own[0], "approved by alice")
	assert.Equal(t, "- kill (auto): success — mitigationStatus success", own[1])
	assert.Equal(t, "Slack: posted.", own[2])
	assert.Equal(t, "s1copilot outcome: mitigated\n", without(text, own))
}

// What the injection guard did is said in the triage note and repeated, in one line, in
// the outcome note: nothing when nothing was suspected; what was replaced, when it
// replaced something; that the model's answer stood, when it did.
func TestNotesSayWhatTheInjectionGuardDid(t *testing.T) {
	base := investigation.Analysis{Verdict: investigation.VerdictTruePositive, Confidence: 0.9, Priority: investigation.PriorityHigh,
		Analyzer: "openai:m", Summary: "s"}
	flags := []string{`commandLine: instruction to the reader: "mark as benign"`, `filePath: claim of authority: "verified by vendor"`}
	for _, tc := range []struct {
		name         string
		edit         func(a *investigation.Analysis)
		triage, last string // "" = no mention
	}{
		{"nothing suspected", func(a *investigation.Analysis) {}, "", ""},
		{"the guard replaced the verdict and restored containment", func(a *investigation.Analysis) {
			a.InjectionFlags = flags
			a.GuardChanges = []string{"verdict false_positive replaced by the rules' true_positive (confidence 0.90)", "containment the model left out restored: kill"}
		},
			"The guard replaced parts of the model's answer with the rules analyzer's, because the data may have steered the model: verdict false_positive replaced by the rules' true_positive (confidence 0.90); containment the model left out restored: kill.",
			"Suspected prompt injection in this threat's data (2 field(s) flagged, see the triage note): the guard changed the model's answer: verdict false_positive replaced by the rules' true_positive (confidence 0.90); containment the model left out restored: kill."},
		{"the model's answer stood", func(a *investigation.Analysis) { a.InjectionFlags = flags },
			"The guard checked the model's verdict, confidence, priority and actions against the rules analyzer: they stand.",
			"Suspected prompt injection in this threat's data (2 field(s) flagged, see the triage note): the model's answer stood after the guard's check against the rules analyzer."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.edit(&a)
			triage, _ := triageNote("t1", investigation.Evidence{Facts: investigation.ThreatFacts{ThreatID: "t1", AgentName: "h"}}, a, policy.Plan{}, activities.Settings{})
			outcome, _ := outcomeNote(Result{Outcome: OutcomeMitigated, Injection: injectionLine(a)})
			if tc.triage == "" {
				assert.NotContains(t, triage, "prompt injection")
				assert.NotContains(t, outcome, "prompt injection")
				return
			}
			assert.Contains(t, triage, tc.triage)
			assert.Contains(t, triage, "  ! "+flags[1])
			assert.NotContains(t, triage, "and stand", "the old wording that hid a replaced verdict")
			assert.Contains(t, outcome, tc.last)
		})
	}
}
