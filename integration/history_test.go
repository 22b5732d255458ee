package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/worker"

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
	it := s.c.GetWorkflowHistory(s.ctx, workflows.WorkflowID(threatID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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
	h := s.history(t, threatID)
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
