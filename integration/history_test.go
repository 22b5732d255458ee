package integration

import (
	"context"
	"github.com/s1copilot/s1copilot/activities"
	"go.temporal.io/sdk/converter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/worker"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/workflows"
)

// replayAndMaybeSave replays the live history of an investigation against the current
// workflow code and, with S1C_UPDATE_HISTORIES=1, stores it as a replay fixture for
// workflows/replay_test.go, which guards determinism against future code changes.
// historyText renders an investigation's whole history as searchable text: the events as
// JSON plus every payload decoded (payloads are base64 inside the JSON), so a test can
// prove a secret appears nowhere in it.
func (s *stack) historyText(t *testing.T, threatID string) string {
	t.Helper()
	h := s.history(t, threatID)
	data, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(h)
	require.NoError(t, err)
	var sb strings.Builder
	sb.Write(data)
	err = proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				sb.Write(p.GetData())
				sb.WriteByte('\n')
			}
			return ps, nil
		},
	})
	require.NoError(t, err)
	return sb.String()
}

func (s *stack) history(t *testing.T, threatID string) *historypb.History {
	t.Helper()
	return s.historyOf(t, workflows.WorkflowID(threatID))
}

// historyOf is the history of any workflow of the stack (a hunt, the DV gate).
func (s *stack) historyOf(t *testing.T, workflowID string) *historypb.History {
	t.Helper()
	it := s.c.GetWorkflowHistory(s.ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

func (s *stack) replayAndMaybeSave(t *testing.T, threatID, fixture string) {
	t.Helper()
	s.replayWorkflowAndMaybeSave(t, workflows.WorkflowID(threatID), fixture)
}

// replayWorkflowAndMaybeSave is replayAndMaybeSave for any workflow ID.
func (s *stack) replayWorkflowAndMaybeSave(t *testing.T, workflowID, fixture string) {
	t.Helper()
	h := s.historyOf(t, workflowID)
	r := worker.NewWorkflowReplayer()
	workflows.RegisterReplay(r)
	require.NoError(t, workflows.ReplayHistory(r, h), "replaying %s", workflowID)

	if fixture == "" || os.Getenv("S1C_UPDATE_HISTORIES") == "" {
		return
	}
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", fixture), data, 0o644))
}

// TestBaselineHistories runs one investigation down each road of the runbook on a real
// dev server and keeps its history as a replay fixture (`make histories`): automatic
// containment, approved, rejected, approval timed out, a rollback that never settles,
// and a recommendation only (the model path with context is recorded by
// TestEndToEndWithAModel). workflows/replay_test.go replays them against every change.
func TestBaselineHistories(t *testing.T) {
	s := newStack(t, stackOptions{config: func(c *config.Config) { c.ApprovalTimeout = 20 * time.Second }})
	const laptop = "1900000000000000002"
	auto, polled := "1940000000000000001", "1940000000000000002"
	require.NoError(t, s.sim.AddThreat(newThreat(auto, laptop))) // malicious on a laptop: kill and quarantine, alone
	require.NoError(t, s.sim.AddThreat(newThreat(polled, laptop)))
	// As the poller starts it: with its snapshot of the threat.
	th, err := s.acts.S1.GetThreat(s.ctx, polled)
	require.NoError(t, err)
	snapshot := activities.ThreatFacts(th)
	roads := []struct {
		threat, fixture string
		decide          func(threatID string)
		outcome         workflows.Outcome
		hint            workflows.StartHint
	}{
		{auto, "auto.json", nil, workflows.OutcomeMitigated, workflows.StartHint{}},
		{polled, "auto-from-snapshot.json", nil, workflows.OutcomeMitigated, workflows.StartHint{Snapshot: &snapshot}},
		{"1910000000000000002", "approved.json", s.approve, workflows.OutcomeMitigated, workflows.StartHint{}},          // macro dropper: isolation approved
		{"1910000000000000004", "rejected.json", s.reject, workflows.OutcomeRejected, workflows.StartHint{}},            // miner on a server
		{"1910000000000000001", "approval-timeout.json", nil, workflows.OutcomeApprovalTimedOut, workflows.StartHint{}}, // ransomware on a server: nobody decides
		{"1910000000000000005", "rollback-never-settles.json", s.approve, workflows.OutcomePartiallyMitigated, workflows.StartHint{}},
		{"1910000000000000003", "recommend-only.json", nil, workflows.OutcomeRecommended, workflows.StartHint{}}, // signed adware
	}
	var ids []string
	for _, r := range roads {
		started, err := s.inv.Start(s.ctx, r.threat, r.hint)
		require.NoError(t, err)
		require.True(t, started)
		ids = append(ids, r.threat)
	}
	decided := map[string]bool{}
	waitUntil(t, s.ctx, "every road reached its end", func() bool {
		for _, r := range roads {
			if st, running := s.stage(r.threat); running && st == string(workflows.StageAwaitingApproval) && r.decide != nil && !decided[r.threat] {
				r.decide(r.threat)
				decided[r.threat] = true
			}
		}
		return !s.anyRunning(ids)
	})
	for _, r := range roads {
		assert.Equal(t, r.outcome, s.result(r.threat).Outcome, "outcome of %s", r.fixture)
		s.replayAndMaybeSave(t, r.threat, r.fixture)
	}
	// The polled road's first run enriched from the snapshot: the activity was told
	// not to read the threat again.
	var in activities.EnrichInput
	for _, ev := range s.historyOf(t, workflows.WorkflowID(polled)).Events {
		if at := ev.GetActivityTaskScheduledEventAttributes(); at != nil && at.GetActivityType().GetName() == "EnrichFromSnapshot" {
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(at.GetInput(), &in))
		}
	}
	require.NotNil(t, in.Snapshot, "the polled investigation enriched from its snapshot")
	assert.False(t, in.ReadAgain, "its first run trusts the poller's read")
}

// approve approves every pending action through the client API, as an analyst would.
func (s *stack) approve(threatID string) {
	_, err := s.inv.Approve(s.ctx, threatID, workflows.Decision{Approver: "it-analyst", Reason: "integration test"}, workflows.DecideOptions{})
	require.NoError(s.t, err)
}

func (s *stack) reject(threatID string) {
	_, err := s.inv.Reject(s.ctx, threatID, workflows.Decision{Approver: "it-analyst", Reason: "not on this server"}, workflows.DecideOptions{})
	require.NoError(s.t, err)
}
