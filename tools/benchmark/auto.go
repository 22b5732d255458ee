package main

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

// Benchmark agents and threats: Windows desktops, a malicious unsigned dropper that the
// model calls a confident true positive recommending kill + quarantine, which the
// built-in auto policy carries out alone (the auto path). Each threat has its own hash,
// so the analysis cache never answers for another.
const (
	agentIDBase  = 1901000000000000001
	threatIDBase = 1912000000000000001
)

func benchAgents(n int) []scenario.Agent {
	out := make([]scenario.Agent, n)
	for i := range out {
		id := strconv.FormatUint(agentIDBase+uint64(i), 10)
		out[i] = scenario.Agent{
			ID: id, UUID: fmt.Sprintf("%032x", agentIDBase+uint64(i)), ComputerName: fmt.Sprintf("BENCH-WS-%04d", i+1),
			Domain: "BENCH", OSType: "windows", OSName: "Windows 10 Enterprise", OSRevision: "19045", OSArch: "64 bit",
			MachineType: "desktop", AgentVersion: "23.4.2.14",
			AccountID: "1881000000000000001", AccountName: "Bench", SiteID: "1881000000000000101", SiteName: "Bench Site",
			GroupID: "1881000000000001001", GroupName: "Desktops", NetworkStatus: "connected",
			LastLoggedInUserName: `BENCH\staff`, ExternalIP: "198.51.100.140", LastIPToMgmt: fmt.Sprintf("10.60.%d.%d", i/250, i%250+1),
		}
	}
	return out
}

func threatTemplate() scenario.Threat {
	size := int64(612352)
	return scenario.Threat{
		ThreatName: "BenchDropper.exe", Classification: "Ransomware", ClassificationSource: "Cloud", ConfidenceLevel: "malicious",
		FilePath: `\Device\HarddiskVolume3\Users\Public\Libraries\BenchDropper.exe`, FileSize: &size, FileVerificationType: "NotSigned",
		MaliciousProcessArguments: `"C:\Users\Public\Libraries\BenchDropper.exe" --spread smb --encrypt`,
		OriginatorProcess:         "services.exe", ProcessUser: `NT AUTHORITY\SYSTEM`, InitiatedBy: "agent_policy",
		Engines: []string{"SentinelOne Cloud"}, DetectionType: "static",
		Indicators: []scenario.Indicator{{
			Category: "Ransomware", Description: "File copied over SMB to ADMIN$ and started as a service on the target",
			Tactics: []scenario.Tactic{{Name: "Lateral Movement", Source: "MITRE", Techniques: []scenario.Technique{{Name: "T1021.002", Link: "https://attack.mitre.org/techniques/T1021/002/"}}}},
		}},
		CreatedAgo: "0s",
	}
}

// autoResult is what one auto-path run measured.
type autoResult struct {
	ModelDelay time.Duration
	Timing     phaseTiming
	// Floor is the no-op run of FloorActivities activities per workflow, measured right
	// after this one on the same dev server.
	Floor           *phaseTiming
	FloorActivities int
	Outcomes        map[string]int
	Started         []time.Duration // visible → workflow started
	Triage          []time.Duration // visible → triage note posted
	Verified        []time.Duration // visible → last mitigation verified
	Requests        map[string]int  // S1 requests by endpoint during the run
	ModelCalls      int64
	RulesFallbacks  int
	Activities      map[int]int // activities per investigation → investigations
	S1Activities    map[int]int
	HistoryFailures int
}

// floorRate is the floor's completions per second (0 without a floor).
func (a autoResult) floorRate() float64 {
	if a.Floor == nil {
		return 0
	}
	r, _ := a.Floor.rate()
	return r
}

// runAuto adds n auto-path threats at once to a fresh simulator and follows them until
// every investigation has closed.
func (b *bench) runAuto(ctx context.Context, ns string, n int, delay time.Duration) (autoResult, error) {
	res := autoResult{ModelDelay: delay, Outcomes: map[string]int{}, Activities: map[int]int{}, S1Activities: map[int]int{}}
	model := &fakeModel{delay: delay}
	s, err := b.newStack(ctx, stackOptions{
		namespace: ns, scenario: &scenario.Scenario{Name: "bench", Agents: benchAgents(min(n, 500))},
		model: model, policyMode: policy.ModeAuto,
	})
	if err != nil {
		return res, err
	}
	defer s.close()

	before := s.sim.Counters().Requests
	visible := make(map[string]time.Time, n)
	tpl := threatTemplate()
	for i := range n {
		t := tpl
		t.ID = strconv.FormatUint(threatIDBase+uint64(i), 10)
		t.AgentID = strconv.FormatUint(agentIDBase+uint64(i%min(n, 500)), 10)
		t.SHA1 = fmt.Sprintf("%040x", threatIDBase+uint64(i))
		t.SHA256 = fmt.Sprintf("%064x", threatIDBase+uint64(i))
		visible[t.ID] = time.Now() // the simulator's clock: visible from createdAt, now
		if err := s.sim.AddThreat(t); err != nil {
			return res, err
		}
	}
	b.logf("auto path, model %s: %d threats visible; waiting for the investigations", delay, n)

	query := fmt.Sprintf("WorkflowType = '%s'", workflows.InvestigateWorkflow)
	if err := waitFor(ctx, s.c, query, n, b.opts.phaseTimeout, nil); err != nil {
		return res, err
	}
	if err := waitClosed(ctx, s.c, query, n, b.opts.phaseTimeout); err != nil {
		return res, err
	}
	res.Requests = map[string]int{}
	for k, v := range diffCounts(s.sim.Counters().Requests, before) {
		res.Requests[strings.Replace(k, " "+simulator.APIPrefix, " ", 1)] += v
	}
	res.ModelCalls = model.calls.Load()

	execs, err := listExecutions(ctx, s.c, query)
	if err != nil {
		return res, err
	}
	res.Timing = timingOf(execs)
	var mu sync.Mutex
	err = parallel(ctx, len(execs), 8, func(i int) error {
		e := execs[i]
		id := strings.TrimPrefix(e.GetExecution().GetWorkflowId(), "s1-threat/")
		vis, ok := visible[id]
		if !ok {
			return fmt.Errorf("investigation %s is not one of the benchmark's threats", e.GetExecution().GetWorkflowId())
		}
		h, herr := readHistory(ctx, s.c, e.GetExecution().GetWorkflowId(), s.cfg.Temporal.S1TaskQueue)
		var triage time.Time
		fallback := false
		for _, note := range s.sim.NoteRecords(id) {
			if strings.Contains(note.Text, " triage]") {
				triage = note.CreatedAt
				fallback = strings.Contains(note.Text, "Analyzer: rules")
				break
			}
		}
		outcome := "unknown"
		if p := e.GetSearchAttributes().GetIndexedFields()[workflows.OutcomeKey.GetName()]; p != nil {
			outcome = strings.Trim(string(p.GetData()), `"`)
		}
		mu.Lock()
		defer mu.Unlock()
		res.Outcomes[outcome]++
		res.Started = append(res.Started, e.GetStartTime().AsTime().Sub(vis))
		if !triage.IsZero() {
			res.Triage = append(res.Triage, triage.Sub(vis))
		}
		if fallback {
			res.RulesFallbacks++
		}
		if herr != nil {
			res.HistoryFailures++
			return nil
		}
		res.Activities[h.Activities]++
		res.S1Activities[h.S1Activities]++
		if !h.LastVerified.IsZero() {
			res.Verified = append(res.Verified, h.LastVerified.Sub(vis))
		}
		return nil
	})
	return res, err
}

// diffCounts is after − before, dropping zeros.
func diffCounts(after, before map[string]int) map[string]int {
	out := maps.Clone(after)
	for k, v := range before {
		out[k] -= v
	}
	maps.DeleteFunc(out, func(_ string, v int) bool { return v == 0 })
	return out
}

// mode is the most frequent key of a histogram (the smallest on a tie), 0 when empty.
func mode(h map[int]int) int {
	best, bestN := 0, 0
	for k, n := range h {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return best
}
