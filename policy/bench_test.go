package policy

import (
	"testing"

	inv "github.com/s1copilot/s1copilot/investigation"
)

// The decision runs inside the workflow on every investigation; it must stay trivial.
func BenchmarkDecide(b *testing.B) {
	p := Policy{Mode: ModeAuto, MinConfidence: 0.8}
	a := inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.95, RecommendedActions: inv.Actions}
	f := facts("windows", "laptop", "malicious", "connected")
	b.ReportAllocs()
	for b.Loop() {
		_ = Decide(p, a, f)
	}
}
