package main

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"
)

// fakeModel is an OpenAI-compatible chat-completions endpoint that answers every request
// with the same grounded analysis after a fixed delay: the model's latency is simulated,
// its cost (calls) counted.
type fakeModel struct {
	delay time.Duration
	calls atomic.Int64
}

// modelAnswer cites fields and techniques present in every benchmark threat (see
// threatTemplate), so the analyzer's grounding check accepts it.
const modelAnswer = `{"key_evidence":["originator_process"],` +
	`"attack_timeline":[{"step":"services.exe started the dropper, which spreads over SMB","evidence":"originator_process","technique":"T1021.002"}],` +
	`"verdict":"true_positive","confidence":0.97,"priority":"High","summary":"Ransomware dropper spreading over SMB.",` +
	`"mitre_techniques":["T1021.002"],"recommended_actions":["kill","quarantine"],` +
	`"action_reasons":[{"action":"kill","reason":"stop the dropper"},{"action":"quarantine","reason":"remove the file"}],` +
	`"open_questions":[]}`

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"unknown path"}}`, http.StatusNotFound)
		return
	}
	m.calls.Add(1)
	var req struct {
		Model string `json:"model"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	select {
	case <-time.After(m.delay):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-bench", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": modelAnswer}}},
		"usage": map[string]any{"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
	})
}
