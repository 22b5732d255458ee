package policy

import (
	"testing"

	inv "github.com/s1copilot/s1copilot/investigation"
)

// The decision runs inside the workflow on every investigation; it must stay trivial.
func BenchmarkDecide(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    *Policy
	}{{"default", Default(ModeAuto, 0.8)}, {"example", ExamplePolicy()}} {
		b.Run(bc.name, func(b *testing.B) {
			in := Inputs{
				Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.95, RecommendedActions: inv.Actions},
				Facts:    facts("windows", "laptop", "malicious", "connected"),
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = Decide(bc.p, in)
			}
		})
	}
}
