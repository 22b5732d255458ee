package integration

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/config"
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
	// Until the simulator evaluates S1QL (branch huntlang), every event in the window
	// matches; the assertions below hold either way.
	assert.Positive(t, res.Summary.Events)
	for _, p := range []string{res.Summary.JSONPath, res.Summary.CSVPath} {
		assert.True(t, strings.HasPrefix(p, dir), p)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotEmpty(t, b)
	}
	assert.NotEmpty(t, res.FollowUps)
	assert.Contains(t, s.audit.String(), `"id":"s1-hunt/`+id+`/outcome"`)
	assert.Contains(t, s.audit.String(), `"kind":"hunt"`)
}
