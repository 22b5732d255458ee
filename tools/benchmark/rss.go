package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/workflows"
)

// rssResult is the worker's memory with investigations waiting for approval.
type rssResult struct {
	Waiting   int
	VmRSS     int64 // bytes, once every investigation waits
	VmHWM     int64 // bytes, peak resident set
	TimeToAll time.Duration
}

// procMemory reads VmRSS and VmHWM (bytes) from a /proc/<pid>/status document.
func procMemory(status io.Reader) (rss, hwm int64, err error) {
	sc := bufio.NewScanner(status)
	found := 0
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, perr := strconv.ParseInt(f[0], 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("%s: %w", key, perr)
		}
		if key == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if found != 2 {
		return 0, 0, errors.New("VmRSS or VmHWM missing (not a Linux /proc status?)")
	}
	return rss, hwm, nil
}

func readProcMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return procMemory(f)
}

// runRSS starts the worker binary as its own process in the approve policy mode (rules
// engine, no model), lets the poller start n investigations of an outbreak and measures
// the worker's memory once all of them wait for a human.
func (b *bench) runRSS(ctx context.Context, n int) (rssResult, error) {
	res := rssResult{Waiting: n}
	if b.opts.workerBin == "" {
		return res, errors.New("-rss-waiting needs -worker-bin (run `make build` and pass bin/worker)")
	}
	if _, err := os.Stat(b.opts.workerBin); err != nil {
		return res, fmt.Errorf("worker binary: %w (run `make build`)", err)
	}
	sc, err := outbreakScenario(n)
	if err != nil {
		return res, err
	}
	s, err := b.newStack(ctx, stackOptions{namespace: "bench-rss", scenario: sc, policyMode: policy.ModeApprove, externalWorker: true})
	if err != nil {
		return res, err
	}
	defer s.close()

	auditFile, err := os.CreateTemp("", "bench-audit-*.jsonl")
	if err != nil {
		return res, err
	}
	_ = auditFile.Close()
	defer os.Remove(auditFile.Name())
	cmd := exec.CommandContext(ctx, b.opts.workerBin)
	cmd.Env = append(os.Environ(),
		"S1C_S1_URL="+s.cfg.S1URL, "S1C_S1_TOKEN="+simToken,
		"S1C_TEMPORAL_ADDRESS="+s.cfg.Temporal.Address, "S1C_TEMPORAL_NAMESPACE="+s.cfg.Temporal.Namespace,
		"S1C_TASK_QUEUE="+s.cfg.Temporal.TaskQueue, "S1C_S1_TASK_QUEUE="+s.cfg.Temporal.S1TaskQueue,
		"S1C_POLICY_MODE=approve", "S1C_LLM_MODEL=", "S1C_LOG_LEVEL=error", "S1C_AUDIT_FILE="+auditFile.Name(),
		// The worker's own S1 budget applies (its per-class client limits):
		// lifting only the task-queue rate made activities time out waiting for the
		// client's per-class tokens. S1C_WORKFLOW_CACHE_SIZE passes through from the
		// environment: memory is bounded by the cache, not by the waiting count.
	)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting %s: %w", b.opts.workerBin, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	b.logf("memory: worker pid %d; waiting until %d investigations await approval (the worker's GET /threats client limit sets the pace)", cmd.Process.Pid, n)

	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND %s = '%s'", workflows.InvestigateWorkflow, workflows.StageKey.GetName(), workflows.StageAwaitingApproval)
	last := time.Now()
	err = waitFor(ctx, s.c, q, n, b.opts.phaseTimeout, func(got int64) {
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			rss, _, _ := readProcMemory(cmd.Process.Pid)
			b.logf("memory: %d/%d waiting, worker RSS %.0f MB", got, n, float64(rss)/1e6)
		}
	})
	if err != nil {
		return res, err
	}
	res.TimeToAll = time.Since(start)
	// Let the last workflow tasks finish and the runtime settle before reading.
	time.Sleep(5 * time.Second)
	res.VmRSS, res.VmHWM, err = readProcMemory(cmd.Process.Pid)
	if err != nil {
		return res, fmt.Errorf("reading the worker's memory: %w", err)
	}
	return res, nil
}
