package llm

import (
	"cmp"
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

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/rules"
)

const (
	defaultBaseURL = "https://api.openai.com/v1/"
	defaultTimeout = 60 * time.Second
	redacted       = "[REDACTED]"
)

// OpenAIConfig configures the OpenAI analyzer. It redacts APIKey whenever it is
// formatted, marshalled or logged.
type OpenAIConfig struct {
	BaseURL string        // any OpenAI-compatible base URL (OpenAI, Azure OpenAI-compatible, Ollama, vLLM); "" = the openai default
	APIKey  string        // may be empty for local servers that need none
	Model   string        // required
	Timeout time.Duration // per request; 0 = 60s
	// PromptTokens bounds each prompt (estimated); 0 = DefaultPromptTokens.
	PromptTokens int
	// Pseudonymize replaces host and user names by tokens (HOST-1, USER-1) in what
	// the model is sent, and restores them in its answer (see guard.Pseudonymize).
	Pseudonymize bool
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
// HTTP and transport errors are never retried inside Analyze: retries belong to
// the caller (Temporal), which sees every attempt and its back-off. The only
// second request is a correction: an answer that fails validation is sent back
// once with its problems (see Analyze).
type OpenAI struct {
	client  openai.Client
	model   string
	baseURL string // for display only, userinfo removed
	timeout time.Duration
	// promptTokens bounds each prompt (estimated tokens).
	promptTokens int
	// hideKey redacts the key from provider messages that echo it. The key lives
	// in a closure, not a string field, so even %+v of an OpenAI value cannot print it.
	hideKey func(string) string
	// pseudonymize: see OpenAIConfig.Pseudonymize.
	pseudonymize bool
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
	if cfg.PromptTokens != 0 && cfg.PromptTokens < MinPromptTokens {
		problems = append(problems, fmt.Sprintf("prompt budget %d tokens is below the minimum %d", cfg.PromptTokens, MinPromptTokens))
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
		client:       client,
		model:        cfg.Model,
		baseURL:      u.Redacted(),
		timeout:      timeout,
		promptTokens: cmp.Or(cfg.PromptTokens, DefaultPromptTokens),
		hideKey:      keyRedactor(cfg.APIKey),

		pseudonymize: cfg.Pseudonymize,
	}, nil
}

// Name is the Analysis.Analyzer value: "openai:<model>".
func (o *OpenAI) Name() string { return "openai:" + o.model }

// Pseudonymizes reports whether the model is shown tokens instead of host and
// user names (OpenAIConfig.Pseudonymize).
func (o *OpenAI) Pseudonymizes() bool { return o.pseudonymize }

// String describes the analyzer without the key.
func (o *OpenAI) String() string {
	return fmt.Sprintf("llm.OpenAI{model=%s baseURL=%s timeout=%s}", o.model, o.baseURL, o.timeout)
}

// GoString keeps %#v from dumping the client (and the key).
func (o *OpenAI) GoString() string { return o.String() }

// Format makes every fmt verb go through String, since %+v on a struct would
// otherwise print unexported fields, the key among them.
func (o *OpenAI) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, o.String()) }

// modelOutput is the JSON the schema asks for. Pointers and nil slices tell a
// missing (or null) property from an empty one.
type modelOutput struct {
	KeyEvidence        []string      `json:"key_evidence"`
	AttackTimeline     []modelStep   `json:"attack_timeline"`
	Verdict            *string       `json:"verdict"`
	Confidence         *float64      `json:"confidence"`
	Priority           *string       `json:"priority"`
	Summary            *string       `json:"summary"`
	MITRETechniques    []string      `json:"mitre_techniques"`
	RecommendedActions []string      `json:"recommended_actions"`
	ActionReasons      []modelReason `json:"action_reasons"`
	OpenQuestions      []string      `json:"open_questions"`
}

type modelStep struct {
	Step      *string `json:"step"`
	Evidence  *string `json:"evidence"`
	Technique *string `json:"technique"`
}

type modelReason struct {
	Action *string `json:"action"`
	Reason *string `json:"reason"`
}

// Bounds on the model's lists and prose: analyses travel through Temporal
// history and into S1 notes (the summary and open questions are bounded by
// guard.MaxSummaryRunes and guard.MaxOpenQuestions).
const (
	maxAttackSteps    = 20
	maxItemRunes      = 300
	maxPreviousAnswer = 20000 // runes of a rejected answer sent back for correction
)

// member is one property of an orderedObject.
type member struct {
	Key   string
	Value any
}

// orderedObject is a JSON object that keeps its keys in order. A Go map would
// marshal its keys sorted, and models emit properties in schema order.
type orderedObject []member

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (o orderedObject) keys() []string {
	out := make([]string, len(o))
	for i, m := range o {
		out[i] = m.Key
	}
	return out
}

// strictObject is a strict-mode object schema: every property required, no others.
func strictObject(props orderedObject) map[string]any {
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             props.keys(),
		"additionalProperties": false,
	}
}

// responseSchema is the strict JSON schema of modelOutput. The properties are
// sent in order on purpose: models emit them in schema order, so they cite the
// evidence and lay out the attack before committing to a verdict, and give
// their reasons right after the actions.
func responseSchema() map[string]any {
	strEnum := func(vals ...string) map[string]any {
		return map[string]any{"type": "string", "enum": vals}
	}
	strArray := func(description string) map[string]any {
		return map[string]any{"type": "array", "description": description, "items": map[string]any{"type": "string"}}
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
	return strictObject(orderedObject{
		{"key_evidence", strArray("the few facts from the evidence that drove the verdict, each short")},
		{"attack_timeline", map[string]any{
			"type":        "array",
			"description": "the attack as ordered steps, earliest first, each citing its evidence",
			"items": strictObject(orderedObject{
				{"step", map[string]any{"type": "string", "description": "what happened, one sentence"}},
				{"evidence", map[string]any{"type": "string", "description": "a field name shown in the data (e.g. command_line) or an exact quote of at least 4 characters from the fenced data"}},
				{"technique", map[string]any{"type": "string", "description": `the MITRE ATT&CK ID this step demonstrates, or ""`, "pattern": `^(T\d{4}(\.\d{3})?)?$`}},
			}),
		}},
		{"verdict", strEnum(verdicts...)},
		{"confidence", map[string]any{"type": "number", "minimum": 0, "maximum": 1}},
		{"priority", strEnum(priorities...)},
		{"summary", map[string]any{"type": "string"}},
		{"mitre_techniques", map[string]any{
			"type":  "array",
			"items": map[string]any{"type": "string", "pattern": `^T\d{4}(\.\d{3})?$`},
		}},
		{"recommended_actions", map[string]any{
			"type":  "array",
			"items": strEnum(actions...),
		}},
		{"action_reasons", map[string]any{
			"type":        "array",
			"description": "exactly one entry per recommended action",
			"items": strictObject(orderedObject{
				{"action", strEnum(actions...)},
				{"reason", map[string]any{"type": "string"}},
			}),
		}},
		{"open_questions", strArray("what a human should find out that the evidence cannot settle")},
	})
}

// Analyze asks the model for an analysis of ev and validates the answer against
// the schema and the evidence (see guard.CheckGrounding). An answer that fails
// validation is sent back once, with its problems, for a corrected answer
// (Analysis.Corrected then reports it); so Analyze makes one HTTP request, or
// two when the first answer is invalid. HTTP and transport errors are never
// retried here: retries belong to the caller (Temporal).
//
// When the evidence carries suspected prompt injection (guard.DetectInjection),
// the valid answer is held to what the rules analyzer supports and carries the
// flags in InjectionFlags (see guard.AgainstInjection).
//
// With pseudonymisation on, the model is sent a copy of ev whose host and user
// names are tokens; its answer is validated and grounding-checked against that
// copy (it cites what it saw), then the real names are put back in every text
// of the analysis (and of errors and correction notes, which reach the note),
// and Analysis.Pseudonymized is set (when the evidence had a name to hide). The injection guard runs on the real ev.
//
// Errors: *ProviderError for HTTP errors, ErrInvalidOutput (wrapped) for
// unusable answers, otherwise a wrapped transport error or context error
// (retryable at the caller).
//
// The returned Analysis always carries Usage (requests, tokens from each
// response's usage, latency), summed over the correction round trip; on error
// it is the only field set, so the caller can still account for what was spent.
func (o *OpenAI) Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	sent, names := ev, (*guard.Pseudonyms)(nil)
	if o.pseudonymize {
		sent, names = guard.Pseudonymize(ev)
	}
	data := fencedDataWithin(sent, o.promptTokens)
	g := guard.NewGrounding(sent, data)
	messages := []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage(systemPrompt),
		openai.UserMessage(renderUserPrompt(data, newBoundary())),
	}
	usage := &investigation.ModelUsage{}
	fail := func(err error) (investigation.Analysis, error) {
		if names.Len() > 0 {
			// Problems quote the model's pseudonymised answer; the reader wants real names.
			err = &restoredError{msg: names.Restore(err.Error()), err: err}
		}
		return investigation.Analysis{Usage: usage}, fmt.Errorf("llm: %s analyzing threat %s: %w", o.Name(), ev.Facts.ThreatID, err)
	}
	done := func(a investigation.Analysis) (investigation.Analysis, error) {
		if names.Len() > 0 {
			a = names.RestoreAnalysis(a)
			a.Pseudonymized = true // only when there was a name to hide
		}
		return o.guard(ctx, ev, a)
	}

	content, err := o.complete(ctx, messages, usage)
	if err != nil {
		return fail(err)
	}
	a, problems := o.toAnalysis(content, g)
	if len(problems) == 0 {
		a.Usage = usage
		return done(a)
	}

	// One corrective round trip: the model sees its answer and what is wrong with it.
	messages = append(messages,
		openai.AssistantMessage(guard.Truncate(content, maxPreviousAnswer)),
		openai.UserMessage(correctionPrompt(problems)))
	content, err = o.complete(ctx, messages, usage)
	if err != nil {
		if errors.Is(err, ErrInvalidOutput) {
			return fail(fmt.Errorf("%w (the answer was retried once with its validation problems)", err))
		}
		return fail(fmt.Errorf("asking for a corrected answer: %w", err))
	}
	a, problems2 := o.toAnalysis(content, g)
	if len(problems2) > 0 && a.Verdict != "" {
		// Only the verdict's direction failed: say what the model read, for the caller
		// to put before a human (activities: a downgrade is a disagreement).
		if names.Len() > 0 {
			a = names.RestoreAnalysis(a)
		}
		a.Usage = usage
		return fail(&UnsupportedVerdict{Analysis: a, Problems: problems2})
	}
	if len(problems2) > 0 {
		return fail(fmt.Errorf("%w: the answer was retried once with its validation problems and still fails: %s",
			ErrInvalidOutput, strings.Join(problems2, "; ")))
	}
	a.Usage = usage
	a.Corrected = true
	a.CorrectionNote = guard.Truncate("first answer rejected: "+strings.Join(problems, "; "), guard.MaxSummaryRunes/2)
	return done(a)
}

// guard applies the prompt-injection defence to a valid answer: when
// guard.DetectInjection flags the evidence, the answer is held to what the rules
// analyzer supports (see guard.AgainstInjection) and carries the flags.
func (o *OpenAI) guard(ctx context.Context, ev investigation.Evidence, a investigation.Analysis) (investigation.Analysis, error) {
	flags := guard.DetectInjection(ev)
	if len(flags) == 0 {
		return a, nil
	}
	byRules, err := rules.New().Analyze(ctx, ev)
	if err != nil {
		// Without the rules there is nothing to hold a possibly manipulated answer to.
		return investigation.Analysis{Usage: a.Usage}, fmt.Errorf("llm: %s analyzing threat %s: %w: suspected prompt injection, and the rules analyzer failed: %v",
			o.Name(), ev.Facts.ThreatID, ErrInvalidOutput, err)
	}
	return guard.AgainstInjection(a, byRules, flags), nil
}

// complete sends one chat-completions request and returns the answer's content,
// adding the request, its latency and the response's token usage to usage.
// A refused, cut-off, filtered or empty answer is an ErrInvalidOutput that is not
// worth a correction: there is nothing to correct.
func (o *OpenAI) complete(ctx context.Context, messages []openai.ChatCompletionMessageParamUnion, usage *investigation.ModelUsage) (string, error) {
	return o.completeWith(ctx, jsonSchema{"threat_analysis", "Triage of one SentinelOne threat", responseSchema()}, messages, usage)
}

// jsonSchema names a strict structured-output schema.
type jsonSchema struct {
	name, description string
	schema            map[string]any
}

// completeWith is complete with another structured-output schema (the hunting
// assistant's, hunt.go).
func (o *OpenAI) completeWith(ctx context.Context, js jsonSchema, messages []openai.ChatCompletionMessageParamUnion, usage *investigation.ModelUsage) (string, error) {
	params := openai.ChatCompletionNewParams{
		Model:    shared.ChatModel(o.model),
		Messages: messages,
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
					Name:        js.name,
					Description: openai.String(js.description),
					Strict:      openai.Bool(true),
					Schema:      js.schema,
				},
			},
		},
	}
	var httpResp *http.Response
	start := time.Now()
	completion, err := o.client.Chat.Completions.New(ctx, params, option.WithResponseInto(&httpResp))
	usage.Calls++
	usage.Latency += time.Since(start)
	if completion != nil {
		// Tokens are billed for any answer, usable or not.
		usage.PromptTokens += completion.Usage.PromptTokens
		usage.CompletionTokens += completion.Usage.CompletionTokens
	}
	if err != nil {
		return "", o.classify(err, httpResp)
	}
	return answerContent(completion)
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
	return guard.Truncate(guard.Clean(s), 512)
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

// restoredError shows an error with the real names in place of the tokens,
// keeping errors.Is/As (ErrInvalidOutput, *ProviderError) working.
type restoredError struct {
	msg string
	err error
}

func (e *restoredError) Error() string { return e.msg }
func (e *restoredError) Unwrap() error { return e.err }

// answerContent returns the content of the first choice. A model, or a server
// that ignores response_format, can return anything, so nothing is trusted.
func answerContent(c *openai.ChatCompletion) (string, error) {
	if c == nil || len(c.Choices) == 0 {
		return "", fmt.Errorf("%w: the response has no choices", ErrInvalidOutput)
	}
	choice := c.Choices[0]
	if r := strings.TrimSpace(choice.Message.Refusal); r != "" {
		return "", fmt.Errorf("%w: the model refused: %s", ErrInvalidOutput, guard.Truncate(guard.Clean(r), 300))
	}
	switch choice.FinishReason {
	case "length":
		return "", fmt.Errorf("%w: the answer was cut off (finish_reason length)", ErrInvalidOutput)
	case "content_filter":
		return "", fmt.Errorf("%w: the answer was blocked by the provider's content filter", ErrInvalidOutput)
	}
	content := stripCodeFence(choice.Message.Content)
	if content == "" {
		return "", fmt.Errorf("%w: the answer is empty (finish_reason %q)", ErrInvalidOutput, choice.FinishReason)
	}
	return content, nil
}

// toAnalysis decodes the model's answer and validates it against the schema,
// investigation.Analysis.Validate and the evidence. It returns every problem.
func (o *OpenAI) toAnalysis(content string, g *guard.Grounding) (investigation.Analysis, []string) {
	var out modelOutput
	dec := json.NewDecoder(strings.NewReader(content))
	if err := dec.Decode(&out); err != nil {
		return investigation.Analysis{}, []string{fmt.Sprintf("the answer is not the expected JSON object: %v", err)}
	}

	var problems []string
	for name, missing := range map[string]bool{
		"verdict": out.Verdict == nil, "confidence": out.Confidence == nil,
		"priority": out.Priority == nil, "summary": out.Summary == nil,
		"key_evidence": out.KeyEvidence == nil, "attack_timeline": out.AttackTimeline == nil,
		"mitre_techniques": out.MITRETechniques == nil, "recommended_actions": out.RecommendedActions == nil,
		"action_reasons": out.ActionReasons == nil, "open_questions": out.OpenQuestions == nil,
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

	for i, st := range out.AttackTimeline {
		for _, f := range []struct {
			name    string
			missing bool
		}{{"step", st.Step == nil}, {"evidence", st.Evidence == nil}, {"technique", st.Technique == nil}} {
			if f.missing {
				problems = append(problems, fmt.Sprintf("attack_timeline step %d: required field %s is missing", i+1, f.name))
			}
		}
		// Cleaned but not yet truncated: grounding compares the whole citation.
		a.AttackTimeline = append(a.AttackTimeline, investigation.AttackStep{
			Step: guard.Clean(deref(st.Step)), Evidence: guard.Clean(deref(st.Evidence)), Technique: strings.TrimSpace(deref(st.Technique)),
		})
	}
	for i, r := range out.ActionReasons {
		if r.Action == nil || r.Reason == nil {
			problems = append(problems, fmt.Sprintf("action_reasons entry %d needs both action and reason", i+1))
		}
		a.ActionReasons = append(a.ActionReasons, investigation.ActionReason{
			Action: investigation.Action(deref(r.Action)), Reason: guard.Truncate(guard.Clean(deref(r.Reason)), maxItemRunes),
		})
	}
	if len(a.RecommendedActions) > 0 && len(a.ActionReasons) == 0 && out.ActionReasons != nil {
		problems = append(problems, "action_reasons is empty, but every recommended action needs exactly one reason")
	}
	for _, q := range out.OpenQuestions {
		if q = guard.Truncate(guard.Clean(q), maxItemRunes); q != "" && len(a.OpenQuestions) < guard.MaxOpenQuestions {
			a.OpenQuestions = append(a.OpenQuestions, q)
		}
	}

	problems = append(problems, a.Problems()...)
	problems = append(problems, g.Problems(a)...)
	if len(problems) > 0 {
		return investigation.Analysis{}, problems
	}
	// Valid and grounded, but a verdict that departs from SentinelOne's rating must also
	// quote what carries it; the analysis comes back with the problem, so that a
	// downgrade refused this way still reaches a human (UnsupportedVerdict).
	if problems = g.DirectionProblems(a); len(problems) > 0 {
		return a, problems
	}
	if len(a.AttackTimeline) > maxAttackSteps {
		a.AttackTimeline = a.AttackTimeline[:maxAttackSteps]
	}
	for i := range a.AttackTimeline {
		a.AttackTimeline[i].Step = guard.Truncate(a.AttackTimeline[i].Step, maxItemRunes)
		a.AttackTimeline[i].Evidence = guard.Truncate(a.AttackTimeline[i].Evidence, maxItemRunes)
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
	s := guard.Clean(summary)
	var ev []string
	for _, e := range evidence {
		if e = guard.Truncate(guard.Clean(e), 200); e != "" {
			ev = append(ev, e)
		}
		if len(ev) == 5 {
			break
		}
	}
	if s != "" && len(ev) > 0 {
		s += " Key evidence: " + strings.Join(ev, "; ") + "."
	}
	return guard.Truncate(s, guard.MaxSummaryRunes)
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
