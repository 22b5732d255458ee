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

// A verdict that departs from SentinelOne's rating must quote what carries it: a
// downgrade, evidence of benignity (the signer, a verified signature, a host tag or the
// group); an upgrade, malicious behaviour. Field names, and quotes of other kinds of
// evidence, do not count.
func TestDirectionOfTheVerdictNeedsSupportingQuotes(t *testing.T) {
	backup := investigationtest.RansomwareServer() // SentinelOne: malicious
	backup.Facts.PublisherName, backup.Facts.FileVerificationType = "Veeam Software Group GmbH", "SignedVerified"
	backup.Facts.Tags = []string{"role=backup-server"}
	backup.Facts.GroupName = "Backup servers"
	unsigned := investigationtest.RansomwareServer()
	unsigned.Facts.FileVerificationType = "NotSigned"
	updater := investigationtest.SignedUpdater() // SentinelOne: suspicious
	verdict := func(v investigation.Verdict, evidence ...string) investigation.Analysis {
		a := investigation.Analysis{Verdict: v}
		for _, e := range evidence {
			a.AttackTimeline = append(a.AttackTimeline, investigation.AttackStep{Step: "s", Evidence: e})
		}
		return a
	}
	for _, tc := range []struct {
		name string
		ev   investigation.Evidence
		a    investigation.Analysis
		ok   bool
	}{
		{"as SentinelOne rates it", backup, verdict(investigation.VerdictTruePositive), true},
		{"downgrade quoting the signer", backup, verdict(investigation.VerdictFalsePositive, "threat_name", `publisher: "Veeam Software Group GmbH"`), true},
		{"downgrade quoting a host tag", backup, verdict(investigation.VerdictSuspicious, "role=backup-server"), true},
		{"downgrade quoting the group", backup, verdict(investigation.VerdictFalsePositive, "backup servers"), true},
		{"downgrade quoting the verified signature", backup, verdict(investigation.VerdictFalsePositive, "file_verification: SignedVerified"), true},
		{"downgrade naming fields only", backup, verdict(investigation.VerdictFalsePositive, "publisher", "tags", "file_verification"), false},
		{"downgrade quoting only the threat", backup, verdict(investigation.VerdictFalsePositive, `"lockbit3.exe"`, "Deleted volume shadow copies"), false},
		{"downgrade without a signature", unsigned, verdict(investigation.VerdictFalsePositive, "NotSigned"), false},
		{"downgrade without any citation", backup, verdict(investigation.VerdictUndetermined), false},
		{"upgrade quoting behaviour", updater, verdict(investigation.VerdictTruePositive, commandLineQuote(updater)), true},
		{"upgrade quoting only the signer", updater, verdict(investigation.VerdictTruePositive, updater.Facts.PublisherName), false},
		{"upgrade naming the command line only", updater, verdict(investigation.VerdictTruePositive, "command_line"), false},
		{"a lower verdict than suspicious", updater, verdict(investigation.VerdictFalsePositive, updater.Facts.PublisherName), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := guard.NewGrounding(tc.ev, fencedData(tc.ev)).DirectionProblems(tc.a)
			if tc.ok {
				assert.Empty(t, problems)
			} else {
				require.Len(t, problems, 1)
				assert.Contains(t, problems[0], "than SentinelOne's rating")
			}
		})
	}
}

// commandLineQuote is a piece of the evidence's command line long enough to quote.
func commandLineQuote(ev investigation.Evidence) string {
	cl := strings.Fields(ev.Facts.CommandLine)
	return strings.Join(cl[:min(2, len(cl))], " ")
}
