package llm

import (
	"testing"

	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// Building the fenced prompt for a full evidence set (50 timeline entries, long command line).
func BenchmarkUserPrompt(b *testing.B) {
	ev := investigationtest.Large()
	b.ReportAllocs()
	for b.Loop() {
		_ = userPrompt(ev, "3f9a0c1d2e4b5a6c")
	}
}
