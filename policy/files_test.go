package policy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

func TestPathGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		glob, path string
		want       bool
	}{
		{`C:\Windows\System32\*.exe`, `\Device\HarddiskVolume2\Windows\System32\rundll32.exe`, true},
		{`C:\Windows\System32\*.exe`, `C:\WINDOWS\system32\CMD.EXE`, true},
		{`C:\Windows\System32\*.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, false},
		{`C:\Windows\System32\**`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, true},
		{`C:\Windows\System32\**\*.exe`, `C:\Windows\System32\wbem\WMIC.exe`, true},
		{`C:\Windows\System32\*.exe`, `C:\Windows\System32.exe`, false},
		{`C:\Windows\System32\*.exe`, `C:\Users\Public\Windows\System32\cmd.exe`, false},
		{`C:\Program Files\Contoso\?gent.exe`, `C:\Program Files\Contoso\agent.exe`, true},
		{`/usr/bin/*`, `/usr/bin/bash`, true},
		{`/usr/bin/*`, `/usr/bin/x/bash`, false},
		{`C:\Windows\System32\**`, ``, false},
	} {
		assert.Equal(t, tc.want, pathGlobMatch(tc.glob, tc.path), "%s ~ %s", tc.glob, tc.path)
	}
}

// Windows' own signed binaries are never quarantined nor remediated under the builtin
// policy, whatever the analysis recommends; the process is still killed.
func TestProtectedFilesAreNeverQuarantined(t *testing.T) {
	rundll := func(path, verification, publisher string) inv.ThreatFacts {
		f := facts("windows", "laptop", "malicious", "connected")
		f.FilePath, f.FileVerificationType, f.PublisherName = path, verification, publisher
		return f
	}
	all := inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.99, RecommendedActions: inv.Actions}
	os := rundll(`\Device\HarddiskVolume3\Windows\System32\rundll32.exe`, "SignedVerified", "Microsoft Windows")
	for _, mode := range []Mode{ModeAuto, ModeApprove, ModeRecommend} {
		plan := Decide(Default(mode, 0.8), Inputs{Analysis: all, Facts: os})
		for _, st := range plan.Steps {
			if st.Action == inv.ActionQuarantine || st.Action == inv.ActionRemediate {
				assert.Equal(t, Skip, st.Disposition, "%s %s", mode, st.Action)
				assert.Equal(t, "Windows binaries", st.Rule)
				assert.Contains(t, st.Reason, `\Device\HarddiskVolume3\Windows\System32\rundll32.exe, signed by "Microsoft Windows", is a protected file ("Windows binaries")`)
				assert.Contains(t, st.Reason, "never quarantines or remediates it")
			}
		}
	}
	plan := Decide(Default(ModeAuto, 0.8), Inputs{Analysis: all, Facts: os})
	assert.Equal(t, []inv.Action{inv.ActionKill}, plan.Actions(Auto), "the process is still killed")

	// Only the genuine article: unsigned, or signed by someone else, or elsewhere.
	for _, f := range []inv.ThreatFacts{
		rundll(`C:\Windows\System32\rundll32.exe`, "NotSigned", ""),
		rundll(`C:\Windows\System32\rundll32.exe`, "SignedInvalid", "Microsoft Windows"),
		rundll(`C:\Windows\System32\rundll32.exe`, "SignedVerified", "Contoso Ltd"),
		rundll(`C:\Users\Public\rundll32.exe`, "SignedVerified", "Microsoft Windows"),
	} {
		plan := Decide(Default(ModeAuto, 0.8), Inputs{Analysis: all, Facts: f})
		assert.Contains(t, plan.Actions(Auto), inv.ActionQuarantine, "%s %s %s", f.FilePath, f.FileVerificationType, f.PublisherName)
	}
}

func TestParseProtectedFiles(t *testing.T) {
	p, err := Parse([]byte(head+`protectedFiles:
  - name: line of business app
    paths: ['C:\Program Files\Contoso\**', '/opt/contoso/bin/*']
    reason: the ledger runs here
  - name: os
    paths: ['C:\Windows\System32\*.exe']
    signers: [Microsoft Windows, "Microsoft *"]
`), "p.yaml")
	require.NoError(t, err)
	require.Len(t, p.ProtectedFiles, 2)
	assert.Equal(t, ProtectedFile{Name: "line of business app", Paths: []string{`C:\Program Files\Contoso\**`, "/opt/contoso/bin/*"}, Reason: "the ledger runs here"}, p.ProtectedFiles[0])
	assert.Equal(t, []string{"Microsoft Windows", "Microsoft *"}, p.ProtectedFiles[1].Signers)

	f := facts("linux", "server", "malicious", "connected")
	f.FilePath = "/opt/contoso/bin/ledgerd"
	st := decideOne(t, p, Inputs{Analysis: inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 1}, Facts: f}, inv.ActionQuarantine)
	assert.Equal(t, Skip, st.Disposition)
	assert.Equal(t, `/opt/contoso/bin/ledgerd is a protected file ("line of business app"): the ledger runs here; s1copilot never quarantines or remediates it`, st.Reason)

	_, err = Parse([]byte(head+`rules: [{name: os, mode: approve}]
protectedFiles:
  - name: os
    paths: ['Windows\System32\*.exe', 'C:\Windows\Sys**\x.exe']
    signer: Microsoft
  - paths: []
  - name: empty
    paths: []
    signers: ""
`), "p.yaml")
	assert.Equal(t, []string{
		`p.yaml:7:11: protectedFiles[0].name: name "os" is already used by rules[0]; names must be unique`,
		`p.yaml:8:13: protectedFiles[0].paths[0]: path 'Windows\System32\*.exe' must be absolute, e.g. C:\Windows\System32\*.exe or /usr/bin/*`,
		`p.yaml:8:39: protectedFiles[0].paths[1]: path 'C:\Windows\Sys**\x.exe': ** stands for whole folders (\**\ or a final \**), not part of a name`,
		`p.yaml:9:5: protectedFiles[0].signer: unknown field (allowed here: name, paths, signers, reason)`,
		`p.yaml:10:5: protectedFiles[1].name: missing: this field is required`,
		`p.yaml:10:12: protectedFiles[1].paths: needs at least one path glob, e.g. C:\Windows\System32\*.exe`,
		`p.yaml:12:12: protectedFiles[2].paths: needs at least one path glob, e.g. C:\Windows\System32\*.exe`,
		`p.yaml:13:14: protectedFiles[2].signers: must be a list, e.g. [a, b]`,
	}, problems(t, err))
}
