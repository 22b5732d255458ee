package policy

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

func TestExampleFileIsTheEmbeddedExample(t *testing.T) {
	data, err := os.ReadFile("examples/policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(data), string(ExampleYAML))
	p, err := LoadFile("examples/policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, ExamplePolicy(), p)
	assert.Equal(t, "2026-06-01.1", p.Version)
	assert.Equal(t, Approvals{Timeout: Duration(24 * 3600e9), ReminderAfter: Duration(2 * 3600e9), EscalateAfter: Duration(8 * 3600e9), EscalateTo: []string{"senior"}}, p.Approvals)
	assert.Equal(t, Caps{IsolationsPerHour: 5, IsolationsPerDay: 20, AutoActionsPerMinute: 30}, p.Caps)
	assert.Len(t, p.Rules, 3)
	assert.Len(t, p.Protected, 4)
	require.Len(t, p.ProtectedFiles, 2)
	assert.Equal(t, defaultProtectedFiles()[0].Paths, p.ProtectedFiles[0].Paths, "the example protects what the builtin policy does")
	assert.Equal(t, defaultProtectedFiles()[0].Signers, p.ProtectedFiles[0].Signers)
}

type host struct {
	name, os, machine, s1, net string
	tags                       []string
}

func (h host) facts() inv.ThreatFacts {
	f := facts(h.os, h.machine, h.s1, h.net)
	f.AgentName, f.Tags = h.name, h.tags
	return f
}

func TestDecideExample(t *testing.T) {
	p := ExamplePolicy()
	ws := host{"WS-042", "windows", "laptop", "malicious", "connected", nil}
	desk := host{"FIN-DESK-7", "windows", "desktop", "malicious", "connected", nil}
	srv := host{"APP-01", "windows", "server", "malicious", "connected", nil}
	with := func(h host, edit func(*host)) host { edit(&h); return h }
	tp := func(c float64) inv.Analysis { return inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: c} }
	susp := inv.Analysis{Verdict: inv.VerdictSuspicious, Confidence: 0.99}
	all := []string{"analyst", "senior"}
	senior := []string{"senior"}
	const autoWS, dflt = "auto-contain workstations", "default"
	for _, tc := range []struct {
		name      string
		a         inv.Analysis
		h         host
		action    inv.Action
		usage     Usage
		kill      bool
		want      Disposition
		rule      string
		reason    string
		approvers []string
	}{
		// Rules and actions.
		{"workstation kill, confident", tp(0.95), ws, inv.ActionKill, Usage{}, false, Auto, autoWS, "contained at once", nil},
		{"workstation isolate, confident", tp(0.95), ws, inv.ActionIsolate, Usage{}, false, Auto, autoWS, "true positive at confidence 0.95", nil},
		{"desktop quarantine at exactly the rule threshold", tp(0.9), desk, inv.ActionQuarantine, Usage{}, false, Auto, autoWS, "threshold 0.90", nil},
		{"rule min confidence is stricter than the policy's", tp(0.85), ws, inv.ActionKill, Usage{}, false, Approve, autoWS, "0.85 is below the automatic threshold 0.90 of rule \"auto-contain workstations\"", all},
		{"workstation isolate below the rule threshold", tp(0.85), ws, inv.ActionIsolate, Usage{}, false, Approve, autoWS, "below the automatic threshold 0.90", all},
		{"remediate is not in the workstation rule", tp(0.99), ws, inv.ActionRemediate, Usage{}, false, Approve, dflt, "deletes what the threat changed", all},
		{"rollback only by a senior", tp(0.99), ws, inv.ActionRollback, Usage{}, false, Approve, dflt, "snapshots", senior},
		{"server kill needs a senior", tp(1), srv, inv.ActionKill, Usage{}, false, Approve, "servers need a senior", "many users", senior},
		{"server isolate needs a senior", tp(1), srv, inv.ActionIsolate, Usage{}, false, Approve, "servers need a senior", "many users", senior},
		{"kubernetes node", tp(1), with(srv, func(h *host) { h.machine, h.os = "kubernetes node", "linux" }), inv.ActionQuarantine, Usage{}, false, Approve, "servers need a senior", "", senior},
		{"storage", tp(1), with(srv, func(h *host) { h.machine = "storage" }), inv.ActionKill, Usage{}, false, Approve, "servers need a senior", "", senior},
		{"suspicious verdict on a workstation", susp, ws, inv.ActionKill, Usage{}, false, Approve, "suspicious verdicts", "not sure", all},
		{"suspicious verdict on a server: the first rule wins", susp, srv, inv.ActionKill, Usage{}, false, Approve, "servers need a senior", "", senior},
		{"unknown machine type falls back to the action's mode", tp(0.85), with(ws, func(h *host) { h.machine = "" }), inv.ActionKill, Usage{}, false, Auto, dflt, "threshold 0.80", nil},
		{"unknown machine type isolate: analysts or seniors", tp(1), with(ws, func(h *host) { h.machine = "unknown" }), inv.ActionIsolate, Usage{}, false, Approve, dflt, "cuts the host off", all},
		{"ecs task below the policy threshold", tp(0.7), with(ws, func(h *host) { h.machine, h.os = "ecs task", "linux" }), inv.ActionKill, Usage{}, false, Approve, dflt, "0.70 is below the automatic threshold 0.80", all},
		{"S1 rates it only suspicious", tp(0.95), with(ws, func(h *host) { h.s1 = "suspicious" }), inv.ActionKill, Usage{}, false, Approve, autoWS, "not malicious", all},
		// Protected assets.
		{"domain controller at confidence 1.0 still waits", tp(1), with(desk, func(h *host) { h.name = "DC-01" }), inv.ActionIsolate, Usage{}, false, Approve, "domain controllers", "whole company", senior},
		{"domain controller glob in the middle, any case", tp(1), with(desk, func(h *host) { h.name = "paris-dc-07" }), inv.ActionKill, Usage{}, false, Approve, "domain controllers", "", senior},
		{"DC glob needs the dash", tp(1), with(desk, func(h *host) { h.name = "DCX-01" }), inv.ActionKill, Usage{}, false, Auto, autoWS, "", nil},
		{"domain controller by scoped tag", tp(1), with(desk, func(h *host) { h.tags = []string{"owner=it", "sentinelone:role=dc"} }), inv.ActionKill, Usage{}, false, Approve, "domain controllers (tagged)", "", senior},
		{"domain controller by tag, any case", tp(1), with(desk, func(h *host) { h.tags = []string{"Role=DC"} }), inv.ActionQuarantine, Usage{}, false, Approve, "domain controllers (tagged)", "", senior},
		{"another tag value is not protected", tp(1), with(desk, func(h *host) { h.tags = []string{"role=dcx", "dc=role"} }), inv.ActionKill, Usage{}, false, Auto, autoWS, "", nil},
		{"production glob beats the server rule's name", tp(1), with(srv, func(h *host) { h.name = "web-prod-01" }), inv.ActionKill, Usage{}, false, Approve, "production", "customers", senior},
		{"production workstation", tp(1), with(ws, func(h *host) { h.name = "lab-prod-ws" }), inv.ActionIsolate, Usage{}, false, Approve, "production", "", senior},
		{"executive laptop is never isolated", tp(1), with(ws, func(h *host) { h.name = "ceo-laptop" }), inv.ActionIsolate, Usage{}, false, Skip, "executive laptops", "turned off: protected asset \"executive laptops\": executives", nil},
		{"executive laptop process may still be killed", tp(1), with(ws, func(h *host) { h.name = "CEO-LAPTOP" }), inv.ActionKill, Usage{}, false, Auto, autoWS, "", nil},
		{"protected never loosens: false positive on a DC", inv.Analysis{Verdict: inv.VerdictFalsePositive, Confidence: 1}, with(desk, func(h *host) { h.name = "DC-01" }), inv.ActionKill, Usage{}, false, Recommend, "", "no action without a confirmed threat", nil},
		// Applicability first, whatever the protection.
		{"already isolated executive laptop", tp(1), with(ws, func(h *host) { h.name, h.net = "CEO-LAPTOP", "disconnected" }), inv.ActionIsolate, Usage{}, false, Skip, "", "already isolated", nil},
		{"rollback on macos", tp(1), with(ws, func(h *host) { h.os = "macos" }), inv.ActionRollback, Usage{}, false, Skip, "", "Windows", nil},
		{"remediate on linux", tp(1), with(srv, func(h *host) { h.os = "linux" }), inv.ActionRemediate, Usage{}, false, Skip, "", "Linux", nil},
		// Kill switch and caps.
		{"kill switch", tp(1), ws, inv.ActionKill, Usage{}, true, Approve, autoWS, "kill switch is on", all},
		{"kill switch leaves approvals alone", tp(1), srv, inv.ActionKill, Usage{}, true, Approve, "servers need a senior", "many users", senior},
		{"isolation cap per hour reached", tp(1), ws, inv.ActionIsolate, Usage{IsolationsLastHour: 5}, false, Approve, autoWS, "cap reached: 5 isolations in the last hour", all},
		{"isolation cap per hour not reached", tp(1), ws, inv.ActionIsolate, Usage{IsolationsLastHour: 4, IsolationsLastDay: 19}, false, Auto, autoWS, "", nil},
		{"isolation cap per day reached", tp(1), ws, inv.ActionIsolate, Usage{IsolationsLastHour: 1, IsolationsLastDay: 20}, false, Approve, autoWS, "cap reached: 20 isolations in the last day", all},
		{"isolation caps do not limit kills", tp(1), ws, inv.ActionKill, Usage{IsolationsLastHour: 50, IsolationsLastDay: 500}, false, Auto, autoWS, "", nil},
		{"automatic actions per minute reached", tp(1), ws, inv.ActionQuarantine, Usage{AutoActionsLastMinute: 30}, false, Approve, autoWS, "cap reached: 30 automatic actions in the last minute", all},
		{"automatic actions per minute not reached", tp(1), ws, inv.ActionQuarantine, Usage{AutoActionsLastMinute: 29}, false, Auto, autoWS, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := decideOne(t, p, Inputs{Analysis: tc.a, Facts: tc.h.facts(), Usage: tc.usage, KillSwitch: tc.kill}, tc.action)
			assert.Equal(t, tc.want, st.Disposition, st.Reason)
			assert.Equal(t, tc.rule, st.Rule, st.Reason)
			assert.Contains(t, st.Reason, tc.reason)
			assert.Equal(t, tc.approvers, st.Approvers)
		})
	}
}

// The per-minute cap counts the automatic actions earlier in the same plan.
func TestAutoCapCountsThePlanItself(t *testing.T) {
	in := Inputs{
		Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 1, RecommendedActions: []inv.Action{inv.ActionKill, inv.ActionQuarantine, inv.ActionIsolate}},
		Facts:    host{"WS-1", "windows", "laptop", "malicious", "connected", nil}.facts(),
		Usage:    Usage{AutoActionsLastMinute: 29},
	}
	plan := Decide(ExamplePolicy(), in)
	assert.Equal(t, []inv.Action{inv.ActionKill}, plan.Actions(Auto))
	assert.Equal(t, []inv.Action{inv.ActionQuarantine, inv.ActionIsolate}, plan.Actions(Approve))
	assert.Contains(t, plan.Steps[1].Reason, "cap reached: 30 automatic actions in the last minute")
}

func TestDecideIsDeterministic(t *testing.T) {
	p := ExamplePolicy()
	in := Inputs{
		Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.85, RecommendedActions: inv.Actions},
		Facts:    host{"WS-1", "windows", "laptop", "malicious", "connected", nil}.facts(),
	}
	first := Decide(p, in)
	for range 50 {
		assert.Equal(t, first, Decide(p, in))
	}
}
