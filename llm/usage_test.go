package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// completionWithUsage answers like completion, with the usage block OpenAI sends.
func completionWithUsage(content string, prompt, completion int64) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1767225600, "model": "gpt-test",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
				"message": map[string]any{"role": "assistant", "content": content, "refusal": nil}}},
			"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
		})
	}
}

func TestOpenAIUsageOneCall(t *testing.T) {
	fp := newFakeProvider(t, completionWithUsage(goodAnswer, 1834, 412))
	a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
	require.NoError(t, err)
	require.NotNil(t, a.Usage)
	assert.Equal(t, 1, a.Usage.Calls)
	assert.Equal(t, int64(1834), a.Usage.PromptTokens)
	assert.Equal(t, int64(412), a.Usage.CompletionTokens)
	assert.Positive(t, a.Usage.Latency)
}

// The correction round trip costs a second request: its tokens and time are added.
func TestOpenAIUsageSummedOverCorrection(t *testing.T) {
	slow := func(next func(w http.ResponseWriter, r *http.Request)) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) { time.Sleep(20 * time.Millisecond); next(w, r) }
	}
	t.Run("corrected", func(t *testing.T) {
		bad := mutated(t, func(m map[string]any) { m["verdict"] = "benign" })
		fp := newFakeProvider(t, sequence(slow(completionWithUsage(bad, 1800, 400)), slow(completionWithUsage(goodAnswer, 2300, 420))))
		a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
		require.NoError(t, err)
		require.True(t, a.Corrected)
		require.Len(t, fp.requests(), 2)
		require.NotNil(t, a.Usage)
		assert.Equal(t, investigation.ModelUsage{Calls: 2, PromptTokens: 4100, CompletionTokens: 820, Latency: a.Usage.Latency}, *a.Usage)
		assert.GreaterOrEqual(t, a.Usage.Latency, 40*time.Millisecond, "both requests' time")
	})
	t.Run("rejected after the correction", func(t *testing.T) {
		bad := mutated(t, func(m map[string]any) { m["verdict"] = "benign" })
		fp := newFakeProvider(t, sequence(completionWithUsage(bad, 1800, 400), completionWithUsage(bad, 2300, 390)))
		a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
		require.ErrorIs(t, err, ErrInvalidOutput)
		require.NotNil(t, a.Usage, "tokens spent on rejected answers are reported too")
		assert.Equal(t, 2, a.Usage.Calls)
		assert.Equal(t, int64(4100), a.Usage.PromptTokens)
		assert.Equal(t, int64(790), a.Usage.CompletionTokens)
	})
	t.Run("correction request fails at the provider", func(t *testing.T) {
		bad := mutated(t, func(m map[string]any) { m["verdict"] = "benign" })
		fp := newFakeProvider(t, sequence(completionWithUsage(bad, 1800, 400), apiError(http.StatusServiceUnavailable, "overloaded", nil)))
		a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
		var pe *ProviderError
		require.ErrorAs(t, err, &pe)
		require.NotNil(t, a.Usage)
		assert.Equal(t, 2, a.Usage.Calls, "the failed request is counted")
		assert.Equal(t, int64(1800), a.Usage.PromptTokens, "only the answered request has tokens")
	})
}

// How the cache answered each caller, and only the payer's analysis carries Usage.
func TestCacheOutcomeAndUsage(t *testing.T) {
	usage := &investigation.ModelUsage{Calls: 1, PromptTokens: 900, CompletionTokens: 100, Latency: time.Second}
	release := make(chan struct{})
	inner := &countingAnalyzer{fn: func(ctx context.Context, _ investigation.Evidence) (investigation.Analysis, error) {
		<-release
		an := validAnalysis("LockBit")
		u := *usage
		an.Usage = &u
		return an, nil
	}}
	cache := NewCache(inner, time.Hour, 10, nil)

	type result struct {
		an      investigation.Analysis
		outcome CacheOutcome
		err     error
	}
	results := make([]result, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		an, o, err := cache.AnalyzeOutcome(t.Context(), "inv-0", outbreakOn(0))
		results[0] = result{an, o, err}
	})
	require.Eventually(t, func() bool { return cache.Stats().Misses == 1 }, 5*time.Second, time.Millisecond)
	for i := 1; i < 3; i++ {
		wg.Go(func() {
			an, o, err := cache.AnalyzeOutcome(t.Context(), fmt.Sprintf("inv-%d", i), outbreakOn(i))
			results[i] = result{an, o, err}
		})
	}
	require.Eventually(t, func() bool { return cache.Stats().InFlightJoins == 2 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()

	require.NoError(t, results[0].err)
	assert.Equal(t, CacheMiss, results[0].outcome)
	assert.Equal(t, usage, results[0].an.Usage, "the payer's analysis shows what it cost")
	for _, r := range results[1:] {
		require.NoError(t, r.err)
		assert.Equal(t, CacheShared, r.outcome)
		assert.Nil(t, r.an.Usage, "a shared analysis cost nothing")
	}

	an, outcome, err := cache.AnalyzeOutcome(t.Context(), "inv-3", outbreakOn(3))
	require.NoError(t, err)
	assert.Equal(t, CacheHit, outcome)
	assert.Nil(t, an.Usage, "a cached analysis cost nothing")
	assert.Equal(t, "inv-0", an.ReusedFrom)

	bare := investigation.Evidence{Facts: investigation.ThreatFacts{ThreatName: "Suspicious activity", OSType: "windows"}}
	inner.fn = nil
	_, outcome, err = cache.AnalyzeOutcome(t.Context(), "inv-4", bare)
	require.NoError(t, err)
	assert.Equal(t, CacheUncacheable, outcome)
	assert.EqualValues(t, 2, inner.calls.Load())
}
