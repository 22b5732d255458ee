package metrics_test

import (
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/metrics"
)

// Every metric is documented in the README's Metrics section.
func TestREADMEDocumentsEveryMetric(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	i := strings.Index(readme, "## Metrics")
	require.GreaterOrEqual(t, i, 0, "README has a Metrics section")
	section := readme[i:]
	if j := strings.Index(section[3:], "\n## "); j >= 0 {
		section = section[:j+3]
	}
	for _, name := range metrics.Names {
		assert.Contains(t, section, "`"+name+"`", "README's Metrics section documents %s", name)
	}
	assert.Contains(t, section, `s1copilot_analyst_feedback_total{agreement="agree"}`, "the agreement-rate query")
}

func TestNewPrometheusRejectsNegativeInterval(t *testing.T) {
	_, err := metrics.NewPrometheus(metrics.Options{ReportEvery: -time.Second})
	require.ErrorContains(t, err, "negative")
}

// The helpers' values reach the registry under the documented names, and a
// metric emitted with a second label set is reported, not a panic.
func TestPrometheusExposition(t *testing.T) {
	var errs []error
	p, err := metrics.NewPrometheus(metrics.Options{ReportEvery: time.Hour, OnError: func(err error) { errs = append(errs, err) }})
	require.NoError(t, err)

	h := p.Handler.WithTags(map[string]string{"namespace": "default"})
	metrics.ModelCall(h, metrics.CallOK, &investigation.ModelUsage{Calls: 2, PromptTokens: 1500, CompletionTokens: 300, Latency: 3 * time.Second})
	metrics.ModelCall(h, metrics.CallTimeout, nil)
	metrics.Fallback(h, metrics.FallbackPrefilter)
	metrics.Cache(h, metrics.CacheHit)
	metrics.ValidationFailure(h, metrics.CorrectedOnRetry)
	metrics.Injection(h, 2)
	metrics.Injection(h, 0)
	metrics.Feedback(h, metrics.Disagree, metrics.SourceConsole)
	metrics.Fallback(p.Handler, metrics.FallbackNoModel) // no namespace label: a second label set
	require.NoError(t, p.Close())                        // reports once more

	rec := httptest.NewRecorder()
	p.HTTP.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range []string{
		`s1copilot_model_calls_total{namespace="default",outcome="ok"} 1`,
		`s1copilot_model_calls_total{namespace="default",outcome="timeout"} 1`,
		`s1copilot_model_requests_total{namespace="default"} 2`,
		`s1copilot_model_prompt_tokens_total{namespace="default"} 1500`,
		`s1copilot_model_completion_tokens_total{namespace="default"} 300`,
		`s1copilot_model_latency_seconds_count{namespace="default",outcome="ok"} 1`,
		`s1copilot_model_latency_seconds_sum{namespace="default",outcome="ok"} 3`,
		`s1copilot_rules_fallbacks_total{namespace="default",reason="prefilter"} 1`,
		`s1copilot_analysis_cache_total{namespace="default",result="hit"} 1`,
		`s1copilot_model_validation_failures_total{namespace="default",stage="corrected_on_retry"} 1`,
		`s1copilot_injection_flags_total{namespace="default"} 2`,
		`s1copilot_analyst_feedback_total{agreement="disagree",namespace="default",source="console"} 1`,
	} {
		assert.Contains(t, string(body), line+"\n")
	}
	assert.NotContains(t, string(body), `reason="no_model"`, "the conflicting series is dropped")
	require.NotEmpty(t, errs, "and reported")
}
