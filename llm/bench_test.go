package llm

import (
	"context"
	"testing"

	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// The rules analyzer is the fallback on every model failure and the analyzer without a model.
func BenchmarkRulesAnalyze(b *testing.B) {
	r, ev, ctx := NewRules(), investigationtest.Large(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Analyze(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// Building the fenced prompt for a full evidence set (50 timeline entries, long command line).
func BenchmarkUserPrompt(b *testing.B) {
	ev := investigationtest.Large()
	b.ReportAllocs()
	for b.Loop() {
		_ = userPrompt(ev, "3f9a0c1d2e4b5a6c")
	}
}
