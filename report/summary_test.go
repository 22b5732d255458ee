package report

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/llm"
)

const testKey = "sk-test-secret-key-123456"

// fakeModel is an OpenAI-compatible chat-completions endpoint that answers summary,
// and keeps the requests it received.
type fakeModel struct {
	mu       sync.Mutex
	summary  string
	status   int
	requests []string
	auth     []string
}

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.requests = append(m.requests, string(body))
	m.auth = append(m.auth, r.Header.Get("Authorization"))
	summary, status := m.summary, m.status
	m.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "bad key " + testKey, "type": "invalid_request_error"}})
		return
	}
	content, _ := json.Marshal(map[string]string{"summary": summary})
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600, "model": "gpt-test",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": string(content), "refusal": nil}}},
		"usage": map[string]any{"prompt_tokens": 321, "completion_tokens": 54, "total_tokens": 375},
	})
}

func newModel(t *testing.T, m *fakeModel) *llm.OpenAI {
	t.Helper()
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	o, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.URL + "/v1/", APIKey: testKey, Model: "gpt-test"})
	require.NoError(t, err)
	return o
}

func TestTheModelSummarisesFromTheFiguresOnly(t *testing.T) {
	f := Compute(scenario())
	m := &fakeModel{summary: "This week s1copilot investigated 6 threats, 1 still running. Time to triage was 4m at the median and 10m at p90; analysts agreed 50% of the time."}
	s, err := Summarize(context.Background(), newModel(t, m), f)
	require.NoError(t, err)
	assert.Equal(t, m.summary, s.Text)
	assert.Equal(t, "openai:gpt-test", s.By)
	assert.Contains(t, s.Note, "drafted by the model openai:gpt-test")
	require.NotNil(t, s.Usage)
	assert.Equal(t, int64(321), s.Usage.PromptTokens)

	require.Len(t, m.requests, 1)
	req := m.requests[0]
	assert.Contains(t, req, `"name":"report_summary"`)
	assert.Contains(t, req, `"strict":true`)
	assert.Contains(t, req, "investigations started: 6; still running: 1")
	for _, name := range []string{"SALES-LT-042", "invoice.docm", "aaaa", "alice@example.com"} {
		assert.NotContains(t, req, name, "the prompt holds numbers and fixed labels, no names")
	}
	assert.Equal(t, "Bearer "+testKey, m.auth[0])
}

func TestAParagraphWithNumbersNotInTheFiguresFallsBackToRules(t *testing.T) {
	f := Compute(scenario())
	m := &fakeModel{summary: "s1copilot investigated 6 threats and cut response time by 37% to 4.2 minutes."}
	s, err := Summarize(context.Background(), newModel(t, m), f)
	require.NoError(t, err)
	assert.Equal(t, ByRules, s.By)
	assert.Equal(t, "Summary written by rules; the model's paragraph quoted numbers absent from the figures (37, 4.2).", s.Note)
	assert.Contains(t, s.Text, "s1copilot investigated 6 threats (1 still running)")
	assert.NotContains(t, s.Text, "37")
	require.NotNil(t, s.Usage, "what the rejected paragraph cost still counts")
}

func TestWithoutAModelTheRulesWriteTheSummaryAndSaySo(t *testing.T) {
	f := Compute(scenario())
	s, err := Summarize(context.Background(), nil, f)
	require.NoError(t, err)
	assert.Equal(t, "Summary written by rules; no model configured.", s.Note)
	assert.Contains(t, s.Text, "Time to triage was 4m at the median and 10m at the 90th percentile")
	assert.Contains(t, s.Text, "Analysts agreed with the copilot's verdict 50% of the time (1 agree, 1 disagree)")
	assert.Contains(t, s.Text, "The rules engine triaged 2 of them")
	// The rules' own numbers are the figures' too.
	assert.Empty(t, StrayNumbers(s.Text, f.Facts()))
}

func TestAModelErrorIsReturnedWithTheKeyRedacted(t *testing.T) {
	m := &fakeModel{status: http.StatusUnauthorized}
	_, err := Summarize(context.Background(), newModel(t, m), Compute(scenario()))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testKey)
	assert.Contains(t, err.Error(), "401")
}

func TestStrayNumbers(t *testing.T) {
	facts := []string{"investigations started: 12; still running: 0", "model cost: $0.0250", "time to triage: n 3, p50 4m 12s"}
	assert.Empty(t, StrayNumbers("12 investigations, none running; p50 of 4m 12s for 3 of them, costing $0.0250.", facts))
	assert.Equal(t, []string{"13", "7.5"}, StrayNumbers("13 investigations took 7.5 minutes, 13 in all.", facts))
	assert.True(t, strings.HasPrefix(Compute(scenario()).Facts()[0], "period: 2026-11-30 00:00 to 2026-12-07 00:00 UTC"))
}
