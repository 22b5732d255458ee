// Package integration runs s1copilot end to end on a real Temporal dev server: the real
// worker and poller wiring, the real SentinelOne client, the simulator over HTTP.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/ingest"
	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/devstack"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

const token = "integration-token"

// startDevServer starts a dev server whose client reports its metrics to mh (nil: none).
func startDevServer(t *testing.T, ctx context.Context, mh client.MetricsHandler) *testsuite.DevServer {
	t.Helper()
	so := devstack.DevServerOptions(devstack.TemporalForTest(t))
	so.ClientOptions.MetricsHandler = mh
	srv, err := testsuite.StartDevServer(ctx, so)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

type stack struct {
	t   *testing.T
	ctx context.Context
	c   client.Client
	sim *simulator.Simulator
	cfg config.Config
	// acts and workers are the worker process's activities and SDK workers.
	acts    *activities.Activities
	workers []worker.Worker
	// inv is the deployment's investigations, as the CLI and the Slack bot reach them.
	inv    workflows.Investigations
	poller worker.Worker
	audit  *syncBuffer // the audit log, JSON lines
	// metrics is the worker's registry (SDK and s1copilot metrics), as /metrics serves it.
	metrics *metrics.Prometheus
	// threatIDs are the threats of the simulator's scenario.
	threatIDs []string
	// ahead moves the clock of the worker's caches (control state, shared reads) ahead
	// of real time, so a test can let a cache entry expire without sleeping.
	ahead *atomic.Int64
}

// advance lets the worker's caches see d more time pass.
func (s *stack) advance(d time.Duration) { s.ahead.Add(int64(d)) }

// stackOptions adjust the configuration and the simulator before the stack starts.
type stackOptions struct {
	config func(*config.Config)
	sim    func(*simulator.Options)
	// scenario is the simulator's embedded scenario (default demo).
	scenario string
	// beside runs this stack as a second deployment on that stack's dev server.
	beside *stack
	// edit changes the scenario before the simulator loads it (more agents, say).
	edit func(*scenario.Scenario)
	// timeout bounds the stack's life (default 4 minutes).
	timeout time.Duration
}

// newStack starts a dev server, the simulator, and the workers wired exactly like the
// worker binary.
func newStack(t *testing.T, o stackOptions) *stack {
	if o.timeout == 0 {
		o.timeout = 4 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	t.Cleanup(cancel)
	// Every investigation runs through the Prometheus registry: a metric emitted with
	// two label sets would be dropped there, and fails the test.
	prom, err := metrics.NewPrometheus(metrics.Options{ReportEvery: 50 * time.Millisecond, OnError: func(err error) { t.Errorf("metric dropped: %v", err) }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = prom.Close() })
	var c client.Client
	var address string
	if o.beside == nil {
		srv := startDevServer(t, ctx, prom.Handler)
		c, address = srv.Client(), srv.FrontendHostPort()
	} else {
		address = o.beside.cfg.Temporal.Address
		c, err = client.Dial(client.Options{HostPort: address, Namespace: "default", MetricsHandler: prom.Handler})
		require.NoError(t, err)
		t.Cleanup(c.Close)
	}

	if o.scenario == "" {
		o.scenario = "demo"
	}
	sc, err := scenario.LoadFS(scenarios.FS, o.scenario)
	require.NoError(t, err)
	if o.edit != nil {
		o.edit(sc)
	}
	simOpts := simulator.Options{Token: token, MitigationDelay: 300 * time.Millisecond, IsolationDelay: 300 * time.Millisecond}
	if o.sim != nil {
		o.sim(&simOpts)
	}
	sim, err := simulator.New(sc, simOpts)
	require.NoError(t, err)
	hs := httptest.NewServer(sim.Handler())
	t.Cleanup(hs.Close)

	cfg := config.Defaults()
	cfg.S1URL, cfg.S1Token = hs.URL, token
	cfg.Temporal = config.Temporal{Address: address, Namespace: "default", TaskQueue: "s1copilot-it", S1TaskQueue: "s1copilot-it-s1"}
	cfg.LLMTimeout = time.Minute
	cfg.LLMCacheTTL = 0 // tests that are about the analysis cache turn it on
	cfg.PollInterval, cfg.PollOverlap, cfg.PollLookback = time.Second, time.Minute, time.Hour
	cfg.PolicyMode, cfg.MinConfidence = policy.ModeAuto, 0.8
	cfg.ApprovalTimeout = 10 * time.Minute
	cfg.MitigationTimeout, cfg.MitigationPoll = 5*time.Second, 300*time.Millisecond
	cfg.LogLevel = "error"
	if o.config != nil {
		o.config(&cfg)
	}
	require.NoError(t, cfg.Validate())
	if cfg.Temporal.Codec.Enabled() {
		// As every process does through config.Temporal.Dial: payloads encrypted.
		o := client.Options{Namespace: "default", MetricsHandler: prom.Handler}
		require.NoError(t, cfg.Temporal.Encrypt(&o))
		c, err = client.NewClientFromExisting(c, o)
		require.NoError(t, err)
		t.Cleanup(c.Close)
	}
	acts, err := activities.New(cfg)
	require.NoError(t, err)
	ahead := &atomic.Int64{}
	acts.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	auditLog := &syncBuffer{}
	aw := audit.NewWriter(auditLog)
	aw.Deny = []string{token}
	acts.Audit = aw
	workers := workflows.NewWorkers(c, cfg, acts, nil)
	for _, w := range workers {
		require.NoError(t, w.Start())
		t.Cleanup(w.Stop)
	}
	var threatIDs []string
	for _, th := range sc.Threats {
		threatIDs = append(threatIDs, th.ID)
	}
	s := &stack{t: t, ctx: ctx, c: c, sim: sim, threatIDs: threatIDs, cfg: cfg, audit: auditLog, metrics: prom, ahead: ahead, acts: acts, workers: workers,
		inv: workflows.Investigations{Client: c, TaskQueue: cfg.Temporal.TaskQueue, Encrypted: cfg.Temporal.Codec.Enabled()}}
	require.NoError(t, s.control().Ensure(ctx))
	return s
}

// startPoller does what `starter poll` does: host the poller worker, ensure the poller
// workflow runs with the configured settings.
func (s *stack) startPoller() {
	s1, err := ingest.S1Client(s.cfg) // its own client and rate limits, as in `starter poll`
	require.NoError(s.t, err)
	w := worker.New(s.c, s.cfg.Temporal.PollerTaskQueue(), worker.Options{WorkerStopTimeout: ingest.WorkerStopTimeout})
	ingest.Register(w, &ingest.Poller{S1: s1, PageSize: 200, Investigations: ingest.OnTemporal{Investigations: s.inv}})
	require.NoError(s.t, w.Start())
	require.NoError(s.t, ingest.EnsurePoller(s.ctx, s.c, s.cfg.Temporal, ingest.SettingsOf(s.cfg)))
	s.poller = w
}

func (s *stack) investigations() map[string]int {
	resp, err := s.c.ListWorkflow(s.ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s'", workflows.InvestigateWorkflow), PageSize: 1000,
	})
	require.NoError(s.t, err)
	byID := map[string]int{}
	for _, e := range resp.Executions {
		byID[e.Execution.WorkflowId]++
	}
	return byID
}

// control is the deployment's control workflow.
func (s *stack) control() control.Client {
	return control.Client{C: s.c, WorkflowID: s.cfg.Temporal.ControlWorkflowID(), TaskQueue: s.cfg.Temporal.ControlTaskQueue()}
}

// investigationsOnQueue are the threats whose investigation runs on this deployment's
// task queue.
func (s *stack) investigationsOnQueue() map[string]bool {
	resp, err := s.c.ListWorkflow(s.ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s' AND TaskQueue = '%s'", workflows.InvestigateWorkflow, s.cfg.Temporal.TaskQueue), PageSize: 1000,
	})
	require.NoError(s.t, err)
	out := map[string]bool{}
	for _, e := range resp.Executions {
		id, ok := workflows.ThreatIDFromWorkflowID(e.Execution.WorkflowId)
		require.True(s.t, ok)
		out[id] = true
	}
	return out
}

// pollerTotals are what the poller did since it started, across its runs.
func (s *stack) pollerTotals() ingest.Totals {
	st, err := ingest.Status(s.ctx, s.c, s.cfg.Temporal)
	require.NoError(s.t, err)
	require.Positive(s.t, st.Totals.Polls, "no completed poll")
	return st.Totals
}

func (s *stack) stage(threatID string) (string, bool) {
	d, err := s.c.DescribeWorkflow(s.ctx, workflows.WorkflowID(threatID), "")
	if err != nil {
		return "", false
	}
	st, _ := d.TypedSearchAttributes.GetKeyword(workflows.StageKey)
	return st, d.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// anyRunning says whether any of the threats' investigations is still running.
func (s *stack) anyRunning(threatIDs []string) bool {
	for _, id := range threatIDs {
		if _, running := s.stage(id); running {
			return true
		}
	}
	return false
}

// approveWaiting approves every investigation waiting for a human, by signal (the
// temporal CLI's path), and remembers which ones it approved.
func (s *stack) approveWaiting(threatIDs []string, approved map[string]bool) {
	for _, id := range threatIDs {
		if st, running := s.stage(id); running && st == string(workflows.StageAwaitingApproval) && !approved[id] {
			require.NoError(s.t, s.c.SignalWorkflow(s.ctx, workflows.WorkflowID(id), "", workflows.ApprovalSignal,
				workflows.Decision{Approved: true, Approver: "it-analyst", Reason: "integration test"}))
			approved[id] = true
		}
	}
}

func (s *stack) result(threatID string) workflows.Result {
	var r workflows.Result
	require.NoError(s.t, s.c.GetWorkflow(s.ctx, workflows.WorkflowID(threatID), "").Get(s.ctx, &r))
	return r
}

func newThreat(id, agentID string) scenario.Threat {
	return scenario.Threat{
		ID: id, AgentID: agentID, ThreatName: "mimikatz.exe", Classification: "Malware", ClassificationSource: "Engine",
		ConfidenceLevel: "malicious", SHA1: "0123456789abcdef0123456789abcdef01234567", FilePath: `C:\Users\Public\mimikatz.exe`,
		InitiatedBy: "agent_policy", DetectionType: "static", CreatedAgo: "0s",
	}
}

func TestEndToEndPollerWorkerSimulator(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.startPoller()
	seeded := []string{"1910000000000000001", "1910000000000000002", "1910000000000000003", "1910000000000000004", "1910000000000000005"}
	// Two threats arrive while it runs: one before and one after the poller restarts.
	// Both sit on the laptop (auto-containment allowed, isolation would need approval).
	late := []string{"1910000000000000101", "1910000000000000102"}
	all := append(append([]string{}, seeded...), late...)

	approved := map[string]bool{}
	waitUntil(t, s.ctx, "all seeded threats have investigations", func() bool {
		s.approveWaiting(seeded, approved)
		return len(s.investigations()) >= len(seeded)
	})
	require.NoError(t, s.sim.AddThreat(newThreat(late[0], "1900000000000000002")))
	waitUntil(t, s.ctx, "the threat added while running is picked up", func() bool {
		s.approveWaiting(all, approved)
		return s.investigations()[workflows.WorkflowID(late[0])] == 1
	})

	// Restart the poller: stop its worker, start a new one and ensure the poller workflow again.
	s.poller.Stop()
	s.startPoller()
	require.NoError(t, s.sim.AddThreat(newThreat(late[1], "1900000000000000002")))

	waitUntil(t, s.ctx, "every investigation finished", func() bool {
		s.approveWaiting(all, approved)
		return !s.anyRunning(all) && len(s.investigations()) == len(all)
	})

	// Exactly one investigation per threat, and nothing else.
	inv := s.investigations()
	assert.Len(t, inv, len(all))
	for _, id := range all {
		assert.Equal(t, 1, inv[workflows.WorkflowID(id)], "investigations of %s", id)
	}

	want := map[string]workflows.Outcome{
		seeded[0]: workflows.OutcomeMitigated, seeded[1]: workflows.OutcomeMitigated, seeded[2]: workflows.OutcomeRecommended,
		seeded[3]: workflows.OutcomeMitigated, seeded[4]: workflows.OutcomePartiallyMitigated,
		late[0]: workflows.OutcomeMitigated, late[1]: workflows.OutcomeMitigated,
	}
	for id, outcome := range want {
		r := s.result(id)
		assert.Equal(t, outcome, r.Outcome, "outcome of %s: %+v", id, r.Actions)
		assert.Equal(t, "rules", r.Analyzer, "no model is configured, so the rules engine must say it ran")
	}
	// Write-back: mitigated threats are resolved with the verdict; the recommend-only PUA is
	// untouched; the partial mitigation is unresolved with our verdict, for an analyst to finish.
	s1, err := s1client.New(s.cfg.S1URL, token, s1client.WithoutRateLimits())
	require.NoError(t, err)
	for id, want := range map[string][2]string{
		seeded[1]: {"resolved", "true_positive"}, seeded[2]: {"unresolved", "undefined"}, seeded[4]: {"unresolved", "true_positive"},
	} {
		th, err := s1.GetThreat(s.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, [2]string{th.ThreatInfo.IncidentStatus, th.ThreatInfo.AnalystVerdict}, "console state of %s", id)
	}

	// The no-VSS rollback was accepted by S1 and never settled: reported, not success.
	for _, a := range s.result(seeded[4]).Actions {
		if a.Action == "rollback" {
			assert.Equal(t, workflows.ActionTimedOut, a.State)
		}
	}

	// The simulator saw each side effect exactly once.
	counters := s.sim.Counters()
	for _, id := range all {
		assert.Equal(t, 2, counters.Notes[id], "notes on %s (triage + outcome)", id)
		notes := strings.Join(s.sim.Notes(id), "\n")
		assert.Contains(t, notes, "s1copilot triage:")
		assert.Contains(t, notes, "Analyzer: rules (fallback: no LLM configured")
		assert.NotContains(t, notes, "Context:", "without a model no context is gathered")
		assert.NotContains(t, notes, token, "the API token must never reach a note")
	}
	for threat, byAction := range counters.Mitigations {
		for action, n := range byAction {
			assert.Equal(t, 1, n, "%s requested %d times on %s", action, n, threat)
		}
	}
	assert.Equal(t, 1, counters.Mitigations[seeded[1]]["kill"])
	assert.Equal(t, 1, counters.Mitigations[seeded[4]]["rollback-remediation"])
	assert.Zero(t, counters.Mitigations[seeded[2]]["kill"], "the PUA must not be acted on")
	assert.Equal(t, 1, counters.AgentActions["1900000000000000001"]["disconnect"], "the approved server isolation ran once")
	assert.Zero(t, counters.Unauthorized)

	// Every history replays against the current code.
	for _, id := range all {
		s.replayAndMaybeSave(t, id, "")
	}

	// The poller's own accounting: every threat started exactly once across all polls,
	// the restart included (its cursor survived), and no start was ever refused as a duplicate.
	totals := s.pollerTotals()
	assert.Equal(t, len(all), totals.Started, "investigations started by the poller")
	assert.Zero(t, totals.AlreadyStarted, "the poller tried to start an investigated threat again")

	// The audit log has a decision and a verified outcome for every action taken, the
	// approvals with their approver, and nothing secret.
	recs := s.audit.records(t)
	kinds := map[audit.Kind]int{}
	for _, r := range recs {
		require.NoError(t, r.Validate())
		kinds[r.Kind]++
		if r.Kind == audit.KindApproval {
			assert.Equal(t, "it-analyst", r.Actor)
		}
	}
	assert.Equal(t, len(all), kinds[audit.KindTriage])
	assert.Equal(t, len(approved), kinds[audit.KindApproval])
	assert.Positive(t, kinds[audit.KindActionVerified])
	assert.Positive(t, kinds[audit.KindDecision])

	// A duplicate start is refused and reported, never a second investigation.
	started, err := s.inv.Start(s.ctx, seeded[0], workflows.StartHint{})
	require.NoError(t, err)
	assert.False(t, started)
	assert.Equal(t, 1, s.investigations()[workflows.WorkflowID(seeded[0])])
}

// syncBuffer is a bytes.Buffer safe for the worker's concurrent activities.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) records(t *testing.T) []audit.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []audit.Record
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var r audit.Record
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		out = append(out, r)
	}
	return out
}

func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
