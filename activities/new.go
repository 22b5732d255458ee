package activities

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// New wires the activities from the configuration.
func New(cfg config.Config, opts ...s1client.Option) (*Activities, error) {
	if cfg.S1RateScale > 0 && cfg.S1RateScale != 1 {
		opts = append([]s1client.Option{s1client.WithRateLimits(s1client.ScaledRateLimits(cfg.S1RateScale))}, opts...)
	}
	s1, err := s1client.New(cfg.S1URL, cfg.S1Token.Reveal(), opts...)
	if err != nil {
		return nil, fmt.Errorf("SentinelOne client: %w", err)
	}
	acts := &Activities{
		S1:                s1,
		Rules:             rules.New(),
		verifyReads:       sharedReads{window: VerifyReadShare},
		CoalesceWindow:    cfg.S1CoalesceWindow,
		BurstWindow:       cfg.S1CoalesceBurstWindow,
		ControlWorkflowID: cfg.Temporal.ControlWorkflowID(),
		Settings: Settings{
			Policy:            policy.Default(cfg.PolicyMode, cfg.MinConfidence),
			ApprovalTimeout:   cfg.ApprovalTimeout,
			MitigationTimeout: cfg.MitigationTimeout,
			MitigationPoll:    cfg.MitigationPoll,
			S1TaskQueue:       cfg.Temporal.S1TaskQueue,
			KillSwitch:        cfg.KillSwitch,
			EncryptedPayloads: cfg.Temporal.Codec.Enabled(),
		},
	}
	if scripts, _ := policy.ParseForensicsScripts(cfg.ForensicsScripts); len(scripts) > 0 { // validated with the configuration
		acts.Settings.Policy = acts.Settings.Policy.WithForensics(policy.Forensics{Scripts: scripts})
	}
	if k := cfg.Slack.BotPublicKey; k != "" {
		acts.Settings.Policy = acts.Settings.Policy.WithSlackBotKey(k)
	}
	if cfg.PolicyFile != "" {
		store, err := policy.NewStore(cfg.PolicyFile, time.Now)
		if err != nil {
			return nil, err // a policy file that does not parse stops the worker, with every problem listed
		}
		acts.Policies = store
		acts.Settings.Policy, _ = store.Current()
	}
	acts.Hunter = Hunter{
		Library: NewHuntLibrary(), Check: HuntCheck, Dir: cfg.HuntDir,
		Settings: HuntSettings{
			S1TaskQueue: cfg.Temporal.S1TaskQueue, GateWorkflowID: cfg.Temporal.DVGateWorkflowID(), GateTaskQueue: cfg.Temporal.TaskQueue,
			GateSpacing: DefaultHuntSpacing, MaxEvents: DefaultHuntMaxEvents,
		},
	}
	if cfg.LLMConfigured() {
		ht, err := llm.NewHuntTranslator(llm.OpenAIConfig{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey.Reveal(), Model: cfg.LLMModel, Timeout: cfg.LLMTimeout}, HuntCheck)
		if err != nil {
			return nil, fmt.Errorf("LLM client: %w", err)
		}
		acts.Hunter.Model = ht
		m, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey.Reveal(), Model: cfg.LLMModel, Timeout: cfg.LLMTimeout,
			PromptTokens: cfg.LLMPromptTokens, Pseudonymize: cfg.LLMPseudonymize})
		if err != nil {
			return nil, fmt.Errorf("LLM client: %w", err)
		}
		acts.Model = m
		if cfg.LLMCacheTTL > 0 {
			acts.Cache = llm.NewCache(m, cfg.LLMCacheTTL, 10000, time.Now)
		}
	}
	if cfg.Handoff.Enabled() {
		acts.Handoff = &handoff.Sender{URL: cfg.Handoff.URL, Secret: []byte(cfg.Handoff.Secret.Reveal())}
		acts.Settings.Handoff = &HandoffSettings{RetryFor: cfg.Handoff.RetryFor}
		acts.Settings.Handoff.InvestigationURL, acts.Settings.Handoff.ThreatURL = linkTemplates(cfg)
	}
	if cfg.Slack.Enabled() {
		acts.Slack = messages.NewPoster(cfg.Slack.BotToken.Reveal(), cfg.Slack.APIBase(), nil)
		acts.Settings.Slack = slackSettings(cfg)
	}
	return acts, nil
}

// slackSettings are what an investigation needs to post: the channel, which
// investigations post, and the link templates ({workflowId}, {threatId}).
func slackSettings(cfg config.Config) *SlackSettings {
	post, _ := config.ParseSlackPost(cfg.Slack.Post) // validated with the configuration
	s := &SlackSettings{Channel: cfg.Slack.Channel, PostAll: post.All, MinPriority: post.MinPriority, EscalationMention: cfg.Slack.EscalationMention, RetryFor: cfg.Slack.RetryFor}
	s.InvestigationURL, s.ThreatURL = linkTemplates(cfg)
	return s
}

// linkTemplates are the links to an investigation in the Web UI ({workflowId}) and to
// a threat in the console ({threatId}); empty when not configured.
func linkTemplates(cfg config.Config) (investigation, threat string) {
	if cfg.Slack.WebUIURL != "" {
		investigation = strings.TrimSuffix(cfg.Slack.WebUIURL, "/") + "/namespaces/" + url.PathEscape(cfg.Temporal.Namespace) + "/workflows/{workflowId}"
	}
	if console := cmp.Or(cfg.Slack.ConsoleURL, cfg.S1URL); console != "" {
		threat = strings.TrimSuffix(console, "/") + "/incidents/threats/{threatId}/overview"
	}
	return investigation, threat
}
