package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
	"github.com/s1copilot/s1copilot/rules"
)

func TestGroundingCitations(t *testing.T) {
	ev := investigationtest.RansomwareServer()
	ev.Facts.CommandLine = `powershell -c "vssadmin delete shadows /all"  ` + strings.Repeat("B", maxFieldRunes) + " HIDDENTAIL"
	g := guard.NewGrounding(ev, fencedData(ev))

	grounded := []string{
		"commandLine", "command_line", "CommandLine", "facts.filePath", "file_path", "sha1",
		"s1_confidence_level", "confidenceLevel", "fileVerificationType", "activeThreats", "indicators", "techniques",
		"created_at", "agentName",
		"Deleted volume shadow copies", "deleted VOLUME shadow copies", `"lockbit3.exe"`, "  lockbit3.exe  ",
		`vssadmin delete shadows /all`,        // as the model reads it: unescaped
		`-c \"vssadmin delete shadows /all\"`, // as it appears in the data: escaped
		"delete  shadows",                     // white space runs collapse
		"[activityType 19] \"Threat detected\"",
		"command_line: vssadmin delete", "commandLine: \"powershell -c\"", "indicators: Stopped backup services",
		"T1490", "Inhibit System Recovery",
	}
	for _, s := range grounded {
		assert.True(t, g.Cites(s), "%q should be grounded", s)
	}
	ungrounded := []string{
		"", "   ", "exe", `"abc"`, // too short
		"sha256", "publisher", "agentId", "siteId", // fields not shown (empty, or never sent)
		"HIDDENTAIL",                                          // cut off by truncation: the model never saw it
		"Triage the SentinelOne threat",                       // our prompt, outside the fence
		"mimikatz sekurlsa::logonpasswords",                   // invented
		"command_line: mimikatz",                              // a real field, an invented quote
		"command line",                                        // not a field name, not in the data
		"Deleted volume shadow copies\nEvasion: Stopped",      // spans two lines of the data
		"threat_name: \"lockbit3.exe\" classification_source", // spans two lines
	}
	for _, s := range ungrounded {
		assert.False(t, g.Cites(s), "%q should not be grounded", s)
	}
}

func TestGroundingTechniques(t *testing.T) {
	ev := investigationtest.RansomwareServer()
	ev.Facts.Techniques = []string{"T1059", "T1566.001", "Inhibit System Recovery"}
	step := func(evidence, technique string) investigation.AttackStep {
		return investigation.AttackStep{Step: "s", Evidence: evidence, Technique: technique}
	}
	tests := []struct {
		name    string
		steps   []investigation.AttackStep
		mitre   []string
		invalid []string // techniques reported unsupported
	}{
		{name: "listed", mitre: []string{"T1059", "T1566.001"}},
		{name: "sub-technique of a listed parent", mitre: []string{"T1059.001"}},
		{name: "parent of a listed sub-technique", mitre: []string{"T1566"}},
		{name: "sibling sub-technique is not supported", mitre: []string{"T1566.002"}, invalid: []string{"T1566.002"}},
		{name: "a name in techniques is not an ID", mitre: []string{"T1490"}, invalid: []string{"T1490"}},
		{name: "invented", mitre: []string{"T1003", "T1059"}, invalid: []string{"T1003"}},
		{name: "named by a grounded step", steps: []investigation.AttackStep{step("Deleted volume shadow copies", "T1490")}, mitre: []string{"T1490"}},
		{name: "parent of a grounded step's technique", steps: []investigation.AttackStep{step("command_line", "T1021.002")}, mitre: []string{"T1021"}},
		{name: "named by an ungrounded step", steps: []investigation.AttackStep{step("net use \\\\fs02\\c$", "T1021.002")}, mitre: []string{"T1021.002"}, invalid: []string{"T1021.002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := investigation.Analysis{AttackTimeline: tt.steps, MITRETechniques: tt.mitre}
			err := guard.CheckGrounding(ev, fencedData(ev), a)
			if len(tt.invalid) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, id := range tt.invalid {
				assert.Contains(t, err.Error(), "MITRE technique "+id+" is not supported")
			}
			assert.Equal(t, len(tt.invalid), strings.Count(err.Error(), "is not supported"))
		})
	}
}

func TestCheckGroundingListsEveryProblem(t *testing.T) {
	a := investigation.Analysis{
		AttackTimeline: []investigation.AttackStep{
			{Step: "a", Evidence: "made up evidence"},
			{Step: "b", Evidence: "commandLine"},
			{Step: "c", Evidence: "also made up", Technique: "T1021"},
		},
		MITRETechniques: []string{"T1486", "T1021", "T1003"},
	}
	ev := investigationtest.RansomwareServer()
	err := guard.CheckGrounding(ev, fencedData(ev), a)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `attack_timeline step 1 cites "made up evidence"`)
	assert.NotContains(t, msg, "step 2")
	assert.Contains(t, msg, `attack_timeline step 3 cites "also made up"`)
	assert.Contains(t, msg, "MITRE technique T1021 is not supported")
	assert.Contains(t, msg, "MITRE technique T1003 is not supported")
	assert.NotContains(t, msg, "T1486 is not")
}

// The rules analyzer cites only what S1 reported, so its analyses are always grounded.
func TestRulesAnalysesAreGrounded(t *testing.T) {
	evs := []investigation.Evidence{investigationtest.RansomwareServer(), investigationtest.Large(), {}}
	for _, ev := range evs {
		a, err := rules.New().Analyze(context.Background(), ev)
		require.NoError(t, err)
		assert.NoError(t, guard.CheckGrounding(ev, fencedData(ev), a))
	}
}
