package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/workflows"
)

// fakeHunts plays a hunt through its stages, one per status read.
type fakeHunts struct {
	mu        sync.Mutex
	started   workflows.HuntInput
	confirmed *workflows.HuntConfirmation
	reads     int
}

func (f *fakeHunts) Start(_ context.Context, in workflows.HuntInput) error {
	f.started = in
	return nil
}

func (f *fakeHunts) status() workflows.HuntStatus {
	st := workflows.HuntStatus{ID: f.started.ID, Translation: hunt.Translation{Query: `SrcProcName ContainsCIS "powershell"`, Language: hunt.S1QL, Translator: "library", Explanation: "PowerShell", Notice: "No model translated this question."}}
	switch {
	case !f.started.Confirmed && f.confirmed == nil:
		st.Stage = workflows.HuntAwaitingRun
	case f.reads < 3:
		st.Stage, st.QueuePosition = workflows.HuntQueued, 2
	case f.reads < 5:
		st.Stage, st.Progress = workflows.HuntRunning, 50
	default:
		st.Stage, st.Outcome = workflows.HuntDone, workflows.HuntFinished
		st.Summary = &activities.HuntSummary{Events: 4, Hosts: 2, TopHosts: []activities.Count{{Value: "WS-1", Count: 3}}, JSONPath: "hunts/x.json", CSVPath: "hunts/x.csv"}
		st.FollowUps = []string{"Encoded PowerShell commands in the last 24 hours"}
	}
	return st
}

func (f *fakeHunts) Status(context.Context, string) (workflows.HuntStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.status(), nil
}

func (f *fakeHunts) Confirm(_ context.Context, _ string, c workflows.HuntConfirmation) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirmed = &c
	return "ok", nil
}

func (f *fakeHunts) Result(context.Context, string) (workflows.HuntStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status(), nil
}

func TestStarterHuntAsksThenShowsProgressAndResult(t *testing.T) {
	huntPoll = time.Millisecond
	f := &fakeHunts{}
	var out bytes.Buffer
	err := runHunt(context.Background(), f, []string{"suspicious", "PowerShell", "--as", "alice", "--since", "7d"}, strings.NewReader("y\n"), &out, time.Now)
	require.NoError(t, err)
	assert.Equal(t, "suspicious PowerShell", f.started.Question)
	assert.Equal(t, "alice", f.started.Actor)
	assert.Equal(t, 7*24*time.Hour, f.started.Since)
	assert.False(t, f.started.Confirmed)
	require.NotNil(t, f.confirmed)
	assert.Equal(t, workflows.HuntConfirmation{Run: true, By: "alice"}, *f.confirmed)
	s := out.String()
	for _, want := range []string{`SrcProcName ContainsCIS "powershell"`, "No model translated", "Run this query? [y/N]", "position 2", "running: 50%", "4 events on 2 hosts", "WS-1 (3)", "hunts/x.csv", `starter hunt "Encoded PowerShell commands in the last 24 hours"`} {
		assert.Contains(t, s, want)
	}
}

func TestStarterHuntYesSkipsTheQuestion(t *testing.T) {
	huntPoll = time.Millisecond
	f := &fakeHunts{}
	var out bytes.Buffer
	require.NoError(t, runHunt(context.Background(), f, []string{"--yes", "--as", "bob", "powershell"}, strings.NewReader(""), &out, time.Now))
	assert.True(t, f.started.Confirmed)
	assert.Nil(t, f.confirmed)
	assert.NotContains(t, out.String(), "Run this query?")
}

func TestStarterHuntArguments(t *testing.T) {
	_, err := huntArgs([]string{"--as", "a"})
	assert.ErrorContains(t, err, "needs a question")
	_, err = huntArgs([]string{"q", "--as", "a", "--since", "forever"})
	assert.ErrorContains(t, err, "--since")
}
