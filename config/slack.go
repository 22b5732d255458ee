package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/identity"
)

// Slack is the Slack app's settings: the worker posts and updates the investigation
// messages (BotToken, Channel, Post), the bot (starter slackbot) receives the clicks and
// slash commands. Every Slack secret is a Secret.
type Slack struct {
	BotToken      Secret `envconfig:"SLACK_BOT_TOKEN" desc:"Slack bot token (xoxb-…); empty = no Slack messages"`
	SigningSecret Secret `envconfig:"SLACK_SIGNING_SECRET" desc:"Slack app signing secret: every request from Slack is verified with it (starter slackbot)"`
	AppToken      Secret `envconfig:"SLACK_APP_TOKEN" desc:"Slack app-level token (xapp-…): set it to use Socket Mode (no public ingress) instead of HTTP (starter slackbot)"`
	Channel       string `envconfig:"SLACK_CHANNEL" desc:"channel ID the investigations post in, e.g. C0123456789"`
	Post          string `envconfig:"SLACK_POST" default:"pending" desc:"which investigations post: all | pending (a decision waits for a human) | priority:<low|medium|high|critical> (that priority or higher, and every pending one)"`
	// RetryFor bounds each Slack call of an investigation: past it the message is
	// given up (the note says so), the investigation never waits on Slack.
	RetryFor   time.Duration `envconfig:"SLACK_RETRY_FOR" default:"2m" desc:"how long the worker retries one Slack call (post, update, reply) while Slack is down or rate-limiting, before the investigation gives up on its message (it never waits for Slack otherwise)"`
	ListenAddr string        `envconfig:"SLACK_LISTEN_ADDR" default:":3000" desc:"address the bot serves Slack's requests on, over HTTP mode (/slack/interactions, /slack/commands)"`
	// DecisionKeyFile: the bot signs the decisions it makes for Slack users, so that the
	// investigation can tell a Slack approval from a claimed one (package identity).
	DecisionKeyFile string `envconfig:"SLACK_DECISION_KEY_FILE" desc:"the bot's ed25519 private key (PEM; starter keygen); its public key is the policy's identity.slackBotKey"`
	// BotPublicKey is for the built-in policy, which has no file to hold it.
	BotPublicKey string `envconfig:"SLACK_BOT_PUBLIC_KEY" desc:"the Slack bot's public key (ed25519:…, starter keygen prints it) when the built-in policy is used; with S1C_POLICY_FILE put it in the policy's identity.slackBotKey instead"`
	APIURL       string `envconfig:"SLACK_API_URL" desc:"Slack Web API base URL; empty = https://slack.com/api/ (the demo and tests point it at a fake)"`
	// EscalationMention is put in escalation replies, e.g. <!subteam^S0123ABCD> for a
	// user group, so the right people are paged.
	EscalationMention string `envconfig:"SLACK_ESCALATION_MENTION" desc:"mention in escalation replies, e.g. <!subteam^S0123ABCD> (a user group) or <@U0123ABCD>"`
	// WebUIURL and ConsoleURL make the message's links.
	WebUIURL   string `envconfig:"WEB_UI_URL" desc:"Temporal Web UI base URL for links to investigations, e.g. https://cloud.temporal.io or http://127.0.0.1:8233"`
	ConsoleURL string `envconfig:"S1_CONSOLE_URL" desc:"SentinelOne console URL for links to threats; empty = S1C_S1_URL"`
}

// Enabled says whether the worker posts to Slack.
func (s Slack) Enabled() bool { return s.BotToken != "" }

// APIBase is the Slack Web API base URL, ending in a slash as slack-go expects.
func (s Slack) APIBase() string {
	if s.APIURL == "" {
		return "https://slack.com/api/"
	}
	return strings.TrimSuffix(s.APIURL, "/") + "/"
}

// validate checks what the worker needs when Slack is on; the bot checks its own with
// ValidateBot.
func (s Slack) validate() []string {
	var p []string
	if !s.Enabled() {
		return nil
	}
	if s.Channel == "" {
		p = append(p, Prefix+"_SLACK_CHANNEL is required with "+Prefix+"_SLACK_BOT_TOKEN: the channel ID investigations post in")
	}
	if s.BotPublicKey != "" {
		if _, err := identity.ParsePublicKey(s.BotPublicKey); err != nil {
			p = append(p, Prefix+"_SLACK_BOT_PUBLIC_KEY: "+err.Error())
		}
	}
	if s.RetryFor < 5*time.Second {
		p = append(p, Prefix+"_SLACK_RETRY_FOR must be at least 5s")
	}
	if _, err := ParseSlackPost(s.Post); err != nil {
		p = append(p, Prefix+"_SLACK_POST: "+err.Error())
	}
	for _, u := range []struct{ name, v string }{{"SLACK_API_URL", s.APIURL}, {"WEB_UI_URL", s.WebUIURL}, {"S1_CONSOLE_URL", s.ConsoleURL}} {
		if u.v == "" {
			continue
		}
		if pu, err := url.Parse(u.v); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			p = append(p, fmt.Sprintf("%s_%s %q must be an http(s) URL", Prefix, u.name, u.v))
		}
	}
	return p
}

// ValidateBot checks what starter slackbot needs, every problem at once.
func (s Slack) ValidateBot() error {
	var p []string
	if s.BotToken == "" {
		p = append(p, Prefix+"_SLACK_BOT_TOKEN is required (the bot answers, opens modals and reads users' e-mails with it)")
	}
	if s.SigningSecret == "" && s.AppToken == "" {
		p = append(p, Prefix+"_SLACK_SIGNING_SECRET is required over HTTP (or set "+Prefix+"_SLACK_APP_TOKEN for Socket Mode)")
	}
	if s.AppToken == "" {
		if _, _, err := net.SplitHostPort(s.ListenAddr); err != nil {
			p = append(p, fmt.Sprintf("%s_SLACK_LISTEN_ADDR %q must be host:port", Prefix, s.ListenAddr))
		}
	}
	if s.DecisionKeyFile == "" {
		p = append(p, Prefix+"_SLACK_DECISION_KEY_FILE is required: the bot signs the decisions it makes for Slack users (starter keygen makes a key)")
	}
	if len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}

// SlackPost is which investigations post a message.
type SlackPost struct {
	// All: every triaged investigation.
	All bool
	// MinPriority: investigations of this priority or higher (besides pending ones).
	MinPriority string
}

// ParseSlackPost reads S1C_SLACK_POST. Every investigation with a pending decision
// posts whatever it says: that is what the bot is for.
func ParseSlackPost(s string) (SlackPost, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); {
	case v == "all":
		return SlackPost{All: true}, nil
	case v == "" || v == "pending":
		return SlackPost{}, nil
	case strings.HasPrefix(v, "priority:"):
		p := strings.TrimPrefix(v, "priority:")
		switch p {
		case "low", "medium", "high", "critical":
			return SlackPost{MinPriority: p}, nil
		}
		return SlackPost{}, fmt.Errorf("%q: the priority is one of low, medium, high, critical", s)
	}
	return SlackPost{}, fmt.Errorf("%q is not one of all, pending, priority:<low|medium|high|critical>", s)
}
