package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

// engine is a policy that exercises each decision step on its own.
const engine = `
version: engine-test
mode: auto
minConfidence: 0.8
roles:
  analyst: [a@x]
  senior: [s@x]
  oncall: [o@x]
actions:
  remediate: {mode: off}
  rollback: {mode: recommend, reason: rollbacks are done by hand here}
  isolate: {approvers: [oncall]}
rules:
  - name: lab site may act on S1-suspicious threats
    when: {siteIds: ["225"], s1Confidence: [malicious, suspicious]}
    actions: [kill]
    mode: auto
    reason: the lab is disposable
  - name: lab site everything else
    when: {siteIds: ["225"]}
    mode: approve
    approvers: [analyst]
  - name: macs are cautious
    when: {osTypes: [macos], minConfidence: 0.6}
    mode: auto
  - name: finance group
    when: {groupNames: [Finance]}
    actions: [kill, quarantine]
    mode: approve
  - name: finance group, again
    when: {groupNames: [finance]}
    mode: off
protected:
  - name: vault
    when: {computerNames: ["vault-??"]}
    mode: approve
    approvers: [senior]
  - name: cut-off hosts
    when: {tags: [network=airgapped]}
    mode: off
`

func TestDecideSteps(t *testing.T) {
	p, err := Parse([]byte(engine), "engine.yaml")
	require.NoError(t, err)
	base := inv.ThreatFacts{AgentName: "ws-1", OSType: "windows", MachineType: "desktop", ConfidenceLevel: "malicious", NetworkStatus: "connected", SiteID: "100", GroupName: "Default"}
	with := func(edit func(*inv.ThreatFacts)) inv.ThreatFacts { f := base; edit(&f); return f }
	tp := func(c float64) inv.Analysis { return inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: c} }
	all := []string{"analyst", "oncall", "senior"}
	for _, tc := range []struct {
		name      string
		a         inv.Analysis
		f         inv.ThreatFacts
		action    inv.Action
		want      Disposition
		rule      string
		reason    string
		approvers []string
	}{
		{"global auto", tp(0.9), base, inv.ActionKill, Auto, "default", "policy mode is auto", nil},
		{"action off is a skip, not a recommendation", tp(0.9), base, inv.ActionRemediate, Skip, "default", "turned off: the policy sets remediate to off", nil},
		{"action recommend with its reason", tp(0.9), base, inv.ActionRollback, Recommend, "default", "rollbacks are done by hand here", nil},
		{"action without a mode inherits the global one", tp(0.9), base, inv.ActionIsolate, Auto, "default", "", nil},
		{"global auto guard: approvers of the action", tp(0.7), base, inv.ActionIsolate, Approve, "default", "below the automatic threshold 0.80", []string{"oncall"}},
		{"global auto guard: every role when none is named", tp(0.7), base, inv.ActionKill, Approve, "default", "below", all},
		{"rule naming S1 levels relaxes the S1 guard", tp(0.9), with(func(f *inv.ThreatFacts) { f.SiteID, f.ConfidenceLevel = "225", "suspicious" }), inv.ActionKill, Auto, "lab site may act on S1-suspicious threats", "the lab is disposable", nil},
		{"S1 condition filters: n/a falls to the next rule", tp(0.9), with(func(f *inv.ThreatFacts) { f.SiteID, f.ConfidenceLevel = "225", "n/a" }), inv.ActionKill, Approve, "lab site everything else", "needs a human", []string{"analyst"}},
		{"first matching rule naming the action wins", tp(0.9), with(func(f *inv.ThreatFacts) { f.SiteID = "225" }), inv.ActionQuarantine, Approve, "lab site everything else", "", []string{"analyst"}},
		{"a rule can turn on an action that is off", tp(0.9), with(func(f *inv.ThreatFacts) { f.SiteID = "225" }), inv.ActionRemediate, Approve, "lab site everything else", "", []string{"analyst"}},
		{"site IDs are exact", tp(0.9), with(func(f *inv.ThreatFacts) { f.SiteID = "2250" }), inv.ActionQuarantine, Auto, "default", "", nil},
		{"rule min confidence looser than the policy's", tp(0.65), with(func(f *inv.ThreatFacts) { f.OSType = "macos" }), inv.ActionKill, Auto, "macs are cautious", "threshold 0.60", nil},
		{"rule min confidence still a floor", tp(0.55), with(func(f *inv.ThreatFacts) { f.OSType = "macos" }), inv.ActionKill, Approve, "macs are cautious", "0.55 is below the automatic threshold 0.60 of rule", all},
		{"a rule without S1 levels keeps the S1 guard", tp(0.9), with(func(f *inv.ThreatFacts) { f.OSType, f.ConfidenceLevel = "macos", "n/a" }), inv.ActionKill, Approve, "macs are cautious", "rates the threat n/a, not malicious", all},
		{"group names ignore case", tp(0.9), with(func(f *inv.ThreatFacts) { f.GroupName = "FINANCE" }), inv.ActionKill, Approve, "finance group", "", all},
		{"a rule only covers its actions", tp(0.9), with(func(f *inv.ThreatFacts) { f.GroupName = "finance" }), inv.ActionIsolate, Skip, "finance group, again", "turned off: rule \"finance group, again\"", nil},
		{"protected turns auto into approve with its approvers", tp(1), with(func(f *inv.ThreatFacts) { f.AgentName = "VAULT-01" }), inv.ActionKill, Approve, "vault", "protected asset \"vault\": needs a human", []string{"senior"}},
		{"protected replaces the approvers of an approve", tp(1), with(func(f *inv.ThreatFacts) { f.AgentName, f.SiteID = "vault-01", "225" }), inv.ActionQuarantine, Approve, "vault", "", []string{"senior"}},
		{"protected never loosens off", tp(1), with(func(f *inv.ThreatFacts) { f.AgentName = "vault-01" }), inv.ActionRemediate, Skip, "default", "turned off", nil},
		{"protected never loosens recommend", tp(1), with(func(f *inv.ThreatFacts) { f.AgentName = "vault-01" }), inv.ActionRollback, Recommend, "default", "by hand", nil},
		{"? is exactly one character", tp(1), with(func(f *inv.ThreatFacts) { f.AgentName = "vault-001" }), inv.ActionKill, Auto, "default", "", nil},
		{"protected off beats a rule's auto", tp(1), with(func(f *inv.ThreatFacts) { f.SiteID, f.Tags = "225", []string{"network=airgapped"} }), inv.ActionKill, Skip, "cut-off hosts", "turned off: protected asset", nil},
		{"the kill switch does not touch skips", tp(1), with(func(f *inv.ThreatFacts) { f.Tags = []string{"network=airgapped"} }), inv.ActionKill, Skip, "cut-off hosts", "", nil},
		{"suspicious verdict under a global auto", inv.Analysis{Verdict: inv.VerdictSuspicious, Confidence: 1}, base, inv.ActionKill, Approve, "default", "verdict is only suspicious", all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := decideOne(t, p, Inputs{Analysis: tc.a, Facts: tc.f, KillSwitch: tc.name == "the kill switch does not touch skips"}, tc.action)
			assert.Equal(t, tc.want, st.Disposition, st.Reason)
			assert.Equal(t, tc.rule, st.Rule, st.Reason)
			assert.Contains(t, st.Reason, tc.reason)
			assert.Equal(t, tc.approvers, st.Approvers)
		})
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"DC-*", "dc-01", true}, {"DC-*", "DC-", true}, {"DC-*", "xDC-01", false},
		{"*-DC-*", "par-dc-7", true}, {"*-DC-*", "DC-7", false}, {"*", "", true}, {"", "", true}, {"", "a", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"a?c", "aéc", true}, {"*a*b", "xaxxb", true}, {"*a*b", "xaxxbc", false},
		{"[x]", "[x]", true}, {"a/b*", "a/bc", true},
	} {
		assert.Equal(t, tc.want, globMatch(tc.pattern, tc.name), "%q ~ %q", tc.pattern, tc.name)
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[Duration]string{Duration(0): "0s", Duration(24 * 3600e9): "24h", Duration(150 * 60e9): "2h30m", Duration(90e9): "1m30s", Duration(3600e9 + 1e9): "1h0m1s", Duration(600e9): "10m"} {
		assert.Equal(t, want, d.String())
	}
}
