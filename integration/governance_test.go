package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/workflows"
)

// macroThreat is a Word macro launching PowerShell: the rules recommend kill,
// quarantine and isolation at confidence 0.95, which the example policy runs
// automatically on workstations.
func macroThreat(id, agentID string) scenario.Threat {
	th := newThreat(id, agentID)
	th.ThreatName, th.Classification = "invoice_"+id[len(id)-3:]+".docm", "Trojan"
	th.OriginatorProcess, th.MaliciousProcessArguments = "WINWORD.EXE", "powershell.exe -nop -w hidden -enc SQBFAFgA"
	return th
}

// TestCapsAndKillSwitchHoldAcrossTheFleet runs the example policy file with an
// isolation cap of 1 per hour through the real control workflow: the second automatic
// isolation waits for a human, and once the kill switch is on nothing runs alone.
func TestCapsAndKillSwitchHoldAcrossTheFleet(t *testing.T) {
	yaml := strings.Replace(string(policy.ExampleYAML), "isolationsPerHour: 5", "isolationsPerHour: 1", 1)
	require.NotEqual(t, string(policy.ExampleYAML), yaml, "the example's cap line moved; update this test")
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	s := newStack(t, stackOptions{config: func(c *config.Config) { c.PolicyFile = path }})

	const laptop, desktop, desktop2 = "1900000000000000002", "1900000000000000003", "1900000000000000005"
	first, second, third := "1930000000000000001", "1930000000000000002", "1930000000000000003"
	for id, agent := range map[string]string{first: laptop, second: desktop, third: desktop2} {
		require.NoError(t, s.sim.AddThreat(macroThreat(id, agent)))
	}
	start := func(id string) {
		started, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
		require.True(t, started)
	}

	// First: contained and isolated without a human.
	start(first)
	waitUntil(t, s.ctx, "the first investigation finished", func() bool { _, running := s.stage(first); return !running })
	r := s.result(first)
	assert.Equal(t, workflows.OutcomeMitigated, r.Outcome)
	assert.Nil(t, r.Decision)
	assert.Equal(t, 1, s.sim.Counters().AgentActions[laptop]["disconnect"])

	// Second: kill and quarantine still run alone; the isolation hits the cap and waits.
	start(second)
	waitUntil(t, s.ctx, "the second investigation waits", func() bool {
		st, running := s.stage(second)
		return running && st == string(workflows.StageAwaitingApproval)
	})
	st := s.status(second)
	assert.Equal(t, []investigation.Action{investigation.ActionIsolate}, st.AwaitingApproval)
	assert.Contains(t, stepReason(st, investigation.ActionIsolate), "cap reached: 1 isolations in the last hour")
	assert.Contains(t, st.Plan.PolicyVersion, "2026-06-01.1 (sha256:")

	// Kill switch on: the third investigation runs nothing alone.
	_, err := s.control().SetKillSwitch(s.ctx, control.KillSwitchRequest{On: true, Actor: "ciso@example.com", Reason: "integration test"})
	require.NoError(t, err)
	start(third)
	waitUntil(t, s.ctx, "the third investigation waits", func() bool {
		st, running := s.stage(third)
		return running && st == string(workflows.StageAwaitingApproval)
	})
	st = s.status(third)
	assert.ElementsMatch(t, []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionIsolate}, st.AwaitingApproval)
	assert.Contains(t, stepReason(st, investigation.ActionKill), "kill switch is on")
	assert.Empty(t, s.sim.Counters().Mitigations[third], "nothing ran alone under the kill switch")

	cs, err := s.control().Current(s.ctx)
	require.NoError(t, err)
	assert.True(t, cs.KillSwitch)
	assert.Len(t, cs.Isolations, 1, "one isolation counted fleet-wide")
}

func (s *stack) status(threatID string) workflows.Status {
	v, err := s.c.QueryWorkflow(s.ctx, workflows.WorkflowID(threatID), "", workflows.StatusQuery)
	require.NoError(s.t, err)
	var st workflows.Status
	require.NoError(s.t, v.Get(&st))
	return st
}

func stepReason(st workflows.Status, a investigation.Action) string {
	if st.Plan == nil {
		return ""
	}
	for _, step := range st.Plan.Steps {
		if step.Action == a {
			return step.Reason
		}
	}
	return ""
}

// Under a policy without caps nothing is counted, so investigations do not queue on
// the control workflow with an Update each (its history stays short), and the kill
// switch still reaches new reservations within activities.ControlStateTTL.
func TestKillSwitchWithoutCapsNeedsNoUpdatePerInvestigation(t *testing.T) {
	s := newStack(t, stackOptions{}) // built-in auto policy: no caps
	const laptop, desktop = "1900000000000000002", "1900000000000000003"
	before, after := "1930000000000000011", "1930000000000000012"
	require.NoError(t, s.sim.AddThreat(macroThreat(before, laptop)))
	require.NoError(t, s.sim.AddThreat(macroThreat(after, desktop)))
	start := func(id string) {
		_, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
	}
	controlEvents := func() int {
		d, err := s.c.DescribeWorkflow(s.ctx, s.cfg.Temporal.ControlWorkflowID(), "")
		require.NoError(t, err)
		require.Equal(t, s.cfg.Temporal.ControlTaskQueue(), d.TaskQueueName, "the singleton has its own task queue")
		return d.HistoryLength
	}

	// Kill and quarantine run alone; isolation (high impact) waits for a human.
	start(before)
	waitUntil(t, s.ctx, "the first investigation waits for its isolation", func() bool {
		st, running := s.stage(before)
		return running && st == string(workflows.StageAwaitingApproval)
	})
	assert.Len(t, s.sim.Counters().Mitigations[before], 2, "kill and quarantine ran alone")
	idle := controlEvents()

	_, err := s.control().SetKillSwitch(s.ctx, control.KillSwitchRequest{On: true, Actor: "ciso@example.com", Reason: "integration test"})
	require.NoError(t, err)
	s.advance(activities.ControlStateTTL)
	start(after)
	waitUntil(t, s.ctx, "the second investigation waits", func() bool {
		st, running := s.stage(after)
		return running && st == string(workflows.StageAwaitingApproval)
	})
	st := s.status(after)
	assert.Contains(t, st.AwaitingApproval, investigation.ActionKill)
	assert.Contains(t, stepReason(st, investigation.ActionKill), "kill switch is on")
	assert.Empty(t, s.sim.Counters().Mitigations[after], "nothing ran alone under the kill switch")
	// The kill switch is the only Update the control workflow saw after the first
	// investigation: about 4 events (update accepted, completed, workflow task).
	assert.LessOrEqual(t, controlEvents()-idle, 6, "no Update per reservation")
}
