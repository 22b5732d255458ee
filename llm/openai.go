package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/s1copilot/s1copilot/investigation"
)

const (
	defaultBaseURL = "https://api.openai.com/v1/"
	defaultTimeout = 60 * time.Second
	// maxSummaryRunes keeps the model's prose small: it travels through Temporal
	// history and into S1 notes.
	maxSummaryRunes = 2000
	redacted        = "[REDACTED]"
)

// OpenAIConfig configures the OpenAI analyzer. It redacts APIKey whenever it is
// formatted, marshalled or logged.
type OpenAIConfig struct {
	BaseURL string        // any OpenAI-compatible base URL (OpenAI, Azure OpenAI-compatible, Ollama, vLLM); "" = the openai default
	APIKey  string        // may be empty for local servers that need none
	Model   string        // required
	Timeout time.Duration // per request; 0 = 60s
}

func (c OpenAIConfig) redactedCopy() OpenAIConfig {
	if c.APIKey != "" {
		c.APIKey = redacted
	}
	return c
}

// String formats the config without the key.
func (c OpenAIConfig) String() string {
	r := c.redactedCopy()
	return fmt.Sprintf("{BaseURL:%s APIKey:%s Model:%s Timeout:%s}", r.BaseURL, r.APIKey, r.Model, r.Timeout)
}

// GoString keeps %#v from printing the key.
func (c OpenAIConfig) GoString() string { return "llm.OpenAIConfig" + c.String() }

// Format makes every fmt verb (including %+v and %x) go through String.
func (c OpenAIConfig) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, c.GoString())
		return
	}
	_, _ = fmt.Fprint(f, c.String())
}

// MarshalJSON keeps reflection-based loggers from printing the key.
func (c OpenAIConfig) MarshalJSON() ([]byte, error) {
	type plain OpenAIConfig // drops the methods, avoiding recursion
	return json.Marshal(plain(c.redactedCopy()))
}

// LogValue keeps slog from printing the key.
func (c OpenAIConfig) LogValue() slog.Value {
	r := c.redactedCopy()
	return slog.GroupValue(
		slog.String("baseURL", r.BaseURL), slog.String("apiKey", r.APIKey),
		slog.String("model", r.Model), slog.Duration("timeout", r.Timeout))
}

// OpenAI analyzes threats with a model behind an OpenAI-compatible
// chat-completions API, using structured output (a strict JSON schema).
// It makes exactly one HTTP request per Analyze: retries belong to the caller
// (Temporal), which sees every attempt and its back-off.
type OpenAI struct {
	client  openai.Client
	model   string
	baseURL string // for display only, userinfo removed
	timeout time.Duration
	// hideKey redacts the key from provider messages that echo it. The key lives
	// in a closure, not a string field, so even %+v of an OpenAI value cannot print it.
	hideKey func(string) string
}

var _ Analyzer = (*OpenAI)(nil)

// NewOpenAI validates cfg and builds the client.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	var problems []string
	if strings.TrimSpace(cfg.Model) == "" {
		problems = append(problems, "model is required")
	}
	if cfg.Timeout < 0 {
		problems = append(problems, fmt.Sprintf("timeout %s is negative", cfg.Timeout))
	}
	base := cfg.BaseURL
	if base == "" {
		// Explicit, so the SDK cannot pick up OPENAI_BASE_URL from the environment
		// and send our key somewhere the configuration never named.
		base = defaultBaseURL
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		problems = append(problems, "base URL is not a valid URL") // the URL itself may hold credentials
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, fmt.Sprintf("base URL %q must be an absolute http(s) URL", u.Redacted()))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("llm: invalid OpenAI config: %s", strings.Join(problems, "; "))
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	client := openai.NewClient(
		option.WithBaseURL(base),
		// Always set, even when empty, so OPENAI_API_KEY from the environment does not
		// leak into requests to a server the configuration named.
		option.WithAPIKey(cfg.APIKey),
		// Temporal owns retries; hidden SDK retries would multiply its attempts and
		// hide 429s from its back-off.
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	)
	return &OpenAI{
		client:  client,
		model:   cfg.Model,
		baseURL: u.Redacted(),
		timeout: timeout,
		hideKey: keyRedactor(cfg.APIKey),
	}, nil
}

// Name is the Analysis.Analyzer value: "openai:<model>".
func (o *OpenAI) Name() string { return "openai:" + o.model }

// String describes the analyzer without the key.
func (o *OpenAI) String() string {
	return fmt.Sprintf("llm.OpenAI{model=%s baseURL=%s timeout=%s}", o.model, o.baseURL, o.timeout)
}

// GoString keeps %#v from dumping the client (and the key).
func (o *OpenAI) GoString() string { return o.String() }

// Format makes every fmt verb go through String, since %+v on a struct would
// otherwise print unexported fields, the key among them.
func (o *OpenAI) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, o.String()) }

// modelOutput is the JSON the schema asks for.
type modelOutput struct {
	KeyEvidence        []string `json:"key_evidence"`
	Verdict            *string  `json:"verdict"`
	Confidence         *float64 `json:"confidence"`
	Priority           *string  `json:"priority"`
	Summary            *string  `json:"summary"`
	RecommendedActions []string `json:"recommended_actions"`
	MITRETechniques    []string `json:"mitre_techniques"`
}

// responseSchema is the strict JSON schema of modelOutput. key_evidence comes
// first on purpose: models emit properties in schema order, so they cite the
// evidence before committing to a verdict.
func responseSchema() map[string]any {
	strEnum := func(vals ...string) map[string]any {
		return map[string]any{"type": "string", "enum": vals}
	}
	verdicts := make([]string, len(investigation.Verdicts))
	for i, v := range investigation.Verdicts {
		verdicts[i] = string(v)
	}
	priorities := make([]string, len(investigation.Priorities))
	for i, p := range investigation.Priorities {
		priorities[i] = string(p)
	}
	actions := make([]string, len(investigation.Actions))
	for i, a := range investigation.Actions {
		actions[i] = string(a)
	}
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"key_evidence": map[string]any{
				"type":        "array",
				"description": "the few facts from the evidence that drove the verdict, each short",
				"items":       map[string]any{"type": "string"},
			},
			"verdict":    strEnum(verdicts...),
			"confidence": map[string]any{"type": "number", "minimum": 0, "maximum": 1},
			"priority":   strEnum(priorities...),
			"summary":    map[string]any{"type": "string"},
			"recommended_actions": map[string]any{
				"type":  "array",
				"items": strEnum(actions...),
			},
			"mitre_techniques": map[string]any{
				"type":  "array",
				"items": map[string]any{"type": "string", "pattern": `^T\d{4}(\.\d{3})?$`},
			},
		},
		"required":             []string{"key_evidence", "verdict", "confidence", "priority", "summary", "recommended_actions", "mitre_techniques"},
		"additionalProperties": false,
	}
}

// Analyze asks the model for an analysis of ev. Errors: *ProviderError for HTTP
// errors, ErrInvalidOutput (wrapped) for unusable answers, otherwise a wrapped
// transport error or context error (retryable at the caller).
func (o *OpenAI) Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	params := openai.ChatCompletionNewParams{
		Model: shared.ChatModel(o.model),
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(systemPrompt),
			openai.UserMessage(userPrompt(ev, newBoundary())),
		},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
					Name:        "threat_analysis",
					Description: openai.String("Triage of one SentinelOne threat"),
					Strict:      openai.Bool(true),
					Schema:      responseSchema(),
				},
			},
		},
	}

	var httpResp *http.Response
	completion, err := o.client.Chat.Completions.New(ctx, params, option.WithResponseInto(&httpResp))
	if err != nil {
		return investigation.Analysis{}, fmt.Errorf("llm: %s analyzing threat %s: %w", o.Name(), ev.Facts.ThreatID, o.classify(err, httpResp))
	}
	a, err := o.toAnalysis(completion)
	if err != nil {
		return investigation.Analysis{}, fmt.Errorf("llm: %s analyzing threat %s: %w", o.Name(), ev.Facts.ThreatID, err)
	}
	return a, nil
}

// classify turns an SDK error into a ProviderError when the server answered with
// an HTTP error, and otherwise returns the (redacted) transport error.
func (o *OpenAI) classify(err error, resp *http.Response) error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		var h http.Header
		if apiErr.Response != nil {
			h = apiErr.Response.Header
		}
		// The *openai.Error is deliberately not wrapped: it carries the request,
		// Authorization header included.
		return &ProviderError{
			StatusCode: apiErr.StatusCode,
			Message:    o.redact(apiErr.Message),
			RetryAfter: retryAfter(h, time.Now()),
		}
	}
	// Defensive: should the SDK fail to decode an error body (a proxy's HTML page,
	// say) and return a plain error, the HTTP status still decides.
	if resp != nil && resp.StatusCode >= 400 {
		return &ProviderError{
			StatusCode: resp.StatusCode,
			Message:    http.StatusText(resp.StatusCode) + " (error body not in OpenAI format)",
			RetryAfter: retryAfter(resp.Header, time.Now()),
		}
	}
	return o.redactErr(err)
}

var keyLikeRE = regexp.MustCompile(`sk-[A-Za-z0-9_*\-]{6,}`)

// redact removes the API key, and anything shaped like an OpenAI key (OpenAI
// echoes a masked key on 401), from a provider message, and bounds its length.
func (o *OpenAI) redact(s string) string {
	s = o.hideKey(s)
	s = keyLikeRE.ReplaceAllString(s, redacted)
	return truncate(clean(s), 512)
}

// redactErr returns err unchanged unless its message contains the key.
func (o *OpenAI) redactErr(err error) error {
	msg := err.Error()
	if hidden := o.hideKey(msg); hidden != msg {
		return &redactedError{msg: hidden, err: err}
	}
	return err
}

func keyRedactor(key string) func(string) string {
	return func(s string) string {
		if key == "" {
			return s
		}
		return strings.ReplaceAll(s, key, redacted)
	}
}

// redactedError keeps errors.Is/As working (e.g. context.DeadlineExceeded)
// while its message hides the key.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// toAnalysis decodes and validates the model's answer. A model, or a server that
// ignores response_format, can return anything, so nothing is trusted.
func (o *OpenAI) toAnalysis(c *openai.ChatCompletion) (investigation.Analysis, error) {
	if c == nil || len(c.Choices) == 0 {
		return investigation.Analysis{}, fmt.Errorf("%w: the response has no choices", ErrInvalidOutput)
	}
	choice := c.Choices[0]
	if r := strings.TrimSpace(choice.Message.Refusal); r != "" {
		return investigation.Analysis{}, fmt.Errorf("%w: the model refused: %s", ErrInvalidOutput, truncate(clean(r), 300))
	}
	switch choice.FinishReason {
	case "length":
		return investigation.Analysis{}, fmt.Errorf("%w: the answer was cut off (finish_reason length)", ErrInvalidOutput)
	case "content_filter":
		return investigation.Analysis{}, fmt.Errorf("%w: the answer was blocked by the provider's content filter", ErrInvalidOutput)
	}
	content := stripCodeFence(choice.Message.Content)
	if content == "" {
		return investigation.Analysis{}, fmt.Errorf("%w: the answer is empty (finish_reason %q)", ErrInvalidOutput, choice.FinishReason)
	}

	var out modelOutput
	dec := json.NewDecoder(strings.NewReader(content))
	if err := dec.Decode(&out); err != nil {
		return investigation.Analysis{}, fmt.Errorf("%w: the answer is not the expected JSON object: %v", ErrInvalidOutput, err)
	}

	var problems []string
	for name, missing := range map[string]bool{
		"verdict": out.Verdict == nil, "confidence": out.Confidence == nil,
		"priority": out.Priority == nil, "summary": out.Summary == nil,
	} {
		if missing {
			problems = append(problems, "required field "+name+" is missing")
		}
	}
	slices.Sort(problems) // map order is random; keep messages stable

	a := investigation.Analysis{
		Verdict:         investigation.Verdict(deref(out.Verdict)),
		Confidence:      derefFloat(out.Confidence),
		Priority:        investigation.Priority(deref(out.Priority)),
		Summary:         summaryWithEvidence(deref(out.Summary), out.KeyEvidence),
		MITRETechniques: dedupe(out.MITRETechniques),
		Analyzer:        o.Name(),
	}
	seen := map[investigation.Action]bool{}
	for _, s := range out.RecommendedActions {
		act := investigation.Action(s)
		if !seen[act] {
			seen[act] = true
			a.RecommendedActions = append(a.RecommendedActions, act)
		}
	}
	// Carry out order (kill before isolate), whatever order the model chose.
	slices.SortStableFunc(a.RecommendedActions, func(x, y investigation.Action) int {
		return actionIndex(x) - actionIndex(y)
	})

	if err := a.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return investigation.Analysis{}, fmt.Errorf("%w: %s", ErrInvalidOutput, strings.Join(problems, "; "))
	}
	return a, nil
}

// stripCodeFence tolerates servers that wrap JSON in a markdown code block when
// they do not support structured output.
func stripCodeFence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:] // drop the language tag line
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	return strings.TrimSpace(s)
}

func summaryWithEvidence(summary string, evidence []string) string {
	s := clean(summary)
	var ev []string
	for _, e := range evidence {
		if e = truncate(clean(e), 200); e != "" {
			ev = append(ev, e)
		}
		if len(ev) == 5 {
			break
		}
	}
	if s != "" && len(ev) > 0 {
		s += " Key evidence: " + strings.Join(ev, "; ") + "."
	}
	return truncate(s, maxSummaryRunes)
}

func actionIndex(a investigation.Action) int {
	if i := slices.Index(investigation.Actions, a); i >= 0 {
		return i
	}
	return len(investigation.Actions) // unknown actions last; Validate reports them
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefFloat(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
