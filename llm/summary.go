package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
)

// summarySystemPrompt asks for a paragraph built from the given figures and nothing
// else: the report checks that every number it quotes is one of them.
const summarySystemPrompt = `You write the executive summary of a weekly security operations report.
You are given the report's figures, one per line. Write one paragraph of 3 to 5 sentences for a SOC lead:
the volume, how investigations ended, time to triage and respond, and anything that needs attention.
Use only the figures given. Quote numbers exactly as written in the figures; do not compute new numbers
(no sums, differences, ratios or percentages that are not given), and do not round them.`

// MaxSummaryRunes bounds the executive summary.
const MaxSummaryRunes = 1200

// Summarize asks the model for a one-paragraph summary of facts (the report's figures,
// one per line) through a strict structured-output call. It makes one request (the
// caller retries) and reports what it cost in usage, even on error. Errors are
// *ProviderError, ErrInvalidOutput (wrapped), or a transport error, with the key redacted.
func (o *OpenAI) Summarize(ctx context.Context, facts []string) (string, investigation.ModelUsage, error) {
	var usage investigation.ModelUsage
	params := openai.ChatCompletionNewParams{
		Model: shared.ChatModel(o.model),
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(summarySystemPrompt),
			openai.UserMessage("Figures:\n" + strings.Join(facts, "\n")),
		},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
					Name:        "report_summary",
					Description: openai.String("Executive summary of a weekly SOC report"),
					Strict:      openai.Bool(true),
					Schema:      strictObject(orderedObject{{"summary", map[string]any{"type": "string"}}}),
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
		usage.PromptTokens += completion.Usage.PromptTokens
		usage.CompletionTokens += completion.Usage.CompletionTokens
	}
	if err != nil {
		return "", usage, fmt.Errorf("llm: %s summarizing the report: %w", o.Name(), o.classify(err, httpResp))
	}
	content, err := answerContent(completion)
	if err != nil {
		return "", usage, fmt.Errorf("llm: %s summarizing the report: %w", o.Name(), err)
	}
	var out struct {
		Summary *string `json:"summary"`
	}
	if err := json.Unmarshal([]byte(content), &out); err != nil || out.Summary == nil || strings.TrimSpace(*out.Summary) == "" {
		return "", usage, fmt.Errorf("llm: %s summarizing the report: %w: the answer is not {\"summary\": \"…\"}", o.Name(), ErrInvalidOutput)
	}
	return guard.Truncate(guard.Clean(o.hideKey(*out.Summary)), MaxSummaryRunes), usage, nil
}
