package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

func TestRules(t *testing.T) {
	ransomLinux := investigationtest.RansomwareServer()
	ransomLinux.Facts.OSType, ransomLinux.Facts.OSName = "linux", "Ubuntu 22.04"
	ransomLinux.Facts.Classification, ransomLinux.Facts.Techniques = "Malware", []string{"T1486"}
	ransomLinux.Facts.Indicators = nil

	tests := []struct {
		name       string
		ev         investigation.Evidence
		verdict    investigation.Verdict
		priority   investigation.Priority
		actions    []investigation.Action
		rules      []string
		minConf    float64
		techniques []string
		inSummary  []string
	}{
		{
			name: "ransomware on a windows server", ev: investigationtest.RansomwareServer(),
			verdict: investigation.VerdictTruePositive, priority: investigation.PriorityCritical,
			actions: []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine,
				investigation.ActionRemediate, investigation.ActionRollback, investigation.ActionIsolate, investigation.ActionCollectForensics},
			rules:      []string{S1Malicious, Ransomware},
			minConf:    0.9,
			techniques: []string{"T1486", "T1490"},
			inSummary:  []string{"lockbit3.exe", "FS-PROD-01", "ransomware (", "technique T1486", "shadow copies"},
		},
		{
			name: "ransomware on linux: no remediate, no rollback", ev: ransomLinux,
			verdict: investigation.VerdictTruePositive, priority: investigation.PriorityCritical,
			actions:    []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionIsolate, investigation.ActionCollectForensics},
			rules:      []string{S1Malicious, Ransomware},
			minConf:    0.9,
			techniques: []string{"T1486"},
			inSummary:  []string{"Not recommended: remediate", "rollback (Windows only"},
		},
		{
			name: "macro launching powershell on a laptop",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "2", ThreatName: "Invoice_4411.docm", Classification: "Malware", ConfidenceLevel: "suspicious",
				FilePath:          `C:\Users\alice\Downloads\Invoice_4411.docm`,
				CommandLine:       `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -nop -w hidden -enc SQBFAFgA`,
				OriginatorProcess: "WINWORD.EXE",
				Techniques:        []string{"T1059.001", "Command and Scripting Interpreter"},
				AgentName:         "LAPTOP-ALICE", OSType: "windows", MachineType: "laptop",
			}},
			verdict: investigation.VerdictTruePositive, priority: investigation.PriorityHigh,
			actions:    []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionIsolate},
			rules:      []string{OfficeSpawnsScript},
			minConf:    0.7,
			techniques: []string{"T1059.001"},
			inSummary:  []string{"winword.exe started powershell with a hostile command"},
		},
		{
			name: "xmrig on linux",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "3", ThreatName: "xmrig", Classification: "Malware", ConfidenceLevel: "malicious",
				FilePath:    "/tmp/.x/xmrig",
				CommandLine: "/tmp/.x/xmrig -o stratum+tcp://pool.example:3333 -u 4Abc --donate-level 1",
				AgentName:   "k8s-node-7", OSType: "linux", MachineType: "kubernetes node",
			}},
			verdict: investigation.VerdictTruePositive, priority: investigation.PriorityHigh,
			actions: []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine},
			rules:   []string{S1Malicious, Cryptominer},
			minConf: 0.9,
		},
		{
			name: "signed PUA: suspicious, low, no action",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "4", ThreatName: "OpenCandy installer", Classification: "PUA", ConfidenceLevel: "suspicious",
				FileVerificationType: "SignedVerified", PublisherName: "SweetLabs, Inc.",
				AgentName: "DESKTOP-BOB", OSType: "windows", MachineType: "desktop",
			}},
			verdict: investigation.VerdictSuspicious, priority: investigation.PriorityLow,
			rules:     []string{PUASigned},
			minConf:   0.5,
			inSummary: []string{"No action recommended"},
		},
		{
			name: "signed PUA rated malicious stays true_positive but gets no action",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "5", ThreatName: "toolbar.exe", Classification: "Adware", ConfidenceLevel: "malicious",
				FileVerificationType: "SignedVerified", OSType: "macos",
			}},
			verdict: investigation.VerdictTruePositive, priority: investigation.PriorityLow,
			rules:   []string{S1Malicious, PUASigned},
			minConf: 0.9,
		},
		{
			name: "unsigned PUA is not pua-signed",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "6", Classification: "PUA", ConfidenceLevel: "suspicious", FileVerificationType: "NotSigned",
			}},
			verdict: investigation.VerdictSuspicious, priority: investigation.PriorityMedium,
			rules: []string{S1Suspicious},
		},
		{
			name: "suspicious unknown",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "7", ThreatName: "updater.exe", Classification: "Malware", ConfidenceLevel: "suspicious",
				FileVerificationType: "NotSigned", CommandLine: "updater.exe --check", OSType: "windows",
			}},
			verdict: investigation.VerdictSuspicious, priority: investigation.PriorityMedium,
			rules:   []string{S1Suspicious},
			minConf: 0.5,
		},
		{
			name:    "empty evidence",
			ev:      investigation.Evidence{},
			verdict: investigation.VerdictUndetermined, priority: investigation.PriorityLow,
			rules:     []string{NoSignal},
			minConf:   0.3,
			inSummary: []string{"(unnamed)", "no rule matched"},
		},
		{
			name: "cmdline substring is not a script engine",
			ev: investigation.Evidence{Facts: investigation.ThreatFacts{
				ThreatID: "8", ConfidenceLevel: "n/a", OriginatorProcess: "EXCEL.EXE",
				CommandLine: "report.exe --cmdline-report",
			}},
			verdict: investigation.VerdictUndetermined, priority: investigation.PriorityLow,
			rules: []string{NoSignal},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New().Analyze(context.Background(), tt.ev)
			require.NoError(t, err)
			require.NoError(t, a.Validate())
			assert.Equal(t, "rules", a.Analyzer)
			assert.Equal(t, tt.verdict, a.Verdict)
			assert.Equal(t, tt.priority, a.Priority)
			assert.Equal(t, tt.actions, a.RecommendedActions)
			assert.Equal(t, tt.rules, a.Rules)
			assert.GreaterOrEqual(t, a.Confidence, tt.minConf)
			assert.Equal(t, tt.techniques, a.MITRETechniques)
			for _, s := range tt.inSummary {
				assert.Contains(t, a.Summary, s)
			}
			assert.NotContains(t, a.Summary, "\n", "the summary is one paragraph")
		})
	}
}

// Without benign evidence (no signer, no path, no tags) the rules never downgrade S1's
// malicious rating.
func TestRulesMaliciousNeverBelowTruePositive(t *testing.T) {
	for _, class := range []string{"", "Malware", "Trojan", "PUA", "Ransomware", "Miner"} {
		for _, signed := range []string{"", "SignedVerified", "NotSigned"} {
			ev := investigation.Evidence{Facts: investigation.ThreatFacts{
				ConfidenceLevel: "malicious", Classification: class, FileVerificationType: signed,
			}}
			a, err := New().Analyze(context.Background(), ev)
			require.NoError(t, err)
			assert.Equal(t, investigation.VerdictTruePositive, a.Verdict, "class %q signed %q", class, signed)
			assert.Contains(t, a.Rules, S1Malicious)
		}
	}
}

func TestRulesUnknownOSGetsNoRemediateOrRollback(t *testing.T) {
	ev := investigationtest.RansomwareServer()
	ev.Facts.OSType = ""
	a, err := New().Analyze(context.Background(), ev)
	require.NoError(t, err)
	assert.Equal(t, []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionIsolate, investigation.ActionCollectForensics}, a.RecommendedActions)
}

func TestRulesSummarySanitisesS1Strings(t *testing.T) {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{
		ThreatName: "evil\n\x1b[31mname" + strings.Repeat("x", 500), ConfidenceLevel: "malicious",
	}}
	a, err := New().Analyze(context.Background(), ev)
	require.NoError(t, err)
	assert.NotContains(t, a.Summary, "\n")
	assert.NotContains(t, a.Summary, "\x1b")
	assert.Contains(t, a.Summary, "truncated")
}

func TestRulesExplainEachAction(t *testing.T) {
	a, err := New().Analyze(context.Background(), investigationtest.RansomwareServer())
	require.NoError(t, err)
	require.NoError(t, a.Validate())
	require.Len(t, a.ActionReasons, len(a.RecommendedActions))
	for i, act := range a.RecommendedActions {
		assert.Equal(t, act, a.ActionReasons[i].Action)
	}
	// kill comes from both rules, remediate only from the ransomware rule.
	assert.Contains(t, a.ReasonFor(investigation.ActionKill), "rule s1-malicious: SentinelOne rates the threat malicious")
	assert.Contains(t, a.ReasonFor(investigation.ActionKill), "rule ransomware: ")
	assert.NotContains(t, a.ReasonFor(investigation.ActionRemediate), S1Malicious)
	assert.Contains(t, a.ReasonFor(investigation.ActionRemediate), "rule ransomware: encryption (technique T1486), recovery destroyed")
	assert.Empty(t, a.AttackTimeline)
	assert.Empty(t, a.OpenQuestions)
	assert.False(t, a.Corrected)

	// No actions, no reasons.
	pua, err := New().Analyze(context.Background(), investigation.Evidence{Facts: investigation.ThreatFacts{
		Classification: "PUA", ConfidenceLevel: "suspicious", FileVerificationType: "SignedVerified",
	}})
	require.NoError(t, err)
	assert.Empty(t, pua.RecommendedActions)
	assert.Empty(t, pua.ActionReasons)
}
