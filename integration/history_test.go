package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/worker"

	"github.com/s1copilot/s1copilot/workflows"
)

// replayAndMaybeSave replays the live history of an investigation against the current
// workflow code and, with S1C_UPDATE_HISTORIES=1, stores it as a replay fixture for
// workflows/replay_test.go, which guards determinism against future code changes.
func (s *stack) replayAndMaybeSave(t *testing.T, threatID, fixture string) {
	t.Helper()
	it := s.c.GetWorkflowHistory(s.ctx, workflows.WorkflowID(threatID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	r := worker.NewWorkflowReplayer()
	workflows.RegisterReplay(r)
	require.NoError(t, r.ReplayWorkflowHistory(nil, h), "replaying %s", threatID)

	if fixture == "" || os.Getenv("S1C_UPDATE_HISTORIES") == "" {
		return
	}
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", fixture), data, 0o644))
}
