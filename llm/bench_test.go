package llm

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

func benchEvidence() investigation.Evidence {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{
		ThreatID: "1", ThreatName: "svchosts.exe", Classification: "Ransomware", ConfidenceLevel: "malicious",
		OSType: "windows", MachineType: "server", AgentName: "FIN-FS-01",
		CommandLine: strings.Repeat("vssadmin delete shadows /all /quiet ", 40), Techniques: []string{"T1486", "T1490"},
		Indicators: []string{"Ransomware: encrypts files", "Evasion: deletes shadow copies"},
	}}
	for i := range 50 {
		ev.Timeline = append(ev.Timeline, investigation.TimelineItem{At: time.Unix(int64(i), 0), ActivityType: 19, Description: fmt.Sprintf("event %d %s", i, strings.Repeat("x", 200))})
	}
	return ev
}

// The rules analyzer is the fallback on every model failure and the analyzer without a model.
func BenchmarkRulesAnalyze(b *testing.B) {
	r, ev, ctx := NewRules(), benchEvidence(), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Analyze(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// Building the fenced prompt for a full evidence set (50 timeline entries, long command line).
func BenchmarkUserPrompt(b *testing.B) {
	ev := benchEvidence()
	b.ReportAllocs()
	for b.Loop() {
		_ = userPrompt(ev, "3f9a0c1d2e4b5a6c")
	}
}
