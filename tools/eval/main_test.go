package main

import (
	"bytes"
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func runEval(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"-scenarios", "scenarios"}, args...), getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

var combinedRE = regexp.MustCompile(`verdict\+actions\s+(\d+)/(\d+)\s+([\d.]+)%`)

func TestRulesOverWholeSet(t *testing.T) {
	code, out, stderr := runEval(t, env(nil), "-analyzer", "rules")
	require.Equal(t, 0, code, stderr)
	for _, section := range []string{"ACCURACY", "PER CLASS", "BY FILE", "BY OS", "CONFUSION rules", "MISSES rules:", "expected \\ got"} {
		assert.Contains(t, out, section)
	}
	assert.NotContains(t, out, "model not evaluated", "-analyzer rules does not mention the model")
	m := combinedRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	right, _ := strconv.Atoi(m[1])
	total, _ := strconv.Atoi(m[2])
	assert.GreaterOrEqual(t, total, 60, "accuracy computed over the whole set")
	assert.InDelta(t, 100*float64(right)/float64(total), mustFloat(t, m[3]), 0.06)
	// Every miss names its file, expectation, answer, rules fired and why.
	misses := strings.Count(out, "\n- ")
	assert.Equal(t, total-right, misses)
	assert.Equal(t, misses, strings.Count(out, "\n    why       "))
	assert.Equal(t, misses, strings.Count(out, "\n    rules     "))
	// Confusion matrix rows sum to the number of threats.
	sum := 0
	for _, row := range regexp.MustCompile(`(?m)^  (true_positive|suspicious|false_positive|undetermined)((?:\s+\d+){5})\s*$`).FindAllStringSubmatch(out, -1) {
		for _, n := range strings.Fields(row[2]) {
			v, _ := strconv.Atoi(n)
			sum += v
		}
	}
	assert.Equal(t, total, sum)
	// Per-class supports and per-OS counts cover every threat once.
	support := 0
	for _, row := range regexp.MustCompile(`(?m)^  (?:true_positive|suspicious|false_positive|undetermined)\s+(\d+)\s+(?:-|[\d.]+% \d+/\d+)\s`).FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(row[1])
		support += v
	}
	assert.Equal(t, total, support, "per-class supports")
	byOS := 0
	for _, row := range regexp.MustCompile(`(?m)^  (?:windows|linux|macos|other)\s+(\d+)\s+\d+/(\d+)\s`).FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(row[1])
		assert.Equal(t, row[1], row[2])
		byOS += v
	}
	assert.Equal(t, total, byOS, "per-OS counts")
}

func mustFloat(t *testing.T, s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return f
}

func TestModelNotEvaluatedWithoutEnv(t *testing.T) {
	code, out, _ := runEval(t, env(nil))
	require.Equal(t, 0, code)
	assert.Contains(t, out, "model not evaluated (no OPENAI_BASE_URL)")
	assert.NotContains(t, out, "openai:")

	code, out, _ = runEval(t, env(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}))
	require.Equal(t, 0, code)
	assert.Contains(t, out, "model not evaluated (OPENAI_BASE_URL is set but neither S1C_LLM_MODEL nor OPENAI_MODEL")
}

const fixedAnswer = `{"key_evidence":["S1 confidence"],"verdict":"true_positive","confidence":0.9,"priority":"High",` +
	`"summary":"Fixed answer of the fake model.","recommended_actions":["kill","quarantine"],"mitre_techniques":["T1059.001"]}`

func fakeOpenAI(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
			http.Error(w, `{"error":{"message":"unexpected request"}}`, http.StatusBadRequest)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600, "model": "gpt-test",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
				"message": map[string]any{"role": "assistant", "content": fixedAnswer, "refusal": nil}}},
		})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestModelSideBySide(t *testing.T) {
	srv, calls := fakeOpenAI(t)
	code, out, stderr := runEval(t, env(map[string]string{
		"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "gpt-test",
	}))
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, out, "model not evaluated")
	assert.NotContains(t, out, "sk-test", "the key is never printed")
	assert.Regexp(t, `(?m)^\s+rules\s+openai:gpt-test\s*$`, out, "both columns in the accuracy table")
	assert.Contains(t, out, "CONFUSION openai:gpt-test")
	assert.Contains(t, out, "MISSES openai:gpt-test:")
	assert.Contains(t, out, "PER THREAT")
	assert.Regexp(t, `(?m)^\s+file\s+threat\s+name\s+expected\s+rules\s+openai:gpt-test\s*$`, out)
	m := combinedRE.FindAllStringSubmatch(out, -1)
	require.Len(t, m, 1)
	assert.Regexp(t, `verdict\+actions\s+\d+/\d+\s+[\d.]+%\s+\d+/\d+\s+[\d.]+%`, out)
	assert.GreaterOrEqual(t, calls.Load(), int64(60), "one model call per threat")
}

func TestModelErrorsAreMissesNotCrashes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"bad key","type":"invalid_request_error"}}`))
	}))
	defer srv.Close()
	code, out, _ := runEval(t, env(map[string]string{"OPENAI_BASE_URL": srv.URL, "S1C_LLM_MODEL": "m"}), "-analyzer", "model")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^\s+errors\s+[1-9]\d*\s*$`, out)
	assert.Contains(t, out, "    error     llm: openai:m")
}

func TestMinAccuracyExitCode(t *testing.T) {
	// A set the rules cannot get all right: one label turned against the evidence.
	raw, err := os.ReadFile(filepath.Join("scenarios", "ambiguous.json"))
	require.NoError(t, err)
	var sc map[string]any
	require.NoError(t, json.Unmarshal(raw, &sc))
	for _, th := range sc["threats"].([]any) {
		th.(map[string]any)["expect"] = map[string]any{"verdict": "false_positive", "actions": map[string]any{"none": true}, "why": "a label no analyzer meets"}
	}
	dir := t.TempDir()
	raw, err = json.Marshal(sc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wrong.json"), raw, 0o600))
	var out1, err1 bytes.Buffer
	code := run(context.Background(), []string{"-scenarios", dir, "-analyzer", "rules", "-min-accuracy", "0.99"}, env(nil), &out1, &err1)
	assert.Equal(t, 1, code, err1.String())
	assert.Contains(t, out1.String(), "FAIL: rules verdict+actions accuracy")

	code, _, _ = runEval(t, env(nil), "-analyzer", "rules", "-min-accuracy", "0.01")
	assert.Equal(t, 0, code)

	code, _, stderr := runEval(t, env(nil), "-analyzer", "gpt")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "-analyzer must be")

	var out2, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"-scenarios", t.TempDir()}, env(nil), &out2, &errOut))
	assert.Contains(t, errOut.String(), "no scenario files")
}

// The eval runs analyzers, never Temporal workflows.
func TestNoWorkflowImports(t *testing.T) {
	paths, err := filepath.Glob("*.go")
	require.NoError(t, err)
	more, err := filepath.Glob("evalset/*.go")
	require.NoError(t, err)
	for _, p := range append(paths, more...) {
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			assert.NotContains(t, imp.Path.Value, "s1copilot/workflows", p)
		}
	}
}

func TestHuntingSection(t *testing.T) {
	code, out, stderr := runEval(t, env(nil), "-analyzer", "rules")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "HUNTING (")
	assert.Contains(t, out, "model translator not evaluated (no OPENAI_BASE_URL)")
	assert.Regexp(t, `(?m)^  library\s+[\d.]+\s+[\d.]+\s+\d+/\d+\s+\d+\s*$`, out, "library totals")
	// The existing analyzer report comes first, intact.
	assert.Less(t, strings.Index(out, "CONFUSION rules"), strings.Index(out, "HUNTING ("))

	code, out, _ = runEval(t, env(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}), "-analyzer", "rules")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "model translator not evaluated (OPENAI_BASE_URL is set but neither")

	code, out, _ = runEval(t, env(nil), "-analyzer", "rules", "-hunting=false")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "HUNTING")
}

// The model translator is scored beside the library: its queries run through the
// simulator like the library's, so a fixed encoded-PowerShell query is exact on that
// question and wrong on most others.
func TestHuntingScoresTheModelTranslator(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ResponseFormat struct {
				JSONSchema struct {
					Name string `json:"name"`
				} `json:"json_schema"`
			} `json:"response_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ResponseFormat.JSONSchema.Name != "hunt_query" {
			http.Error(w, `{"error":{"message":"not a hunt request"}}`, http.StatusBadRequest)
			return
		}
		calls.Add(1)
		// The label of the encoded-PowerShell question, whatever was asked.
		answer := `{"query":"EventType = \"Process Creation\" AND SrcProcName In Anycase (\"powershell.exe\", \"pwsh.exe\") AND SrcProcCmdLine RegExp \"(?i)\\s-(e|ec|enc|encodedcommand)\\s\"","language":"s1ql","lookback":"7d","from":"","to":"","explanation":"Encoded PowerShell."}`
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600, "model": "gpt-test",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
				"message": map[string]any{"role": "assistant", "content": answer, "refusal": nil}}},
		})
	}))
	t.Cleanup(srv.Close)

	code, out, stderr := runEval(t, env(map[string]string{
		"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "gpt-test",
	}), "-analyzer", "rules")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, out, "model translator not evaluated")
	assert.NotContains(t, out, "sk-test")
	m := regexp.MustCompile(`(?m)^  openai:gpt-test\s+([\d.]+)\s+([\d.]+)\s+(\d+)/(\d+)\s+(\d+)\s*$`).FindStringSubmatch(out)
	require.NotNil(t, m, "model totals row in:\n%s", out)
	exact, _ := strconv.Atoi(m[3])
	n, _ := strconv.Atoi(m[4])
	assert.Equal(t, int(calls.Load()), n, "one translation per question")
	assert.Greater(t, exact, 0, "the encoded-PowerShell question is answered exactly")
	assert.Less(t, exact, n, "one fixed query cannot answer every question")
}
