package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

const forensicsPolicy = `
version: forensics-test
mode: auto
minConfidence: 0.8
roles:
  analyst: [a@x]
  ir: [ir@x]
forensics:
  scripts:
    windows: "1001"
    linux: "1002"
  inputParams: "--quick"
  timeout: 45m
rules:
  - name: lab collects alone
    when: {siteIds: ["lab"]}
    actions: [collect_forensics]
    mode: auto
  - name: everything on servers is automatic
    when: {machineTypes: [server]}
    mode: auto
protected:
  - name: no scripts on the vault
    when: {computerNames: ["vault-*"]}
    actions: [collect_forensics]
    mode: off
`

func TestCollectForensicsDecisions(t *testing.T) {
	p, err := Parse([]byte(forensicsPolicy), "forensics.yaml")
	require.NoError(t, err)
	assert.Equal(t, "1001", p.Forensics.ScriptFor("Windows"))
	assert.Equal(t, "1001", p.Forensics.ScriptFor("windows_legacy"), "a legacy Windows agent falls back to the windows script")
	assert.Equal(t, "", p.Forensics.ScriptFor("macos"))
	assert.Equal(t, "--quick", p.Forensics.InputParams)
	assert.Equal(t, "45m", p.Forensics.Timeout.String())

	base := inv.ThreatFacts{AgentName: "ws-1", OSType: "windows", MachineType: "desktop", ConfidenceLevel: "malicious", SiteID: "100"}
	with := func(edit func(*inv.ThreatFacts)) inv.ThreatFacts { f := base; edit(&f); return f }
	an := inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.95, RecommendedActions: []inv.Action{inv.ActionKill, inv.ActionCollectForensics}}
	for _, tc := range []struct {
		name   string
		f      inv.ThreatFacts
		want   Disposition
		reason string
	}{
		{"global auto is not enough: a human approves", base, Approve, "waits for a human unless the policy sets collect_forensics to auto by name"},
		{"a rule about every action is not enough either", with(func(f *inv.ThreatFacts) { f.MachineType = "server" }), Approve, "by name"},
		{"a rule naming it may make it automatic", with(func(f *inv.ThreatFacts) { f.SiteID = "lab" }), Auto, "true positive at confidence 0.95"},
		{"no script for the OS: not offered", with(func(f *inv.ThreatFacts) { f.OSType = "macos" }), Skip, "no forensic collection script for macos agents"},
		{"a protected host is never collected from", with(func(f *inv.ThreatFacts) { f.AgentName = "vault-01"; f.SiteID = "lab" }), Skip, "no scripts on the vault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := Decide(p, Inputs{Analysis: an, Facts: tc.f})
			require.Len(t, plan.Steps, 2)
			st := plan.Steps[1]
			assert.Equal(t, inv.ActionCollectForensics, st.Action)
			assert.Equal(t, ImpactCollection, st.Impact)
			assert.Equal(t, tc.want, st.Disposition, st.Reason)
			assert.Contains(t, st.Reason, tc.reason)
			// The kill beside it keeps the global auto: only forensics is held back.
			assert.Equal(t, Auto, plan.Steps[0].Disposition, plan.Steps[0].Reason)
		})
	}

	t.Run("the action's own entry may make it automatic", func(t *testing.T) {
		p2, err := Parse([]byte(forensicsPolicy+"actions:\n  collect_forensics: {mode: auto}\n"), "f.yaml")
		require.NoError(t, err)
		st := Decide(p2, Inputs{Analysis: an, Facts: base}).Steps[1]
		assert.Equal(t, Auto, st.Disposition, st.Reason)
	})

	t.Run("the built-in auto policy asks", func(t *testing.T) {
		d := Default(ModeAuto, 0.8).WithForensics(Forensics{Scripts: map[string]string{"windows": "7"}})
		st := Decide(d, Inputs{Analysis: an, Facts: base}).Steps[1]
		assert.Equal(t, Approve, st.Disposition, st.Reason)
		assert.NotEqual(t, Default(ModeAuto, 0.8).Digest, d.Digest, "the scripts are part of what the policy's fingerprint covers")
	})
}

func TestForensicsParseProblems(t *testing.T) {
	_, err := Parse([]byte(`
version: v
mode: approve
minConfidence: 0.8
roles: {a: [a@x]}
forensics:
  scripts:
    windoze: "1"
    linux: ""
  timeout: soon
`), "f.yaml")
	require.Error(t, err)
	assert.Equal(t, []string{
		`f.yaml:8:5: forensics.scripts.windoze: unknown OS type "windoze" (one of: windows, windows_legacy, linux, macos)`,
		`f.yaml:9:12: forensics.scripts.linux: must not be empty`,
		`f.yaml:10:12: forensics.timeout: invalid duration "soon" (use h, m and s, e.g. 24h, 90m or 1h30m)`,
	}, problems(t, err))
}

func TestParseForensicsScripts(t *testing.T) {
	got, err := ParseForensicsScripts(" windows=11, Linux = 22 ,macos=33")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"windows": "11", "linux": "22", "macos": "33"}, got)
	_, err = ParseForensicsScripts("windows")
	assert.ErrorContains(t, err, "write os=scriptID")
	_, err = ParseForensicsScripts("beos=1")
	assert.ErrorContains(t, err, `unknown OS type "beos"`)
	got, err = ParseForensicsScripts("")
	assert.NoError(t, err)
	assert.Empty(t, got)
}
