package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/workflows"
)

// runner drives one run: it feeds the threats to the simulator, answers the
// investigations that wait like an analyst would, and watches progress.
type runner struct {
	s       *stack
	plan    []Planned
	byID    map[string]Planned
	rate    float64 // threats added per second
	timeout time.Duration
	// starterEvery sends every n-th decision through bin/starter instead of the client.
	starterEvery int

	mu          sync.Mutex
	added       int
	decided     map[string]string    // threat ID → decision sent while it waited
	landed      map[string]bool      // threat ID → the workflow accepted the decision
	lastTry     map[string]time.Time // threat ID → last attempt
	sent        int
	viaStarter  int
	harnessErrs []string
}

func newRunner(s *stack, plan []Planned, rate float64, timeout time.Duration) *runner {
	r := &runner{s: s, plan: plan, byID: map[string]Planned{}, rate: rate, timeout: timeout, starterEvery: 10,
		decided: map[string]string{}, landed: map[string]bool{}, lastTry: map[string]time.Time{}}
	for _, p := range plan {
		r.byID[p.Threat.ID] = p
	}
	return r
}

func (r *runner) addedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.added
}

func (r *runner) harnessError(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(os.Stderr, "loadtest:", msg)
	r.mu.Lock()
	r.harnessErrs = append(r.harnessErrs, msg)
	r.mu.Unlock()
}

// feed adds the planned threats to the simulator at the configured rate, as a
// console sees detections arrive.
func (r *runner) feed(ctx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / r.rate))
	defer tick.Stop()
	for _, p := range r.plan {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := r.s.sim.AddThreat(p.Threat); err != nil {
			r.harnessError("adding threat %s: %v", p.Threat.ID, err)
			continue
		}
		r.mu.Lock()
		r.added++
		r.mu.Unlock()
	}
}

// approve answers every investigation that waits for a human, with the decision
// its kind expects; a decision that got no answer (a worker was down) is sent again.
func (r *runner) approve(ctx context.Context) {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		ids, err := r.listIDs(ctx, fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND %s = '%s'",
			workflows.InvestigateWorkflow, workflows.StageKey.GetName(), workflows.StageAwaitingApproval))
		if err != nil {
			continue // the server may be restarting
		}
		for _, wid := range ids {
			id := strings.TrimPrefix(wid, "s1-threat/")
			p, ok := r.byID[id]
			decision := Expectations[p.Kind].Decision
			if !ok || decision == "" {
				// Not expected to wait; approve so the run drains (the criteria flag it).
				decision = "approve"
			}
			r.mu.Lock()
			done := r.landed[id]
			recent := time.Since(r.lastTry[id]) < 20*time.Second
			if done || recent {
				r.mu.Unlock()
				continue
			}
			r.lastTry[id] = time.Now()
			// Recorded at the first attempt: the investigation waited, and an attempt
			// whose answer was lost to a kill may still have landed.
			if _, tried := r.decided[id]; !tried {
				r.decided[id] = decision
			}
			r.sent++
			viaStarter := r.starterEvery > 0 && r.sent%r.starterEvery == 0
			r.mu.Unlock()
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				r.decide(ctx, id, decision, viaStarter)
			}()
		}
	}
}

func (r *runner) decide(ctx context.Context, id, decision string, viaStarter bool) {
	var err error
	if viaStarter {
		cmd := exec.CommandContext(ctx, filepath.Join(r.s.bin, "starter"), decision, id, "--as", "loadtest@example.com", "--reason", "load-test harness")
		cmd.Env = append(os.Environ(), r.s.env...)
		var out []byte
		out, err = cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		}
	} else {
		uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var h client.WorkflowUpdateHandle
		h, err = r.s.c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
			WorkflowID: workflows.WorkflowID(id), UpdateName: workflows.ApproveUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
			Args: []any{workflows.Decision{Approved: decision == "approve", Approver: "loadtest@example.com", Reason: "load-test harness", Channel: "api"}},
		})
		if err == nil {
			var out string
			err = h.Get(uctx, &out)
		}
	}
	// "already decided": an earlier attempt landed and its answer was lost.
	if err != nil && !strings.Contains(err.Error(), "already decided") {
		return // retried on a later round while the investigation still waits
	}
	r.mu.Lock()
	r.landed[id] = true
	if viaStarter {
		r.viaStarter++
	}
	r.mu.Unlock()
}

// listIDs lists the workflow IDs matching a visibility query.
func (r *runner) listIDs(ctx context.Context, query string) ([]string, error) {
	var ids []string
	err := r.list(ctx, query, func(e *workflowExecution) { ids = append(ids, e.id) })
	return ids, err
}

type workflowExecution struct {
	id, runID, typ string
	status         enums.WorkflowExecutionStatus
}

func (r *runner) list(ctx context.Context, query string, each func(*workflowExecution)) error {
	var token []byte
	for {
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		resp, err := r.s.c.ListWorkflow(lctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		cancel()
		if err != nil {
			return fmt.Errorf("listing %q: %w", query, err)
		}
		for _, e := range resp.Executions {
			each(&workflowExecution{id: e.Execution.WorkflowId, runID: e.Execution.RunId, typ: e.Type.GetName(), status: e.Status})
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return nil
		}
	}
}

// closed counts the finished investigations.
func (r *runner) closed(ctx context.Context) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := r.s.c.CountWorkflow(cctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus != 'Running'", workflows.InvestigateWorkflow)})
	if err != nil {
		return 0, err
	}
	return int(resp.Count), nil
}

// waitDrained returns when every planned threat was added and has a finished
// investigation, or when the deadline passes (the evaluation then finds what is stuck).
func (r *runner) waitDrained(ctx context.Context, progress func(closed int)) (drained bool) {
	last := time.Time{}
	for {
		n, err := r.closed(ctx)
		if err == nil {
			if progress != nil {
				progress(n)
			}
			if time.Since(last) >= 15*time.Second {
				last = time.Now()
				fmt.Printf("  %s: %d/%d threats added, %d investigations finished\n", time.Now().Format("15:04:05"), r.addedCount(), len(r.plan), n)
			}
			if r.addedCount() == len(r.plan) && n >= len(r.plan) {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

// collect gathers the evidence of the run from Temporal's visibility, the workflow
// results and the simulator's counters.
// run feeds the plan, answers approvals and watches for crashed processes, with also
// running beside them (the chaos monkey), until every investigation closed or the
// timeout; then it collects the evidence. drainedAt is when the last one closed (zero
// when they did not all close).
func (r *runner) run(ctx context.Context, progress func(closed int), also ...func(context.Context)) (ev Evidence, drainedAt time.Time, err error) {
	runCtx, cancel := context.WithCancel(ctx)
	tasks := append([]func(context.Context){r.feed, r.approve, r.watchCrashes}, also...)
	done := make(chan struct{}, len(tasks))
	for _, task := range tasks {
		go func() { task(runCtx); done <- struct{}{} }()
	}
	dctx, dcancel := context.WithTimeout(runCtx, r.timeout)
	if r.waitDrained(dctx, progress) {
		drainedAt = time.Now()
	}
	dcancel()
	cancel()
	for range tasks {
		<-done
	}
	if ctx.Err() != nil {
		return Evidence{}, time.Time{}, ctx.Err()
	}
	time.Sleep(2 * time.Second) // let visibility catch up with the last closes
	ev, err = r.collect(ctx)
	return ev, drainedAt, err
}

func (r *runner) collect(ctx context.Context) (Evidence, error) {
	type seen struct {
		runs   int
		status enums.WorkflowExecutionStatus
	}
	byWID := map[string]*seen{}
	err := r.list(ctx, fmt.Sprintf("WorkflowType = '%s'", workflows.InvestigateWorkflow), func(e *workflowExecution) {
		s := byWID[e.id]
		if s == nil {
			s = &seen{}
			byWID[e.id] = s
		}
		s.runs++
		// A running run is what matters; otherwise any closed status (runs are
		// listed newest first).
		if s.runs == 1 || e.status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			s.status = e.status
		}
	})
	if err != nil {
		return Evidence{}, err
	}
	counters := r.s.sim.Counters()
	ev := Evidence{
		Mitigations: counters.Mitigations, AgentActions: counters.AgentActions,
		RateLimitViolations: counters.RateLimitViolations, InjectedFaults: counters.InjectedFaults,
		NotesPerInvestigation: 2,
	}
	for wid := range byWID {
		if _, ok := r.byID[strings.TrimPrefix(wid, "s1-threat/")]; !ok {
			ev.Unexpected = append(ev.Unexpected, wid)
		}
	}
	r.mu.Lock()
	decided := make(map[string]string, len(r.decided))
	for k, v := range r.decided {
		decided[k] = v
	}
	ev.DecisionsViaStarter = r.viaStarter
	ev.HarnessErrors = append(ev.HarnessErrors, r.harnessErrs...)
	r.mu.Unlock()
	for _, p := range r.plan {
		id := p.Threat.ID
		t := ThreatResult{ID: id, Kind: p.Kind, Agent: p.Agent.ID, Expect: Expectations[p.Kind]}
		t.Got.Decision = decided[id]
		t.Got.Notes = counters.Notes[id]
		if s := byWID[workflows.WorkflowID(id)]; s != nil {
			t.Got.Runs = s.runs
			t.Got.Status = statusName(s.status)
			if s.status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				var res workflows.Result
				gctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				err := r.s.c.GetWorkflow(gctx, workflows.WorkflowID(id), "").Get(gctx, &res)
				cancel()
				if err != nil {
					return Evidence{}, fmt.Errorf("result of %s: %w", id, err)
				}
				t.Got.Outcome, t.Got.Verdict = string(res.Outcome), string(res.Verdict)
			}
		}
		ev.Threats = append(ev.Threats, t)
	}
	return ev, nil
}

func statusName(s enums.WorkflowExecutionStatus) string {
	switch s {
	case enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "Running"
	case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "Completed"
	case enums.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "Failed"
	case enums.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "Canceled"
	case enums.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "Terminated"
	case enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "ContinuedAsNew"
	case enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TimedOut"
	}
	return s.String()
}

var errNotDrained = errors.New("not every investigation finished before the deadline")

// watchCrashes restarts a child that exited on its own and records it as a failure:
// workers and the poller must survive kills of their peers and a dev server restart
// without help, and nothing else may stop them.
func (r *runner) watchCrashes(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		for _, name := range r.s.procs.Exited() {
			if name == "temporal" {
				r.harnessError("the Temporal dev server exited on its own (see %s)", r.s.procs.LogPath(name))
				continue
			}
			r.harnessError("%s exited on its own (see %s); restarted", name, r.s.procs.LogPath(name))
			r.s.procs.Stop(name, time.Second)
			if err := r.s.procs.Restart(name); err != nil {
				r.harnessError("restarting %s: %v", name, err)
			}
		}
	}
}
