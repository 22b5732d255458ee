package policy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

func planFor(p *Policy, h host, actions ...inv.Action) Plan {
	return Decide(p, Inputs{
		Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.85, RecommendedActions: actions},
		Facts:    h.facts(),
	})
}

func TestAuthorize(t *testing.T) {
	p := ExamplePolicy()
	desktop := host{"FIN-DESK-7", "windows", "desktop", "malicious", "connected", nil}
	server := host{"APP-01", "windows", "server", "malicious", "connected", nil}
	deskIsolation := planFor(p, desktop, inv.ActionIsolate).Steps
	serverIsolation := planFor(p, server, inv.ActionIsolate).Steps
	require.Equal(t, Approve, deskIsolation[0].Disposition)
	require.Equal(t, Approve, serverIsolation[0].Disposition)

	assert.NoError(t, p.Authorize("alice@example.com", deskIsolation), "an analyst may approve a desktop isolation")
	assert.NoError(t, p.Authorize("  Carol@Example.com ", deskIsolation), "so may a senior; identities are case-insensitive")
	assert.NoError(t, p.Authorize("carol@example.com", serverIsolation), "only a senior may isolate a server")
	err := p.Authorize("alice@example.com", serverIsolation)
	assert.EqualError(t, err, `approver "alice@example.com" (role analyst) may not approve isolate (decided by "servers need a senior"): only role senior may`)

	err = p.Authorize("mallory@example.com", deskIsolation)
	assert.ErrorContains(t, err, `approver "mallory@example.com" is not in any role of the policy 2026-06-01.1 (sha256:`)
	assert.Error(t, p.Authorize("", deskIsolation))

	// Every step needing approval must accept the approver; auto steps are ignored.
	mixed := planFor(p, desktop, inv.ActionKill, inv.ActionRollback, inv.ActionIsolate).Steps
	err = p.Authorize("bob@example.com", mixed)
	assert.EqualError(t, err, `approver "bob@example.com" (role analyst) may not approve rollback: only role senior may`)
	assert.NoError(t, p.Authorize("carol@example.com", mixed))
	assert.NoError(t, p.Authorize("bob@example.com", nil), "nothing to approve")

	// A protected asset's approvers replace the action's.
	dc := planFor(p, host{"DC-01", "windows", "server", "malicious", "connected", nil}, inv.ActionKill).Steps
	assert.ErrorContains(t, p.Authorize("bob@example.com", dc), `may not approve kill (decided by "domain controllers"): only role senior may`)

	assert.Equal(t, []string{"analyst"}, p.RolesOf("ALICE@example.com"))
	assert.Nil(t, p.RolesOf("nobody"))
}

func TestAuthorizeWithoutRolesAcceptsAnyone(t *testing.T) {
	p := Default(ModeAuto, 0.8)
	steps := planFor(p, host{"APP-01", "windows", "server", "malicious", "connected", nil}, inv.ActionIsolate).Steps
	assert.NoError(t, p.Authorize("anyone", steps), "the builtin policy keeps today's behaviour")
	assert.Error(t, p.Authorize(" ", steps))
	var nilPolicy *Policy
	assert.Error(t, nilPolicy.Authorize("anyone", steps))
}

// The policy travels through workflow history as JSON: it must come back identical.
func TestPolicyJSONRoundTrip(t *testing.T) {
	mc := 0.95
	hand := &Policy{
		Version: "hand", Mode: ModeApprove, MinConfidence: 0.7,
		Approvals: Approvals{Timeout: Duration(90 * 60e9), ReminderAfter: Duration(90e9)},
		Rules:     []Rule{{Name: "r", When: Conditions{MinConfidence: &mc, SiteIDs: []string{"1"}}, Mode: ModeAuto}},
	}
	for name, p := range map[string]*Policy{
		"example": ExamplePolicy(), "default auto": Default(ModeAuto, 0.8), "default recommend": Default(ModeRecommend, 0.8), "hand-built": hand,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(p)
			require.NoError(t, err)
			var back Policy
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, p, &back)
			assert.Equal(t, p.VersionString(), back.VersionString())
			again, err := json.Marshal(back)
			require.NoError(t, err)
			assert.JSONEq(t, string(b), string(again))
		})
	}
	b, err := json.Marshal(ExamplePolicy().Approvals)
	require.NoError(t, err)
	assert.JSONEq(t, `{"timeout":"24h","reminderAfter":"2h","escalateAfter":"8h","escalateTo":["senior"]}`, string(b))
	assert.Contains(t, string(mustJSON(t, hand)), `"timeout":"1h30m","reminderAfter":"1m30s"`)

	var d Duration
	assert.Error(t, json.Unmarshal([]byte(`86400`), &d), "numbers are ambiguous")
	assert.Error(t, json.Unmarshal([]byte(`"1d"`), &d))
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestPlanJSONRoundTrip(t *testing.T) {
	plan := planFor(ExamplePolicy(), host{"DC-01", "windows", "server", "malicious", "connected", nil}, inv.Actions...)
	var back Plan
	require.NoError(t, json.Unmarshal(mustJSON(t, plan), &back))
	assert.Equal(t, plan, back)
}
