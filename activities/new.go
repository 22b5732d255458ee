package activities

import (
	"fmt"
	"time"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/s1client"
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
		ControlWorkflowID: cfg.Temporal.ControlWorkflowID(),
		Settings: Settings{
			Policy:            policy.Default(cfg.PolicyMode, cfg.MinConfidence),
			ApprovalTimeout:   cfg.ApprovalTimeout,
			MitigationTimeout: cfg.MitigationTimeout,
			MitigationPoll:    cfg.MitigationPoll,
			S1TaskQueue:       cfg.Temporal.S1TaskQueue,
			KillSwitch:        cfg.KillSwitch,
		},
	}
	if cfg.PolicyFile != "" {
		store, err := policy.NewStore(cfg.PolicyFile, time.Now)
		if err != nil {
			return nil, err // a policy file that does not parse stops the worker, with every problem listed
		}
		acts.Policies = store
		acts.Settings.Policy, _ = store.Current()
	}
	if cfg.LLMConfigured() {
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
	return acts, nil
}
