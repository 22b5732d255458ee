package slackbot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
	"github.com/s1copilot/s1copilot/workflows"
)

type fakeHunts struct {
	mu      sync.Mutex
	started []workflows.HuntInput
}

func (f *fakeHunts) Start(_ context.Context, in workflows.HuntInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, in)
	return nil
}

func (f *fakeHunts) Result(_ context.Context, id string) (workflows.HuntStatus, error) {
	return workflows.HuntStatus{ID: id, Outcome: workflows.HuntFinished,
		Translation: hunt.Translation{Query: `SrcProcName ContainsCIS "powershell"`, Translator: "library", Explanation: "PowerShell <!channel>"},
		Summary:     &activities.HuntSummary{Events: 5, Hosts: 2, JSONPath: "hunts/x.json", CSVPath: "hunts/x.csv"},
		FollowUps:   []string{"Encoded PowerShell commands in the last 24 hours"}}, nil
}

func (f *fakeHunts) Started() []workflows.HuntInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]workflows.HuntInput(nil), f.started...)
}

// /s1copilot hunt starts a hunt asked by the Slack user (a signed request), answers at
// once, and posts the result through the response_url.
func TestHuntCommand(t *testing.T) {
	h := newHarness(t)
	h.slash(alice, "hunt suspicious PowerShell in the last 24 hours")
	var answers []fakeslack.Response
	require.Eventually(t, func() bool { answers = h.slack.Responses(); return len(answers) >= 2 }, 5*time.Second, 10*time.Millisecond)
	started := h.hunts.Started()
	require.Len(t, started, 1)
	assert.Equal(t, "suspicious PowerShell in the last 24 hours", started[0].Question)
	assert.Equal(t, alice, started[0].Actor)
	assert.Equal(t, "slack", started[0].Channel)
	assert.True(t, strings.HasPrefix(started[0].ID, "h-slack-"))
	assert.Contains(t, answers[0].Text, "Hunting `"+started[0].ID+"`")
	result := answers[len(answers)-1]
	assert.Equal(t, "ephemeral", result.ResponseType)
	for _, want := range []string{"finished", `ContainsCIS`, "5 events on 2 hosts", "hunts/x.csv", "/s1copilot hunt Encoded PowerShell"} {
		assert.Contains(t, result.Text, want)
	}
	assert.NotContains(t, result.Text, "<!channel>", "model and endpoint text is escaped")

	ack, _ := h.slash(alice, "hunt")
	assert.Contains(t, ack["text"], "Say what to hunt for")
}
