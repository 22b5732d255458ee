// Package config loads s1copilot's settings from the environment and validates them,
// reporting every missing or invalid variable at once so a user fixes them in one go.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/policy"
)

// Prefix is the environment prefix of every s1copilot variable (S1C_...).
const Prefix = "S1C"

// Config is every setting of the worker and the poller.
type Config struct {
	S1URL   string `envconfig:"S1_URL" required:"true" desc:"SentinelOne console URL, e.g. https://usea1.sentinelone.net (region-specific)"`
	S1Token Secret `envconfig:"S1_TOKEN" required:"true" desc:"SentinelOne API token (service user)"`

	Temporal Temporal
	Slack    Slack

	LLMBaseURL string        `envconfig:"LLM_BASE_URL" desc:"OpenAI-compatible base URL (empty: api.openai.com)"`
	LLMAPIKey  Secret        `envconfig:"LLM_API_KEY" desc:"LLM API key"`
	LLMModel   string        `envconfig:"LLM_MODEL" desc:"model name; empty = no model, the rules engine analyses alone"`
	LLMTimeout time.Duration `envconfig:"LLM_TIMEOUT" default:"60s" desc:"timeout of one model call"`
	// WorkflowCacheSize bounds the investigations a worker keeps in memory between
	// workflow tasks (the SDK's sticky cache; 10,000 by default, about 100 KB each here).
	// Waiting investigations outside it cost nothing until they wake, then a replay
	// of their short history.
	WorkflowCacheSize int           `envconfig:"WORKFLOW_CACHE_SIZE" default:"1000" desc:"investigations a worker keeps cached in memory between workflow tasks (SDK sticky cache); the rest are replayed from history when they wake"`
	LLMPromptTokens   int           `envconfig:"LLM_PROMPT_TOKENS" default:"6000" desc:"budget of one analysis prompt in estimated tokens (3 bytes each, pessimistic); the threat's facts always go in, context is cut to fit; at least 2000 (0 = the default)"`
	LLMCacheTTL       time.Duration `envconfig:"LLM_CACHE_TTL" default:"1h" desc:"how long a model analysis is reused for threats with the same evidence fingerprint (outbreaks); 0 = off"`

	LLMPseudonymize bool `envconfig:"LLM_PSEUDONYMIZE" default:"false" desc:"true: the model sees host and user names as tokens (HOST-1, USER-1), reversed in the note"`

	PollInterval time.Duration `envconfig:"POLL_INTERVAL" default:"30s" desc:"how often the poller lists new threats"`
	PollOverlap  time.Duration `envconfig:"POLL_OVERLAP" default:"5m" desc:"how far back each poll re-reads, for threats that become visible late"`
	PollLookback time.Duration `envconfig:"POLL_LOOKBACK" default:"24h" desc:"how far back the very first poll reads (first-run backfill window)"`

	ScopeAccountIDs []string `envconfig:"SCOPE_ACCOUNT_IDS" desc:"comma-separated account IDs the poller is limited to (empty: all the token sees)"`
	ScopeSiteIDs    []string `envconfig:"SCOPE_SITE_IDS" desc:"comma-separated site IDs the poller is limited to"`
	ScopeGroupIDs   []string `envconfig:"SCOPE_GROUP_IDS" desc:"comma-separated group IDs the poller is limited to"`

	// WorkerS1Activities: SentinelOne's limits are per API token, and /agents allows a
	// burst of 1 (calls 40 ms apart). A rate over the whole task queue bounds the average,
	// not the spacing between two processes, so only a limiter inside the one process that
	// makes every call keeps that spacing.
	WorkerS1Activities bool `envconfig:"WORKER_S1_ACTIVITIES" default:"true" desc:"whether this worker runs the activities that call SentinelOne (S1C_S1_TASK_QUEUE); with several workers, keep it true on exactly one and set false on the others (README, Scaling)"`

	S1ActivitiesPerSecond float64 `envconfig:"S1_ACTIVITIES_PER_SECOND" default:"100" desc:"fleet-wide rate of SentinelOne activities (Temporal task-queue limit): a backstop; the exact limits are the per-class ones of the one worker that runs them, which also coalesces concurrent calls into shared requests"`
	// S1CoalesceWindow is how long a SentinelOne call waits for concurrent calls of its
	// kind to share one request (package coalesce); 0 sends each alone.
	S1CoalesceWindow time.Duration `envconfig:"S1_COALESCE_WINDOW" default:"25ms" desc:"how long a SentinelOne read or write waits for concurrent ones of its kind to share one request (0 sends each alone; at most 1s)"`
	// S1CoalesceBurstWindow is the longer wait of SentinelOne calls during a burst (calls
	// of a kind about two threats within it), when an outbreak's investigations reach
	// the same step spread over seconds.
	S1CoalesceBurstWindow time.Duration `envconfig:"S1_COALESCE_BURST_WINDOW" default:"1s" desc:"how long a SentinelOne read or write waits for company during a burst: calls of its kind about two different threats or agents within this window (0 or at most S1C_S1_COALESCE_WINDOW: never longer than that; at most 5s)"`
	// S1RateScale multiplies the documented SentinelOne limits the client paces itself by,
	// for a tenant whose limits SentinelOne raised (raise S1ActivitiesPerSecond with it).
	S1RateScale float64 `envconfig:"S1_RATE_SCALE" default:"1" desc:"multiplier of the documented SentinelOne API rate limits the client keeps under, for a tenant whose limits SentinelOne has raised; raise S1C_S1_ACTIVITIES_PER_SECOND in proportion"`

	PushAddr      string      `envconfig:"PUSH_ADDR" desc:"address of the push-ingest endpoint in the poller (e.g. :8443); empty = off"`
	PushSecret    Secret      `envconfig:"PUSH_SECRET" desc:"shared secret of the push-ingest endpoint (bearer token or HMAC-SHA256 key, at least 32 characters)"`
	PolicyMode    policy.Mode `envconfig:"POLICY_MODE" default:"auto" desc:"recommend | approve | auto"`
	MinConfidence float64     `envconfig:"MIN_CONFIDENCE" default:"0.8" desc:"minimum analysis confidence for automatic actions"`

	PolicyFile string `envconfig:"POLICY_FILE" desc:"policy file (YAML, see policy/examples/policy.yaml); empty = the built-in policy from S1C_POLICY_MODE and S1C_MIN_CONFIDENCE; reloaded when it changes"`
	// ForensicsScripts gives the built-in policy its forensic-collection scripts; a
	// policy file has its own forensics section.
	ForensicsScripts string `envconfig:"FORENSICS_SCRIPTS" desc:"forensic collection scripts of the built-in policy, os=scriptID,… (windows, windows_legacy, linux, macos; IDs from the console's RemoteOps library); empty = collect_forensics is never offered. With S1C_POLICY_FILE use its forensics section"`
	KillSwitch       bool   `envconfig:"KILL_SWITCH" default:"false" desc:"true turns every automatic action into an approval (also: starter kill-switch on)"`
	AuditFile        string `envconfig:"AUDIT_FILE" desc:"append-only JSON-lines audit log; empty = standard output"`
	HuntDir          string `envconfig:"HUNT_DIR" default:"hunts" desc:"directory where the SentinelOne worker writes each hunt's events (<hunt id>.json and .csv)"`

	Report Report

	Handoff Handoff

	ApprovalTimeout   time.Duration `envconfig:"APPROVAL_TIMEOUT" default:"24h" desc:"how long an investigation waits for a human; then it takes no action"`
	MitigationTimeout time.Duration `envconfig:"MITIGATION_TIMEOUT" default:"15m" desc:"how long to wait for a mitigation to settle before reporting it as timed out"`
	MitigationPoll    time.Duration `envconfig:"MITIGATION_POLL" default:"10s" desc:"interval between mitigation status checks"`

	LogLevel   string `envconfig:"LOG_LEVEL" default:"info" desc:"debug | info | warn | error"`
	HealthAddr string `envconfig:"HEALTH_ADDR" desc:"address of the /healthz and /readyz probes of the worker and of the poller (starter poll), e.g. :8081; the worker serves /metrics there too; empty = off"`
	// TemporalUnavailableExit: the SDK retries its polls forever, so a process whose
	// server is gone for good would otherwise live on doing nothing. Exiting makes the
	// outage visible (CrashLoopBackOff) and retries the connection from scratch.
	TemporalUnavailableExit time.Duration `envconfig:"TEMPORAL_UNAVAILABLE_EXIT" default:"10m" desc:"the worker and the poller exit non-zero when Temporal has been unreachable, or has refused every task poll, for this long; 0 = keep retrying forever"`
}

// MinLLMPromptTokens is llm.MinPromptTokens (config does not import llm).
const MinLLMPromptTokens = 2000

// MaxLLMTimeout bounds one model call: an analysis may make two (the answer and one
// correction) within the analysis activity's 3-minute timeout.
const MaxLLMTimeout = 80 * time.Second

// MaxCoalesceWindow bounds S1C_S1_COALESCE_WINDOW: the wait is paid by every
// SentinelOne call, a lone threat's included.
const MaxCoalesceWindow = time.Second

// MaxCoalesceBurstWindow bounds S1C_S1_COALESCE_BURST_WINDOW: paid by each write of an
// outbreak's investigations, beside their minutes to containment.
const MaxCoalesceBurstWindow = 5 * time.Second

// Secret is a string that never prints itself, so it cannot leak through logs or errors.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the secret for the one place that needs it (an Authorization header).
func (s Secret) Reveal() string { return string(s) }

// Load reads the environment and validates the result, reporting every unparsable,
// missing or invalid variable in one error.
func Load() (Config, error) {
	var c Config
	problems := parseEach(&c)
	problems = append(problems, c.Temporal.loadProfile()...)
	c.Temporal.derive()
	if err := c.Validate(); err != nil {
		var ve *Error
		if errors.As(err, &ve) {
			problems = append(problems, ve.Problems...)
		}
	}
	if len(problems) > 0 {
		return c, &Error{Problems: problems}
	}
	return c, nil
}

// Validate checks every setting and reports all problems together.
func (c Config) Validate() error {
	var p []string
	if err := validateS1URL(c.S1URL); err != nil {
		p = append(p, Prefix+"_S1_URL "+err.Error())
	}
	if strings.TrimSpace(c.S1Token.Reveal()) == "" {
		p = append(p, Prefix+"_S1_TOKEN is required")
	}
	p = append(p, c.Temporal.validate()...)
	p = append(p, c.Slack.validate()...)
	if c.Slack.BotPublicKey != "" && c.PolicyFile != "" {
		p = append(p, Prefix+"_SLACK_BOT_PUBLIC_KEY is for the built-in policy: with "+Prefix+"_POLICY_FILE, put the key in the policy's identity.slackBotKey")
	}
	if c.ForensicsScripts != "" && c.PolicyFile != "" {
		p = append(p, Prefix+"_FORENSICS_SCRIPTS is for the built-in policy: with "+Prefix+"_POLICY_FILE, set the policy's forensics.scripts")
	}
	if _, err := policy.ParseForensicsScripts(c.ForensicsScripts); err != nil {
		p = append(p, Prefix+"_FORENSICS_SCRIPTS "+err.Error())
	}
	if c.LLMBaseURL != "" {
		if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, fmt.Sprintf("%s_LLM_BASE_URL %q must be an http(s) URL", Prefix, c.LLMBaseURL))
		}
		if c.LLMModel == "" {
			p = append(p, Prefix+"_LLM_MODEL is required when "+Prefix+"_LLM_BASE_URL is set")
		}
	}
	if c.LLMTimeout <= 0 || c.LLMTimeout > MaxLLMTimeout {
		// An analysis may ask twice (one correction); both must fit its activity timeout.
		p = append(p, fmt.Sprintf("%s_LLM_TIMEOUT %s must be positive and at most %s", Prefix, c.LLMTimeout, MaxLLMTimeout))
	}
	if c.S1RateScale < 0 {
		p = append(p, fmt.Sprintf("%s_S1_RATE_SCALE %g must not be negative (1 = the documented limits)", Prefix, c.S1RateScale))
	}
	if c.WorkflowCacheSize < 0 {
		p = append(p, fmt.Sprintf("%s_WORKFLOW_CACHE_SIZE %d must not be negative (0 = the SDK's default)", Prefix, c.WorkflowCacheSize))
	}
	if c.LLMPromptTokens != 0 && c.LLMPromptTokens < MinLLMPromptTokens {
		p = append(p, fmt.Sprintf("%s_LLM_PROMPT_TOKENS %d must be at least %d (the system prompt and the threat's own facts need that much)", Prefix, c.LLMPromptTokens, MinLLMPromptTokens))
	}
	if c.LLMCacheTTL < 0 {
		p = append(p, Prefix+"_LLM_CACHE_TTL must not be negative")
	}
	if c.PollInterval < time.Second {
		p = append(p, fmt.Sprintf("%s_POLL_INTERVAL %s must be at least 1s", Prefix, c.PollInterval))
	}
	if c.PollOverlap < 0 {
		p = append(p, Prefix+"_POLL_OVERLAP must not be negative")
	}
	if c.PollLookback <= 0 {
		p = append(p, Prefix+"_POLL_LOOKBACK must be positive")
	}
	if c.S1CoalesceWindow < 0 || c.S1CoalesceWindow > MaxCoalesceWindow {
		p = append(p, fmt.Sprintf("%s_S1_COALESCE_WINDOW %s must be between 0 (off) and %s: every SentinelOne call may wait this long", Prefix, c.S1CoalesceWindow, MaxCoalesceWindow))
	}
	if c.S1CoalesceBurstWindow < 0 || c.S1CoalesceBurstWindow > MaxCoalesceBurstWindow {
		p = append(p, fmt.Sprintf("%s_S1_COALESCE_BURST_WINDOW %s must be between 0 (no longer wait in a burst) and %s: each call of an outbreak may wait this long", Prefix, c.S1CoalesceBurstWindow, MaxCoalesceBurstWindow))
	}
	if c.S1ActivitiesPerSecond <= 0 {
		p = append(p, Prefix+"_S1_ACTIVITIES_PER_SECOND must be positive")
	}
	if c.PushAddr != "" && len(c.PushSecret.Reveal()) < 32 {
		p = append(p, Prefix+"_PUSH_SECRET must be at least 32 characters when "+Prefix+"_PUSH_ADDR is set")
	}
	if !c.PolicyMode.Valid() {
		p = append(p, fmt.Sprintf("%s_POLICY_MODE %q must be one of recommend, approve, auto", Prefix, c.PolicyMode))
	}
	if c.MinConfidence < 0 || c.MinConfidence > 1 {
		p = append(p, fmt.Sprintf("%s_MIN_CONFIDENCE %v must be between 0 and 1", Prefix, c.MinConfidence))
	}
	if c.ApprovalTimeout <= 0 {
		p = append(p, Prefix+"_APPROVAL_TIMEOUT must be positive")
	}
	if c.MitigationTimeout <= 0 {
		p = append(p, Prefix+"_MITIGATION_TIMEOUT must be positive")
	}
	if c.MitigationPoll <= 0 || c.MitigationPoll > c.MitigationTimeout {
		p = append(p, Prefix+"_MITIGATION_POLL must be positive and below "+Prefix+"_MITIGATION_TIMEOUT")
	}
	p = append(p, c.Report.validate()...)
	p = append(p, c.Handoff.validate()...)
	if c.TemporalUnavailableExit < 0 {
		p = append(p, Prefix+"_TEMPORAL_UNAVAILABLE_EXIT must not be negative (0 = never exit)")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("%s_LOG_LEVEL %q must be one of debug, info, warn, error", Prefix, c.LogLevel))
	}
	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: p}
}

// Secrets are the credentials this configuration holds, for sinks that must refuse
// to write them (the audit log).
func (c Config) Secrets() []string {
	return []string{c.S1Token.Reveal(), c.LLMAPIKey.Reveal(), c.PushSecret.Reveal(), c.Slack.BotToken.Reveal(), c.Slack.SigningSecret.Reveal(), c.Slack.AppToken.Reveal()}
}

// LLMConfigured reports whether a model should be asked at all.
func (c Config) LLMConfigured() bool { return c.LLMModel != "" }

// Error lists every configuration problem found.
type Error struct{ Problems []string }

func (e *Error) Error() string {
	return fmt.Sprintf("config: %d problem(s):\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// validateS1URL insists on https for real consoles; plain http is allowed only on
// loopback, where the simulator runs, so a token never crosses a network in clear.
func validateS1URL(raw string) error {
	if raw == "" {
		return errors.New("is required (your console URL, e.g. https://usea1.sentinelone.net)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL; expected e.g. https://usea1.sentinelone.net", raw)
	}
	if u.User != nil {
		return errors.New("must not contain credentials; put the token in " + Prefix + "_S1_TOKEN")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q must use https (plain http is only allowed for a simulator on loopback)", raw)
	default:
		return fmt.Errorf("%q must be an https URL", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
