package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/s1copilot/s1copilot/scenario"
)

// Kind is the path a generated threat is meant to take through an investigation.
type Kind string

const (
	// KindAuto: a malicious trojan on a Windows desktop; kill and quarantine run
	// without a human.
	KindAuto Kind = "auto"
	// KindApprove: the same trojan on a Windows server (servers always wait); the
	// harness approves.
	KindApprove Kind = "approve"
	// KindReject: as KindApprove, and the harness rejects.
	KindReject Kind = "reject"
	// KindRollback: ransomware on a desktop without VSS; kill and quarantine run at
	// once, the harness approves the rest, and the rollback is accepted but never
	// settles.
	KindRollback Kind = "rollback"
)

// Kinds in the order the mix is given on the command line.
var Kinds = []Kind{KindAuto, KindApprove, KindReject, KindRollback}

// Expect is the end state a threat of a kind must reach.
type Expect struct {
	Verdict string
	Outcome string
	// Decision is what the harness sends when the investigation waits: "approve",
	// "reject", or "" when it must not wait at all.
	Decision string
}

// Expectations per kind (outcome names are the workflow's S1Outcome values).
var Expectations = map[Kind]Expect{
	KindAuto:     {Verdict: "true_positive", Outcome: "mitigated"},
	KindApprove:  {Verdict: "true_positive", Outcome: "mitigated", Decision: "approve"},
	KindReject:   {Verdict: "true_positive", Outcome: "rejected", Decision: "reject"},
	KindRollback: {Verdict: "true_positive", Outcome: "partially_mitigated", Decision: "approve"},
}

// Planned is one generated threat with its agent.
type Planned struct {
	Kind   Kind
	Threat scenario.Threat
	Agent  scenario.Agent
}

// Mix is the share of each kind, e.g. {auto:0.4, approve:0.25, reject:0.2, rollback:0.15}.
type Mix map[Kind]float64

// DefaultMix exercises every path, the auto path most.
var DefaultMix = Mix{KindAuto: 0.4, KindApprove: 0.25, KindReject: 0.2, KindRollback: 0.15}

// counts splits n by the mix (largest remainders), so every kind with a share gets
// its rounded part and the parts add up to n.
func (m Mix) counts(n int) (map[Kind]int, error) {
	var total float64
	for k, f := range m {
		if _, ok := Expectations[k]; !ok {
			return nil, fmt.Errorf("mix: unknown kind %q (known: auto, approve, reject, rollback)", k)
		}
		if f < 0 {
			return nil, fmt.Errorf("mix: share of %s is negative", k)
		}
		total += f
	}
	if total <= 0 {
		return nil, fmt.Errorf("mix: no kind has a positive share")
	}
	out, given := map[Kind]int{}, 0
	for _, k := range Kinds {
		out[k] = int(float64(n) * m[k] / total)
		given += out[k]
	}
	for _, k := range Kinds {
		if given == n {
			break
		}
		if m[k] > 0 {
			out[k]++
			given++
		}
	}
	return out, nil
}

// Plan generates n threats, one agent each (so an isolation can only be repeated by
// the same investigation), in an order shuffled by seed: the same seed gives the same
// threats in the same order.
func Plan(n int, mix Mix, seed uint64) ([]Planned, error) {
	if n < 1 || n > 10000 {
		return nil, fmt.Errorf("threats: %d, must be between 1 and 10000", n)
	}
	counts, err := mix.counts(n)
	if err != nil {
		return nil, err
	}
	var kinds []Kind
	for _, k := range Kinds {
		for range counts[k] {
			kinds = append(kinds, k)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6f_6164_7465_7374))
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	out := make([]Planned, 0, n)
	for i, k := range kinds {
		out = append(out, planned(i, k, seed))
	}
	return out, nil
}

const (
	threatIDBase = 1930000000000000001
	agentIDBase  = 1920000000000000001
)

func planned(i int, k Kind, seed uint64) Planned {
	id := strconv.FormatUint(threatIDBase+uint64(i), 10)
	agentID := strconv.FormatUint(agentIDBase+uint64(i), 10)
	// Every threat has its own file, so no analysis or blocklist is shared.
	h := sha256.Sum256([]byte(fmt.Sprintf("%d/%d", seed, i)))
	sum := hex.EncodeToString(h[:])
	yes, no := true, false
	a := scenario.Agent{
		ID: agentID, UUID: sum[:32], Domain: "LOADTEST",
		OSType: "windows", OSName: "Windows 10 Enterprise", OSRevision: "19045", OSArch: "64 bit",
		MachineType: "desktop", AgentVersion: "23.4.2.14",
		AccountID: "1890000000000000001", AccountName: "Load Test Corp", SiteID: "1890000000000000101", SiteName: "Load Test HQ",
		GroupID: "1890000000000001001", GroupName: "Workstations",
		NetworkStatus: "connected", IsActive: &yes, LastLoggedInUserName: "LOADTEST\\user",
		ExternalIP: "198.51.100.10", LastIPToMgmt: fmt.Sprintf("10.%d.%d.%d", 80+i/62500, (i/250)%250, i%250+1),
		VSSEnabled: &yes,
	}
	name := fmt.Sprintf("upd%s.exe", sum[:8])
	t := scenario.Threat{
		ID: id, AgentID: agentID, ThreatName: name,
		Classification: "Trojan", ClassificationSource: "Cloud", ConfidenceLevel: "malicious",
		SHA1: sum[:40], SHA256: sum, MD5: sum[:32],
		FilePath:             `\Device\HarddiskVolume3\Users\user\AppData\Local\Temp\` + name,
		FileVerificationType: "NotSigned", OriginatorProcess: "explorer.exe", ProcessUser: "LOADTEST\\user",
		MaliciousProcessArguments: `"C:\Users\user\AppData\Local\Temp\` + name + `"`,
		InitiatedBy:               "agent_policy", Engines: []string{"SentinelOne Cloud"}, DetectionType: "static",
		CreatedAgo: "0s",
	}
	switch k {
	case KindApprove, KindReject:
		a.ComputerName = fmt.Sprintf("LT-SRV-%05d", i+1)
		a.MachineType, a.OSName, a.OSRevision = "server", "Windows Server 2019 Standard", "17763"
		a.GroupName = "Servers"
	case KindRollback:
		a.ComputerName = fmt.Sprintf("LT-NOVSS-%05d", i+1)
		a.VSSEnabled = &no
		t.Classification, t.ClassificationSource, t.DetectionType = "Ransomware", "Behavioral", "dynamic"
		t.Engines = []string{"Behavioral AI"}
		t.Indicators = []scenario.Indicator{{
			Category: "Ransomware", Description: "Process encrypted files and appended a new extension",
			Tactics: []scenario.Tactic{{Name: "Impact", Source: "MITRE",
				Techniques: []scenario.Technique{{Name: "T1486", Link: "https://attack.mitre.org/techniques/T1486/"}}}},
		}}
	default:
		a.ComputerName = fmt.Sprintf("LT-WS-%05d", i+1)
	}
	return Planned{Kind: k, Threat: t, Agent: a}
}
