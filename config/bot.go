package config

import "errors"

// Bot is what the Slack bot (starter slackbot) reads: Temporal, the Slack app, the
// policy file (identity.slackUsers, roles, killSwitchRoles) and the audit log. It
// needs no SentinelOne or model settings, so it does not load Config.
type Bot struct {
	Temporal   Temporal
	Slack      Slack
	PolicyFile string `envconfig:"POLICY_FILE" desc:"policy file (YAML); empty = the built-in policy"`
	AuditFile  string `envconfig:"AUDIT_FILE" desc:"append-only JSON-lines audit log; empty = standard output"`
	LogLevel   string `envconfig:"LOG_LEVEL" default:"info" desc:"debug | info | warn | error"`
}

// LoadBot reads the bot's settings and validates them (Slack.ValidateBot among them),
// reporting every problem at once.
func LoadBot() (Bot, error) {
	var b Bot
	problems := parseEach(&b)
	problems = append(problems, b.Temporal.loadProfile()...)
	b.Temporal.derive()
	problems = append(problems, b.Temporal.validate()...)
	var ve *Error
	if err := b.Slack.ValidateBot(); errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	}
	if b.Slack.BotPublicKey != "" && b.PolicyFile != "" {
		problems = append(problems, Prefix+"_SLACK_BOT_PUBLIC_KEY is for the built-in policy: with "+Prefix+"_POLICY_FILE, put the key in the policy's identity.slackBotKey")
	}
	switch b.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, Prefix+"_LOG_LEVEL must be one of debug, info, warn, error")
	}
	if len(problems) > 0 {
		return b, &Error{Problems: problems}
	}
	return b, nil
}

// Secrets are the bot's credentials, for the audit log to refuse.
func (b Bot) Secrets() []string {
	return []string{b.Slack.BotToken.Reveal(), b.Slack.SigningSecret.Reveal(), b.Slack.AppToken.Reveal()}
}
