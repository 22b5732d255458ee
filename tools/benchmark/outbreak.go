package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/workflows"
)

// outbreakScenario is the simulator's outbreak scenario (one file, one sha1/sha256, on
// many endpoints) with its generator resized to n threats. The embedded file is decoded
// without expanding its generator so the count can change; simulator.New expands it.
func outbreakScenario(n int) (*scenario.Scenario, error) {
	raw, err := scenarios.FS.ReadFile("outbreak.json")
	if err != nil {
		return nil, fmt.Errorf("outbreak scenario: %w", err)
	}
	var sc scenario.Scenario
	if err := json.Unmarshal(raw, &sc); err != nil {
		return nil, fmt.Errorf("outbreak scenario: %w", err)
	}
	if len(sc.Generate) != 1 {
		return nil, fmt.Errorf("outbreak scenario: want one generator, found %d", len(sc.Generate))
	}
	sc.Generate[0].Count = n
	return &sc, nil
}

// outbreakResult is the model economy of an outbreak.
type outbreakResult struct {
	N          int
	ModelDelay time.Duration
	ModelCalls int64
	Completed  int
}

// runOutbreak investigates n detections of one file and counts the model calls.
func (b *bench) runOutbreak(ctx context.Context, n int, delay time.Duration) (outbreakResult, error) {
	res := outbreakResult{N: n, ModelDelay: delay}
	sc, err := outbreakScenario(n)
	if err != nil {
		return res, err
	}
	model := &fakeModel{delay: delay}
	s, err := b.newStack(ctx, stackOptions{namespace: "bench-outbreak", scenario: sc, model: model, policyMode: policy.ModeAuto})
	if err != nil {
		return res, err
	}
	defer s.close()
	b.logf("outbreak: %d detections of one sha256; waiting for the investigations", n)
	query := fmt.Sprintf("WorkflowType = '%s'", workflows.InvestigateWorkflow)
	if err := waitFor(ctx, s.c, query, n, b.opts.phaseTimeout, nil); err != nil {
		return res, err
	}
	if err := waitClosed(ctx, s.c, query, n, b.opts.phaseTimeout); err != nil {
		return res, err
	}
	execs, err := listExecutions(ctx, s.c, query)
	if err != nil {
		return res, err
	}
	res.Completed = timingOf(execs).Completed
	res.ModelCalls = model.calls.Load()
	return res, nil
}
