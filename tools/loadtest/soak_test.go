package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFallbackOf(t *testing.T) {
	cases := []struct {
		name   string
		notes  []string
		reason string
		ok     bool
	}{
		{"model failed", []string{"[s1copilot s1-threat/1 triage]\ns1copilot triage: true_positive (confidence 0.90, priority high)\nHost: x\nAnalyzer: rules (fallback: model failed: llm: timeout); rules: s1-malicious\nSummary: y"}, "model failed", true},
		{"obvious case", []string{"s1copilot triage: suspicious\nAnalyzer: rules (fallback: obvious case, the model was not asked: signed PUA)\n"}, "obvious case, the model was not asked", true},
		{"model answered", []string{"s1copilot triage: true_positive\nAnalyzer: openai:gpt; rules: x\n"}, "", true},
		{"rules without a reason", []string{"s1copilot triage: true_positive\nAnalyzer: rules; rules: s1-malicious\n"}, "", false},
		{"no triage note", []string{"s1copilot outcome: mitigated"}, "", false},
		{"no notes", nil, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reason, ok := fallbackOf(tc.notes)
			if reason != tc.reason || ok != tc.ok {
				t.Fatalf("got (%q, %v), want (%q, %v)", reason, ok, tc.reason, tc.ok)
			}
		})
	}
}

func TestFaultyModelNeverAnswersUsablyAndChecksTheKey(t *testing.T) {
	m := &faultyModel{key: "k", hang: 50 * time.Millisecond}
	srv := httptest.NewServer(m)
	defer srv.Close()
	statuses := map[int]int{}
	for range 10 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		statuses[resp.StatusCode]++
		resp.Body.Close()
	}
	// 2 each of: timeout (504 after hanging), 500, 429, prose (200), bad JSON (200).
	if statuses[200] != 4 || statuses[500] != 2 || statuses[429] != 2 || statuses[504] != 2 {
		t.Fatalf("statuses %v", statuses)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || m.badKey.Load() != 1 || m.calls.Load() != 11 {
		t.Fatalf("status %d, bad key %d, calls %d", resp.StatusCode, m.badKey.Load(), m.calls.Load())
	}
}
