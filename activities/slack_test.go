package activities

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/slackbot/messages"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
)

// acts names the activity methods.
var acts *Activities

func slackActivities(t *testing.T) (*testsuite.TestActivityEnvironment, *fakeslack.Server) {
	fake := fakeslack.New("xoxb-test")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(&Activities{Slack: messages.NewPoster("xoxb-test", srv.URL+"/api/", nil)})
	return env, fake
}

func TestSlackRateLimitsAreRetriedAfterRetryAfter(t *testing.T) {
	env, fake := slackActivities(t)
	fake.RateLimit(1, 4*time.Second)
	in := SlackPostInput{Channel: "C0SOC", Card: messages.Card{WorkflowID: "s1-threat/t1", ThreatID: "t1"}}
	_, err := env.ExecuteActivity(acts.PostSlackMessage, in)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	assert.Equal(t, 4*time.Second, app.NextRetryDelay(), "Slack's Retry-After is honoured")
	assert.False(t, app.NonRetryable())

	v, err := env.ExecuteActivity(acts.PostSlackMessage, in)
	require.NoError(t, err)
	var ts string
	require.NoError(t, v.Get(&ts))
	assert.NotEmpty(t, ts)
}

func TestSlackRefusalsAreNotRetried(t *testing.T) {
	env, _ := slackActivities(t)
	_, err := env.ExecuteActivity(acts.UpdateSlackMessage, SlackUpdateInput{Channel: "C0SOC", TS: "1.2", Card: messages.Card{WorkflowID: "s1-threat/t1"}})
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	assert.True(t, app.NonRetryable(), "message_not_found: no retry changes it")
	assert.Equal(t, ErrTypeSlack, app.Type())

	var ts testsuite.WorkflowTestSuite
	off := ts.NewTestActivityEnvironment()
	off.RegisterActivity(&Activities{})
	_, err = off.ExecuteActivity(acts.PostSlackMessage, SlackPostInput{Channel: "C0SOC"})
	require.True(t, errors.As(err, &app))
	assert.True(t, app.NonRetryable(), "a worker without a token says so at once")
}
