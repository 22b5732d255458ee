// Package slackbot is the Slack bot's inbound side (starter slackbot): it receives
// Slack's requests — over HTTP, each verified before it is parsed, or over Socket Mode —
// turns approvers' clicks on an investigation's message into decisions it signs for
// them, and answers the /s1copilot slash command.
//
// Both transports call one handler (HandleInteraction, HandleCommand), which answers
// at once and does the slow part (Temporal, Slack's Web API) afterwards, because Slack
// wants an answer within 3 seconds. Whether an approver may decide is the
// investigation's to say, as for the CLI: the bot only establishes who the Slack user is
// (the policy's identity.slackUsers, else their e-mail) and vouches for it with its key.
// Every request it handles, refused ones included, leaves an audit record.
package slackbot

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/workflows"
)

// Investigations is what the bot does with investigations; workflows.Investigations
// is the real one.
type Investigations interface {
	Approve(ctx context.Context, threatID string, d workflows.Decision, o workflows.DecideOptions) (string, error)
	Reject(ctx context.Context, threatID string, d workflows.Decision, o workflows.DecideOptions) (string, error)
	Status(ctx context.Context, threatID string) (workflows.Status, error)
	Pending(ctx context.Context, f workflows.PendingFilter) ([]workflows.PendingInvestigation, error)
}

var _ Investigations = workflows.Investigations{}

// KillSwitch turns the fleet-wide kill switch on or off; control.Client is the real one.
type KillSwitch interface {
	SetKillSwitch(ctx context.Context, r control.KillSwitchRequest) (control.State, error)
}

var _ KillSwitch = control.Client{}

// PolicySource serves the policy in force; *policy.Store (the reloaded policy file) is one.
type PolicySource interface {
	Current() (*policy.Policy, error)
}

var _ PolicySource = (*policy.Store)(nil)

// StaticPolicy is a policy that never changes (the built-in one, tests).
type StaticPolicy struct{ Policy *policy.Policy }

// Current returns the policy.
func (s StaticPolicy) Current() (*policy.Policy, error) { return s.Policy, nil }

// Defaults of Options.
const (
	// DefaultWorkTimeout bounds what a request sets off after Slack got its answer; it
	// leaves room for workflows.DecideTimeout and the messages that follow.
	DefaultWorkTimeout = 30 * time.Second
	// triggerBudget bounds what must happen before a modal opens: its trigger_id
	// expires 3 seconds after the click.
	triggerBudget = 2 * time.Second
)

// Options configure a Bot.
type Options struct {
	// Slack calls the Web API (users.info, views.open, chat.postEphemeral) with the bot token.
	Slack          *slack.Client
	Investigations Investigations
	// Hunts may be nil: /s1copilot hunt then says it is not available.
	Hunts Hunts
	// KillSwitch may be nil: /s1copilot kill-switch then says it is not available.
	KillSwitch KillSwitch
	Policy     PolicySource
	Audit      audit.Sink
	// Key signs the decisions the bot makes for Slack users; its public key is the
	// policy's identity.slackBotKey.
	Key ed25519.PrivateKey
	// SigningSecret verifies HTTP requests (Handler); Socket Mode needs none.
	SigningSecret config.Secret
	Logger        *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WorkTimeout bounds the work a request sets off; 0 means DefaultWorkTimeout.
	WorkTimeout time.Duration
	// ResponseHosts are hosts a slash command's response_url may name besides
	// hooks.slack.com (a fake Slack in tests and the demo).
	ResponseHosts []string
}

// Bot handles Slack's requests. Make it with New.
type Bot struct {
	o      Options
	replay *replayCache
	work   sync.WaitGroup
}

// New checks o and returns the bot.
func New(o Options) (*Bot, error) {
	var missing []string
	if o.Slack == nil {
		missing = append(missing, "Slack")
	}
	if o.Investigations == nil {
		missing = append(missing, "Investigations")
	}
	if o.Policy == nil {
		missing = append(missing, "Policy")
	}
	if o.Audit == nil {
		missing = append(missing, "Audit")
	}
	if len(o.Key) != ed25519.PrivateKeySize {
		missing = append(missing, "Key (an ed25519 private key)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("slackbot: missing %v", missing)
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WorkTimeout <= 0 {
		o.WorkTimeout = DefaultWorkTimeout
	}
	return &Bot{o: o, replay: newReplayCache()}, nil
}

// PublicKey is the public half of the bot's key (the policy's identity.slackBotKey).
func (b *Bot) PublicKey() ed25519.PublicKey { return b.o.Key.Public().(ed25519.PublicKey) }

// Wait waits for the work set off by the requests handled so far (each bounded by
// WorkTimeout): a stopping process lets decisions under way finish.
func (b *Bot) Wait() { b.work.Wait() }

// spawn runs f after the caller has answered Slack: detached from the request's
// context, which ends with the answer, and bounded by WorkTimeout.
func (b *Bot) spawn(ctx context.Context, what string, f func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.o.WorkTimeout)
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				b.o.Logger.Error("Slack request handler panicked.", zap.String("what", what), zap.Any("panic", r))
			}
		}()
		f(ctx)
	}()
}

// policy returns the policy in force; a file that became invalid keeps the last valid
// one (policy.Store), which is logged.
func (b *Bot) policy() (*policy.Policy, error) {
	p, err := b.o.Policy.Current()
	if p == nil {
		if err == nil {
			err = errors.New("no policy loaded")
		}
		return nil, fmt.Errorf("reading the policy: %w", err)
	}
	if err != nil {
		b.o.Logger.Warn("Policy file invalid; using the last valid policy.", zap.Error(err))
	}
	return p, nil
}
