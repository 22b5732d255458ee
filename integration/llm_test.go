package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/metrics/metricstest"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/workflows"
)

const modelKey = "sk-integration-secret-key-123456"

// fakeModel is an OpenAI-compatible chat-completions endpoint. It answers by threat:
// a valid analysis, an answer outside the schema, or a refused key.
type fakeModel struct {
	mu       sync.Mutex
	requests []map[string]any
	auth     []string
}

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.auth = append(m.auth, r.Header.Get("Authorization"))
	m.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"unknown path"}}`, http.StatusNotFound)
		return
	}
	prompt := string(body)
	var content string
	switch {
	case strings.Contains(prompt, "invoice_2611.docm"):
		content = `{"key_evidence":["WINWORD.EXE spawned powershell -enc"],` +
			`"attack_timeline":[{"step":"Word opened the macro document","evidence":"originator_process","technique":"T1566.001"},` +
			`{"step":"The macro ran encoded PowerShell","evidence":"powershell.exe -NoP -W Hidden -Exec Bypass -enc","technique":"T1059.001"}],` +
			`"verdict":"true_positive","confidence":0.97,"priority":"High","summary":"Macro dropper launched encoded PowerShell.",` +
			`"mitre_techniques":["T1566.001","T1059.001"],"recommended_actions":["kill","quarantine"],` +
			`"action_reasons":[{"action":"kill","reason":"stop the PowerShell payload"},{"action":"quarantine","reason":"remove the macro document"}],` +
			`"open_questions":["Did the script from cdn-sync.net run?"]}`
	case strings.Contains(prompt, "xmrig"):
		content = `{"key_evidence":[],"verdict":"benign","confidence":7,"priority":"High","summary":"fine","recommended_actions":[],"mitre_techniques":[]}`
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": time.Now().Unix(), "model": req["model"],
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
		"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
	})
}

func TestEndToEndWithAModel(t *testing.T) {
	model := &fakeModel{}
	ms := httptest.NewServer(model)
	t.Cleanup(ms.Close)
	s := newStack(t, stackOptions{config: func(c *config.Config) {
		c.LLMBaseURL, c.LLMAPIKey, c.LLMModel = ms.URL+"/v1", modelKey, "gpt-test"
	}})

	ids := map[string]string{"valid": "1910000000000000002", "invalid": "1910000000000000004", "refused": "1910000000000000001", "obvious": "1910000000000000003"}
	for _, id := range ids {
		started, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
		require.True(t, started)
	}
	approved := map[string]bool{}
	all := []string{ids["valid"], ids["invalid"], ids["refused"], ids["obvious"]}
	waitUntil(t, s.ctx, "the investigations finished", func() bool {
		s.approveWaiting(all, approved)
		return !s.anyRunning(all)
	})

	// The model's valid answer is used as is, and the policy acts on it.
	r := s.result(ids["valid"])
	assert.Equal(t, "openai:gpt-test", r.Analyzer)
	assert.Equal(t, workflows.OutcomeMitigated, r.Outcome)
	notes := strings.Join(s.sim.Notes(ids["valid"]), "\n")
	assert.Contains(t, notes, "Analyzer: openai:gpt-test")
	assert.Contains(t, notes, "Macro dropper launched encoded PowerShell.")
	assert.Contains(t, notes, "Attack timeline:\n  1. Word opened the macro document [evidence: originator_process] T1566.001")
	assert.Contains(t, notes, "Why kill: stop the PowerShell payload")
	assert.Contains(t, notes, "Open question: Did the script from cdn-sync.net run?")
	assert.Contains(t, notes, "Context: 1 process chains from", "the model was given the storyline's context")
	assert.Contains(t, notes, "file seen on 1 endpoints")
	s.replayAndMaybeSave(t, ids["valid"], "model-with-context.json")

	// An answer outside the schema is rejected and the rules engine stands in, saying why.
	r = s.result(ids["invalid"])
	assert.Equal(t, "rules", r.Analyzer)
	notes = strings.Join(s.sim.Notes(ids["invalid"]), "\n")
	assert.Contains(t, notes, "fallback: model failed")
	assert.Contains(t, notes, "benign")

	// A refused key is not retried and is reported; the rules engine stands in.
	r = s.result(ids["refused"])
	assert.Equal(t, "rules", r.Analyzer)
	assert.Contains(t, strings.Join(s.sim.Notes(ids["refused"]), "\n"), "401")

	// The signed PUA is an obvious case: the rules answer it and the model is not asked.
	r = s.result(ids["obvious"])
	assert.Equal(t, "rules", r.Analyzer)
	assert.Contains(t, strings.Join(s.sim.Notes(ids["obvious"]), "\n"), "obvious case, the model was not asked")

	model.mu.Lock()
	defer model.mu.Unlock()
	assert.Len(t, model.requests, 4, "one model call per investigation, plus one corrective call for the invalid answer; 401s are not retried")
	for i, req := range model.requests {
		assert.Equal(t, "gpt-test", req["model"])
		rf, _ := req["response_format"].(map[string]any)
		assert.Equal(t, "json_schema", rf["type"], "structured output must be requested")
		assert.Equal(t, "Bearer "+modelKey, model.auth[i])
	}

	// What it cost and how each call ended, as the worker's /metrics shows it: the
	// valid answer (1 request), the invalid one (2: the correction), the 401 (no
	// tokens); 100 prompt and 50 completion tokens per answered request.
	l := func(kv ...string) map[string]string { return metricstest.Tags(kv...) }
	s.wantMetrics([]wantMetric{
		{metrics.ModelCalls, l("outcome", "ok"), 1},
		{metrics.ModelCalls, l("outcome", "invalid_output"), 1},
		{metrics.ModelCalls, l("outcome", "provider_error"), 1},
		{metrics.ModelCalls, nil, 3},
		{metrics.ModelRequests, nil, 4},
		{metrics.ModelPromptTokens, nil, 300},
		{metrics.ModelCompletionTokens, nil, 150},
		{metrics.ModelLatency, nil, 3},
		{metrics.ModelValidationFailures, l("stage", "first_answer_rejected"), 1},
		{metrics.ModelValidationFailures, l("stage", "rejected_after_retry"), 1},
		{metrics.ModelValidationFailures, l("stage", "corrected_on_retry"), 0},
		{metrics.RulesFallbacks, l("reason", "invalid_output"), 1},
		{metrics.RulesFallbacks, l("reason", "model_error"), 1},
		{metrics.RulesFallbacks, l("reason", "prefilter"), 1},
		{metrics.RulesFallbacks, nil, 3},
		{"temporal_workflow_completed_total", l("workflow_type", "InvestigateThreat"), 4},
	})

	// The key never reaches notes, history or results. (historyText decodes payloads:
	// the model's summary, an activity result, must be found in it.)
	assert.Contains(t, s.historyText(t, ids["valid"]), "Macro dropper launched encoded PowerShell.")
	for _, id := range all {
		assert.NotContains(t, strings.Join(s.sim.Notes(id), "\n"), modelKey)
		hist := s.historyText(t, id)
		require.NotEmpty(t, hist)
		assert.NotContains(t, hist, modelKey, "model key in the history of %s", id)
		assert.NotContains(t, hist, token, "S1 token in the history of %s", id)
	}
}

// TestOutbreakCostsOneModelCall: the same macro dropper on three workstations is
// analysed once; the other two investigations reuse it and say so, each note still
// naming its own host.
func TestOutbreakCostsOneModelCall(t *testing.T) {
	model := &fakeModel{}
	ms := httptest.NewServer(model)
	t.Cleanup(ms.Close)
	s := newStack(t, stackOptions{config: func(c *config.Config) {
		c.LLMBaseURL, c.LLMAPIKey, c.LLMModel, c.LLMCacheTTL = ms.URL+"/v1", modelKey, "gpt-test", time.Hour
	}})
	hosts := map[string]string{"1940000000000000001": "1900000000000000002", "1940000000000000002": "1900000000000000003", "1940000000000000003": "1900000000000000005"}
	var ids []string
	for id, agent := range hosts {
		th := newThreat(id, agent)
		th.ThreatName, th.Classification, th.OriginatorProcess = "invoice_2611.docm", "Trojan", "WINWORD.EXE"
		th.SHA1 = "ddf82a348ad673f104125a499d5b813f0fde65af"
		th.MaliciousProcessArguments = "powershell.exe -NoP -W Hidden -Exec Bypass -enc SQBFAFgA"
		require.NoError(t, s.sim.AddThreat(th))
		ids = append(ids, id)
	}
	for _, id := range ids {
		started, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
		require.True(t, started)
	}
	waitUntil(t, s.ctx, "the outbreak's investigations finished", func() bool {
		return !s.anyRunning(ids)
	})
	model.mu.Lock()
	calls := len(model.requests)
	model.mu.Unlock()
	assert.Equal(t, 1, calls, "one model call for three endpoints with the same evidence")
	reused := 0
	for id, agent := range hosts {
		r := s.result(id)
		assert.Equal(t, "openai:gpt-test", r.Analyzer)
		notes := strings.Join(s.sim.Notes(id), "\n")
		if strings.Contains(notes, "Analysis reused from investigation s1-threat/") {
			reused++
		}
		ag, err := s1clientFor(t, s).GetAgent(s.ctx, agent)
		require.NoError(t, err)
		assert.Contains(t, notes, "Host: "+ag.ComputerName, "each note names its own host")
	}
	assert.Equal(t, 2, reused)
}

func s1clientFor(t *testing.T, s *stack) *s1client.Client {
	c, err := s1client.New(s.cfg.S1URL, token, s1client.WithoutRateLimits())
	require.NoError(t, err)
	return c
}
