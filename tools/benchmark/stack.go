package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/ingest"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

const simToken = "bench-token"

// stack is one phase's system: the simulator over HTTP, and (unless the worker runs as
// a separate process) the workers wired like the worker binary, plus the poller wired
// like `starter poll`, all in its own namespace of the shared dev server.
type stack struct {
	c      client.Client
	sim    *simulator.Simulator
	cfg    config.Config
	closes []func()
}

type stackOptions struct {
	namespace  string
	scenario   *scenario.Scenario
	model      *fakeModel // nil: the rules engine analyses
	policyMode policy.Mode
	// externalWorker: start no investigation workers here (the RSS phase runs bin/worker).
	externalWorker bool
	// realLimits keeps the product's SentinelOne limits whatever -real-limits says, and
	// has the simulator enforce the console's (the containment runs).
	realLimits bool
	// coalesceWindow, when set, is S1C_S1_COALESCE_WINDOW.
	coalesceWindow *time.Duration
}

func (s *stack) close() {
	for i := len(s.closes) - 1; i >= 0; i-- {
		s.closes[i]()
	}
}

func (b *bench) newStack(ctx context.Context, o stackOptions) (_ *stack, err error) {
	s := &stack{}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	s.c, err = b.namespaceClient(o.namespace)
	if err != nil {
		return nil, err
	}
	s.closes = append(s.closes, s.c.Close)
	realLimits := b.opts.realLimits || o.realLimits
	s.sim, err = simulator.New(o.scenario, simulator.Options{Token: simToken, MitigationDelay: b.opts.mitigationDelay, IsolationDelay: b.opts.mitigationDelay,
		EnforceRateLimits: o.realLimits})
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	hs := httptest.NewServer(s.sim.Handler())
	s.closes = append(s.closes, hs.Close)

	s.cfg = config.Defaults()
	s.cfg.S1URL, s.cfg.S1Token = hs.URL, simToken
	s.cfg.Temporal = config.Temporal{Address: b.srv.FrontendHostPort(), Namespace: o.namespace, TaskQueue: "bench", S1TaskQueue: "bench-s1"}
	s.cfg.LLMTimeout, s.cfg.LLMCacheTTL = time.Minute, time.Hour
	s.cfg.PollInterval, s.cfg.PollOverlap, s.cfg.PollLookback = b.opts.pollInterval, time.Minute, time.Hour
	s.cfg.PolicyMode, s.cfg.MinConfidence = o.policyMode, 0.8
	s.cfg.ApprovalTimeout = 24 * time.Hour
	s.cfg.MitigationTimeout, s.cfg.MitigationPoll = 5*time.Minute, b.opts.mitigationPoll
	s.cfg.LogLevel = "error"
	if o.coalesceWindow != nil {
		s.cfg.S1CoalesceWindow = *o.coalesceWindow
	}
	var s1opts []s1client.Option
	if !realLimits {
		// The S1 budget (the per-class client buckets, and the task-queue backstop)
		// would bound the run long before Temporal does; it is reported as a bound instead.
		s.cfg.S1ActivitiesPerSecond = 100000
		s1opts = append(s1opts, s1client.WithoutRateLimits())
	}
	if o.model != nil {
		ms := httptest.NewServer(o.model)
		s.closes = append(s.closes, ms.Close)
		s.cfg.LLMBaseURL, s.cfg.LLMAPIKey, s.cfg.LLMModel = ms.URL+"/v1", "sk-bench-not-a-secret-0000000000", "bench-model"
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("benchmark configuration: %w", err)
	}

	if !o.externalWorker {
		acts, err := activities.New(s.cfg, s1opts...)
		if err != nil {
			return nil, err
		}
		acts.Audit = audit.NewWriter(io.Discard)
		for _, w := range workflows.NewWorkers(s.c, s.cfg, acts, nil) {
			if err := w.Start(); err != nil {
				return nil, fmt.Errorf("starting worker: %w", err)
			}
			s.closes = append(s.closes, w.Stop)
		}
		if err := (control.Client{C: s.c, WorkflowID: s.cfg.Temporal.ControlWorkflowID(), TaskQueue: s.cfg.Temporal.ControlTaskQueue()}).Ensure(ctx); err != nil {
			return nil, err
		}
	}

	// The poller, as `starter poll` wires it.
	var ps1 *s1client.Client
	if realLimits {
		ps1, err = ingest.S1Client(s.cfg)
	} else {
		ps1, err = s1client.New(s.cfg.S1URL, s.cfg.S1Token.Reveal(), s1client.WithoutRateLimits())
	}
	if err != nil {
		return nil, err
	}
	pw := worker.New(s.c, s.cfg.Temporal.PollerTaskQueue(), worker.Options{})
	ingest.Register(pw, &ingest.Poller{S1: ps1, PageSize: 200,
		Investigations: ingest.OnTemporal{Investigations: workflows.Investigations{Client: s.c, TaskQueue: s.cfg.Temporal.TaskQueue}}})
	if err := pw.Start(); err != nil {
		return nil, fmt.Errorf("starting the poller worker: %w", err)
	}
	s.closes = append(s.closes, pw.Stop)
	if err := ingest.EnsurePoller(ctx, s.c, s.cfg.Temporal, ingest.SettingsOf(s.cfg)); err != nil {
		return nil, err
	}
	s.closes = append(s.closes, func() {
		// Stop polling before the simulator goes away; the dev server is discarded anyway.
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.c.TerminateWorkflow(dctx, s.cfg.Temporal.PollerWorkflowID(), "", "benchmark done")
	})
	// One completed poll: the cursor exists and the stack is warm before threats arrive.
	if err := waitForFirstPoll(ctx, s.c, s.cfg.Temporal, time.Minute); err != nil {
		return nil, err
	}
	return s, nil
}

// waitForFirstPoll waits until the poller has completed a poll.
func waitForFirstPoll(ctx context.Context, c client.Client, t config.Temporal, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st, err := ingest.Status(ctx, c, t)
		if err == nil && st.Totals.Polls > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("first poll: none completed in %s (last error: %v, %s)", timeout, err, st.LastError)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
