package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// chaosAction is one disruption.
type chaosAction string

const (
	killWorker      chaosAction = "kill -9 a worker"
	restartPoller   chaosAction = "restart the poller"
	restartTemporal chaosAction = "restart the Temporal dev server"
	// killDuringBatch kills the SentinelOne worker while the console has acted on a
	// batched mitigation and not yet answered it.
	killDuringBatch chaosAction = "kill -9 the SentinelOne worker during a batched POST"
)

// chaosEvent fires when the run has progressed far enough: a fraction of the threats
// added (onAdded) or of the investigations finished.
type chaosEvent struct {
	action  chaosAction
	at      float64
	onAdded bool
}

func (e chaosEvent) String() string {
	of := "finished"
	if e.onAdded {
		of = "added"
	}
	return fmt.Sprintf("%s at %.0f%% %s", e.action, 100*e.at, of)
}

// planChaos picks the moments, reproducibly from seed: kills while investigations run
// (10–85 % finished), the poller restart while threats still arrive (20–70 % added),
// the dev server restart mid-run (25–60 % finished), and the kill during a batched
// mitigation while threats still arrive (10–50 % added, when mitigations meet).
func planChaos(seed uint64, kills int) []chaosEvent {
	rng := rand.New(rand.NewPCG(seed, 0x6368_616f_73))
	var ev []chaosEvent
	for range kills {
		ev = append(ev, chaosEvent{action: killWorker, at: 0.10 + 0.75*rng.Float64()})
	}
	ev = append(ev, chaosEvent{action: restartPoller, at: 0.20 + 0.50*rng.Float64(), onAdded: true},
		chaosEvent{action: restartTemporal, at: 0.25 + 0.35*rng.Float64()},
		chaosEvent{action: killDuringBatch, at: 0.10 + 0.40*rng.Float64(), onAdded: true})
	slices.SortStableFunc(ev, func(a, b chaosEvent) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	return ev
}

// chaosMonkey carries out the planned events as the run reaches them.
type chaosMonkey struct {
	r      *runner
	rng    *rand.Rand
	events []chaosEvent

	mu       sync.Mutex
	closed   int
	fired    []string
	lastKill time.Time
	pending  []chaosEvent
}

func newChaosMonkey(r *runner, seed uint64, kills int) *chaosMonkey {
	ev := planChaos(seed, kills)
	return &chaosMonkey{r: r, rng: rand.New(rand.NewPCG(seed, 0x6b69_6c6c)), events: ev, pending: ev}
}

func (m *chaosMonkey) progress(closed int) {
	m.mu.Lock()
	m.closed = closed
	m.mu.Unlock()
}

func (m *chaosMonkey) run(ctx context.Context) {
	n := float64(len(m.r.plan))
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
		m.mu.Lock()
		closed := m.closed
		m.mu.Unlock()
		added := m.r.addedCount()
		// One event per tick, the first one reached: a poller restart (on threats
		// added) must not wait behind a kill (on investigations finished).
		for i, e := range m.pending {
			reached := float64(closed) >= e.at*n
			if e.onAdded {
				reached = float64(added) >= e.at*n
			}
			if reached {
				m.mu.Lock()
				m.pending = slices.Delete(slices.Clone(m.pending), i, i+1)
				m.mu.Unlock()
				m.fire(ctx, e)
				break
			}
		}
	}
}

func (m *chaosMonkey) fire(ctx context.Context, e chaosEvent) {
	s := m.r.s
	start := time.Now()
	var what string
	var err error
	switch e.action {
	case killWorker:
		w := s.workers[m.rng.IntN(len(s.workers))]
		down := time.Duration(500+m.rng.IntN(4500)) * time.Millisecond
		if err = s.procs.Kill(w); err == nil {
			m.mu.Lock()
			m.lastKill = time.Now()
			m.mu.Unlock()
			time.Sleep(down)
			err = s.procs.Restart(w)
		}
		what = fmt.Sprintf("kill -9 %s (down %.1fs)", w, down.Seconds())
	case killDuringBatch:
		what, err = m.killDuringBatch()
	case restartPoller:
		s.procs.Stop("poller", 10*time.Second)
		err = s.procs.Restart("poller")
		what = "poller restarted"
	case restartTemporal:
		err = s.restartTemporal(ctx)
		what = fmt.Sprintf("dev server restarted (%.1fs)", time.Since(start).Seconds())
	}
	line := fmt.Sprintf("%s at %s", what, strings.TrimPrefix(e.String(), string(e.action)+" at "))
	fmt.Printf("  %s: chaos: %s\n", time.Now().Format("15:04:05"), line)
	if err != nil {
		m.r.harnessError("%s: %v", e.action, err)
	}
	m.mu.Lock()
	m.fired = append(m.fired, line)
	m.mu.Unlock()
}

// killDuringBatch waits (up to two minutes) for a batched mitigation POST, kills the
// SentinelOne worker (worker-1, the one that makes every SentinelOne call) while the
// console holds its answer, and restarts it: the batch's retries must find their
// actions and not request them again.
func (m *chaosMonkey) killDuringBatch() (string, error) {
	s := m.r.s
	caught, release := s.trap.arm()
	defer release()
	var size int
	select {
	case size = <-caught:
	case <-time.After(2 * time.Minute):
		return "", fmt.Errorf("no batched mitigation POST within 2 minutes (are the mitigations coalesced? S1C_S1_COALESCE_WINDOW)")
	}
	w := s.workers[0]
	if err := s.procs.Kill(w); err != nil {
		return "", err
	}
	m.mu.Lock()
	m.lastKill = time.Now()
	m.mu.Unlock()
	release()
	time.Sleep(time.Second)
	return fmt.Sprintf("kill -9 %s while SentinelOne held its answer to a mitigation of %d threats", w, size), s.procs.Restart(w)
}

// result reports what fired, the moment of the last kill, and what never fired.
func (m *chaosMonkey) result() (fired []string, lastKill time.Time, missed []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.pending {
		missed = append(missed, e.String())
	}
	return append([]string(nil), m.fired...), m.lastKill, missed
}
