package slackbot

import (
	"context"
	"errors"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"
)

// Acker acknowledges a Socket Mode envelope; *socketmode.Client is one.
type Acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

var _ Acker = (*socketmode.Client)(nil)

// ErrInvalidAppToken: Slack refused the app-level token of Socket Mode.
var ErrInvalidAppToken = errors.New("slack refused the app-level token (S1C_SLACK_APP_TOKEN)")

// ServeSocketMode handles the events of a Socket Mode connection
// (socketmode.Client.Events) until ctx ends or events is closed: interactions and
// slash commands go to the same handlers as over HTTP, and each envelope is
// acknowledged with the handler's answer at once. Socket Mode needs no public ingress;
// the connection, opened with the app-level token, is what authenticates Slack.
func (b *Bot) ServeSocketMode(ctx context.Context, events <-chan socketmode.Event, acker Acker) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case evt, ok := <-events:
			if !ok {
				return nil
			}
			if err := b.socketEvent(ctx, evt, acker); err != nil {
				return err
			}
		}
	}
}

func (b *Bot) socketEvent(ctx context.Context, evt socketmode.Event, acker Acker) error {
	log := b.o.Logger
	switch evt.Type {
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			log.Warn("Socket Mode interaction unreadable.")
			b.ack(evt, acker, nil)
			return nil
		}
		// HandleInteraction returns as soon as the answer is known; the decision follows.
		b.ack(evt, acker, b.HandleInteraction(ctx, ic))
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			log.Warn("Socket Mode slash command unreadable.")
			b.ack(evt, acker, nil)
			return nil
		}
		b.ack(evt, acker, b.HandleCommand(ctx, cmd))
	case socketmode.EventTypeEventsAPI:
		b.ack(evt, acker, nil) // the app subscribes to no event; acknowledge so Slack stops resending
	case socketmode.EventTypeConnecting:
		log.Info("Connecting to Slack (Socket Mode).")
	case socketmode.EventTypeConnected:
		log.Info("Connected to Slack (Socket Mode).")
	case socketmode.EventTypeHello, socketmode.EventTypeDisconnect:
		log.Debug("Socket Mode connection event.", zap.String("type", string(evt.Type)))
	case socketmode.EventTypeInvalidAuth:
		return ErrInvalidAppToken
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeErrorBadMessage:
		// The event's data may hold the raw message; only its kind is logged.
		log.Warn("Socket Mode error.", zap.String("type", string(evt.Type)))
	}
	return nil
}

func (b *Bot) ack(evt socketmode.Event, acker Acker, payload any) {
	if evt.Request == nil {
		return
	}
	var err error
	if payload == nil {
		err = acker.Ack(*evt.Request)
	} else {
		err = acker.Ack(*evt.Request, payload)
	}
	if err != nil {
		b.o.Logger.Warn("Socket Mode envelope not acknowledged.", zap.String("type", string(evt.Type)), zap.Error(err))
	}
}
