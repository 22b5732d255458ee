package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/investigation"
)

// The ransomware rule fires on what ransomware does (encryption, every shadow copy
// deleted, recovery disabled), not on a shadow copy being touched: backup software
// lists, creates and prunes them every night.
func TestRansomwareNeedsDestruction(t *testing.T) {
	for name, f := range map[string]investigation.ThreatFacts{
		"vssadmin delete shadows /all": desktop(investigation.ThreatFacts{ConfidenceLevel: "suspicious",
			FilePath: `C:\ProgramData\x.exe`, CommandLine: "cmd.exe /c vssadmin.exe delete shadows /all /quiet"}),
		"wmic shadowcopy delete": desktop(investigation.ThreatFacts{ConfidenceLevel: "suspicious",
			FilePath: `C:\ProgramData\x.exe`, CommandLine: "wmic.exe shadowcopy delete /nointeractive"}),
		"WMI deletes every shadow copy": desktop(investigation.ThreatFacts{ConfidenceLevel: "suspicious", FilePath: `C:\ProgramData\x.exe`,
			CommandLine: `powershell -c "Get-WmiObject Win32_Shadowcopy | ForEach-Object {$_.Delete()}"`}),
		"recovery disabled": desktop(investigation.ThreatFacts{ConfidenceLevel: "suspicious", FilePath: `C:\ProgramData\x.exe`,
			CommandLine: "bcdedit /set {default} recoveryenabled No"}),
		"files renamed en masse": server(investigation.ThreatFacts{ConfidenceLevel: "suspicious", FilePath: `C:\PerfLogs\enc.exe`,
			Indicators: []string{"General: Process renamed 5120 files to the .sykffle extension within one minute"}}),
		"T1490 without detail": desktop(investigation.ThreatFacts{ConfidenceLevel: "suspicious", FilePath: `C:\ProgramData\x.exe`,
			Techniques: []string{"T1490"}}),
	} {
		t.Run(name, func(t *testing.T) {
			a := analyze(t, f)
			assert.Equal(t, truePositive, a.Verdict)
			assert.Contains(t, a.Rules, Ransomware)
			assert.Contains(t, a.RecommendedActions, isolate)
		})
	}

	routine := analyze(t, desktop(investigation.ThreatFacts{ConfidenceLevel: "suspicious", FilePath: `C:\ProgramData\tool.exe`,
		CommandLine: "vssadmin.exe list shadows /for=D: & vssadmin.exe create shadow /for=D:", Techniques: []string{"T1490"},
		Indicators: []string{"Evasion: Process enumerated and created volume shadow copies"}}))
	assert.NotContains(t, routine.Rules, Ransomware)
	assert.Equal(t, suspicious, routine.Verdict, "an unknown tool maintaining shadow copies is worth a look, not a ransomware alert")
}

// veeam is a signed backup agent creating shadow copies on a production file server,
// which SentinelOne's behavioural engine calls ransomware.
func veeam() investigation.ThreatFacts {
	return server(investigation.ThreatFacts{ThreatName: "Veeam.EndPoint.Service.exe", Classification: "Ransomware",
		ConfidenceLevel: "malicious", FileVerificationType: "SignedVerified", PublisherName: "Veeam Software Group GmbH",
		FilePath:          `\Device\HarddiskVolume2\Program Files\Veeam\Endpoint Backup\Veeam.EndPoint.Service.exe`,
		CommandLine:       "vssadmin.exe list shadows /for=D: & vssadmin.exe create shadow /for=D:",
		OriginatorProcess: "Veeam.EndPoint.Service.exe", Techniques: []string{"T1490"},
		Indicators: []string{"Ransomware: Process enumerated and created volume shadow copies"},
		Tags:       []string{"sentinelone:env=prod", "sentinelone:role=file-server"}})
}

// A signed backup agent is not isolated and rolled back for doing its job...
func TestSignedBackupAgentIsNotRansomware(t *testing.T) {
	a := analyze(t, veeam())
	assert.Equal(t, falsePos, a.Verdict)
	assert.Equal(t, []string{BackupSoftware}, a.Rules)
	assert.Empty(t, a.RecommendedActions)
	assert.Contains(t, a.Summary, "ransomware classification")

	// ...but a signature is not innocence: deleting every shadow copy is not its job.
	f := veeam()
	f.CommandLine = "vssadmin.exe delete shadows /all /quiet"
	a = analyze(t, f)
	assert.Equal(t, truePositive, a.Verdict)
	assert.Contains(t, a.Rules, Ransomware)
	assert.Contains(t, a.RecommendedActions, isolate)
	assert.Contains(t, a.Summary, "set aside")
}

// backupJob is the OS's vssadmin pruning one shadow copy by ID for the backup agent.
func backupJob(tags ...string) investigation.ThreatFacts {
	return server(investigation.ThreatFacts{ThreatName: "vssadmin.exe", Classification: "Ransomware", ConfidenceLevel: "malicious",
		FilePath: `C:\Windows\System32\vssadmin.exe`, FileVerificationType: "SignedVerified", PublisherName: "Microsoft Windows",
		CommandLine:       "vssadmin.exe delete shadows /shadow={3f1a2b4c-5d6e-7f80-9a1b-2c3d4e5f6a7b} /quiet",
		OriginatorProcess: "cmd.exe", Techniques: []string{"T1490"},
		Indicators: []string{"Evasion: vssadmin deleted a volume shadow copy"}, Tags: tags})
}

func TestBackupServerDeletingOneShadowCopy(t *testing.T) {
	a := analyze(t, backupJob("sentinelone:role=backup-server"))
	assert.Equal(t, falsePos, a.Verdict)
	assert.Equal(t, []string{BackupSoftware}, a.Rules)

	a = analyze(t, backupJob("sentinelone:role=file-server"))
	assert.Equal(t, truePositive, a.Verdict, "without the backup context, S1's ransomware call stands")
	assert.NotContains(t, a.RecommendedActions, quarantine, "vssadmin is Windows' own")

	all := backupJob("sentinelone:role=backup-server")
	all.CommandLine = "vssadmin.exe delete shadows /all /quiet"
	assert.Equal(t, truePositive, analyze(t, all).Verdict, "a backup server loses every shadow copy only to ransomware")
}
