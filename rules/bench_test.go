package rules

import (
	"context"
	"testing"

	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// The rules analyzer is the fallback on every model failure and the analyzer without a model.
func BenchmarkRulesAnalyze(b *testing.B) {
	r, ev, ctx := New(), investigationtest.Large(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Analyze(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
