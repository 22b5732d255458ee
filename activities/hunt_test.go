package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/s1client"
)

type failingModel struct{}

func (failingModel) Translate(context.Context, hunt.Request) (hunt.Translation, error) {
	return hunt.Translation{}, errors.New("llm: provider returned HTTP 503")
}

func (failingModel) FollowUps(context.Context, hunt.Translation, string) ([]string, error) {
	return nil, errors.New("down")
}

// A model that fails does not fail the hunt: the library answers, and says why.
func TestTranslateHuntFallsBackToTheLibrary(t *testing.T) {
	a := &Activities{Hunter: Hunter{Model: failingModel{}, Library: NewHuntLibrary(), Check: HuntCheck}}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	v, err := env.ExecuteActivity(a.TranslateHunt, TranslateHuntInput{Request: hunt.Request{Question: "suspicious PowerShell", Now: now}, Since: 72 * time.Hour})
	require.NoError(t, err)
	var tr hunt.Translation
	require.NoError(t, v.Get(&tr))
	assert.Equal(t, "library", tr.Translator)
	assert.Contains(t, tr.Notice, "HTTP 503")
	assert.Equal(t, now.Add(-72*time.Hour), tr.From, "--since wins")
	res, err := a.CheckHunt(context.Background(), tr, now)
	require.NoError(t, err)
	assert.Empty(t, res.Refusal)

	_, err = env.ExecuteActivity(a.TranslateHunt, TranslateHuntInput{Request: hunt.Request{Question: "what is the weather", Now: now}})
	assert.ErrorContains(t, err, "named hunt")

	v, err = env.ExecuteActivity(a.SuggestFollowUps, FollowUpsInput{Translation: tr})
	require.NoError(t, err)
	var qs []string
	require.NoError(t, v.Get(&qs))
	assert.Len(t, qs, 3)
}

func TestHuntFilesAndSummary(t *testing.T) {
	dir := t.TempDir()
	w, err := newHuntFiles(dir, "h-1")
	require.NoError(t, err)
	var s summarizer
	for _, ev := range []s1client.DVEvent{
		{EventType: "Process Creation", EndpointName: "WS-1", SrcProcName: "powershell.exe", SrcProcCmdLine: "powershell -enc AAA"},
		{EventType: "Process Creation", EndpointName: "WS-1", SrcProcName: "powershell.exe", SrcProcCmdLine: "powershell -enc AAA"},
		{EventType: "IP Connect", EndpointName: "WS-2", SrcProcName: "powershell.exe", DstIP: "203.0.113.5", DstPort: "443"},
	} {
		s.add(ev)
		require.NoError(t, w.write(ev))
	}
	jp, cp, err := w.commit()
	require.NoError(t, err)
	sum := s.summary()
	assert.Equal(t, 3, sum.Events)
	assert.Equal(t, 2, sum.Hosts)
	assert.Equal(t, []Count{{"WS-1", 2}, {"WS-2", 1}}, sum.TopHosts)
	assert.Equal(t, []Count{{"203.0.113.5:443", 1}}, sum.TopDestinations)
	assert.Equal(t, filepath.Join(dir, "h-1.json"), jp)
	csv, err := os.ReadFile(cp)
	require.NoError(t, err)
	assert.Contains(t, string(csv), "powershell -enc AAA")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 2, "no temporary file is left")

	_, err = huntFileName("../etc/passwd")
	assert.Error(t, err)
}
