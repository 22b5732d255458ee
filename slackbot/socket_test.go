package slackbot_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

type ack struct {
	EnvelopeID string
	Payload    []any
}

// fakeAcker records acknowledgements, as socketmode.Client would send them.
type fakeAcker struct {
	mu   sync.Mutex
	acks []ack
}

func (f *fakeAcker) Ack(req socketmode.Request, payload ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, ack{req.EnvelopeID, payload})
	return nil
}

// envelope is a Socket Mode event as socketmode.Client emits it: the payload decoded
// into the type slack-go gives it, with its request (envelope).
func envelope(t *testing.T, typ socketmode.EventType, id string, payload any) socketmode.Event {
	t.Helper()
	raw, err := json.Marshal(payload)
	require.NoError(t, err)
	req := &socketmode.Request{Type: string(typ), EnvelopeID: id, Payload: raw}
	switch typ {
	case socketmode.EventTypeInteractive:
		var ic slack.InteractionCallback
		require.NoError(t, json.Unmarshal(raw, &ic))
		return socketmode.Event{Type: typ, Data: ic, Request: req}
	case socketmode.EventTypeSlashCommand:
		var cmd slack.SlashCommand
		require.NoError(t, json.Unmarshal(raw, &cmd))
		return socketmode.Event{Type: typ, Data: cmd, Request: req}
	}
	return socketmode.Event{Type: typ, Request: req}
}

// Socket Mode events reach the same handlers as HTTP requests, and each envelope is
// acknowledged with the handler's answer.
func TestSocketModeReachesTheSameHandler(t *testing.T) {
	h := newHarness(t)
	events := make(chan socketmode.Event, 8)
	events <- socketmode.Event{Type: socketmode.EventTypeConnecting}
	events <- socketmode.Event{Type: socketmode.EventTypeConnected}
	events <- envelope(t, socketmode.EventTypeInteractive, "env-1", click(alice, messages.ActionApprove, threatPending, "1700000100.000001"))
	events <- envelope(t, socketmode.EventTypeInteractive, "env-2",
		submission(alice, "V0X", messages.ModalApproveSome, meta(threatPending), nil, ""))
	events <- envelope(t, socketmode.EventTypeSlashCommand, "env-3",
		map[string]any{"team_id": team, "channel_id": channel, "user_id": alice, "command": "/s1copilot", "text": "help", "trigger_id": "t3"})
	events <- envelope(t, socketmode.EventTypeEventsAPI, "env-4", map[string]any{})
	close(events)
	acker := &fakeAcker{}
	require.NoError(t, h.bot.ServeSocketMode(context.Background(), events, acker))
	h.bot.Wait()

	require.Len(t, acker.acks, 4)
	assert.Equal(t, ack{EnvelopeID: "env-1"}, acker.acks[0], "a click is acknowledged with nothing")
	assert.Equal(t, "env-2", acker.acks[1].EnvelopeID)
	require.Len(t, acker.acks[1].Payload, 1)
	resp, ok := acker.acks[1].Payload[0].(*slack.ViewSubmissionResponse)
	require.True(t, ok, "%T", acker.acks[1].Payload[0])
	assert.Equal(t, slack.RAErrors, resp.ResponseAction)
	assert.Equal(t, "env-3", acker.acks[2].EnvelopeID)
	help, _ := json.Marshal(acker.acks[2].Payload[0])
	assert.JSONEq(t, `{"response_type":"ephemeral","text":`+mustJSON(slackbot.CommandUsage)+`}`, string(help))
	assert.Equal(t, ack{EnvelopeID: "env-4"}, acker.acks[3])

	rec := h.inv.Recorded()
	require.Len(t, rec, 1, "the click became a decision")
	require.NoError(t, h.verifySignature(rec[0]))
	assert.Len(t, h.ephemeralsTo(alice), 1)
}

func TestSocketModeInvalidAppToken(t *testing.T) {
	h := newHarness(t)
	events := make(chan socketmode.Event, 1)
	events <- socketmode.Event{Type: socketmode.EventTypeInvalidAuth}
	assert.ErrorIs(t, h.bot.ServeSocketMode(context.Background(), events, &fakeAcker{}), slackbot.ErrInvalidAppToken)
}

func TestSocketModeStopsWithContext(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, h.bot.ServeSocketMode(ctx, make(chan socketmode.Event), &fakeAcker{}))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
