package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/s1client"
)

const (
	// temporalEvery: the health check is answered by the frontend itself and costs
	// nothing, so readiness may follow it closely.
	temporalEvery = 5 * time.Second
	// sentinelOneEvery: one request per 30 s is nothing against the console's per-token
	// limits, while Kubernetes probes come every few seconds.
	sentinelOneEvery = 30 * time.Second
	// maxProbeTime bounds one probe, so a hanging dependency reads as failing.
	maxProbeTime = 10 * time.Second
)

// check is one dependency, probed in the background and never per request, so that
// Kubernetes' probes cost it nothing; /readyz reads the last outcome.
type check struct {
	name  string
	every time.Duration
	probe func(ctx context.Context) error
	// fatalAfter: failing without a break for this long is fatal (0: never), with
	// what and hint for the log line.
	fatalAfter time.Duration
	what, hint string

	mu          sync.Mutex
	checked     bool
	err         error
	failedSince time.Time
}

// state is the last outcome (an error while not yet checked).
func (c *check) state() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.checked {
		return fmt.Errorf("%s: not checked yet", c.name)
	}
	return c.err
}

// record keeps the outcome of the probe begun at began and returns since when the
// check has been failing (zero while it passes) and whether it changed from passing
// to failing or back.
func (c *check) record(err error, began time.Time) (failedSince time.Time, changed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed = !c.checked || (err == nil) != (c.err == nil)
	c.checked, c.err = true, err
	switch {
	case err == nil:
		c.failedSince = time.Time{}
	case c.failedSince.IsZero():
		c.failedSince = began
	}
	return c.failedSince, changed
}

func (p *Process) add(c *check) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checks = append(p.checks, c)
}

// watch probes c until ctx ends, logs each change, and turns a failure that outlasts
// c.fatalAfter into a fatal error.
func (p *Process) watch(ctx context.Context, c *check) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		began := time.Now() // a failure counts from the probe that first found it
		pctx, cancel := context.WithTimeout(ctx, min(c.every, maxProbeTime))
		err := c.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		since, changed := c.record(err, began)
		switch {
		case changed && err != nil:
			p.log.Warn("Not ready: "+err.Error(), zap.String("dependency", c.name))
		case changed:
			p.log.Info(c.name+" is reachable.", zap.String("dependency", c.name))
		}
		if failing := time.Since(since); err != nil && c.fatalAfter > 0 && failing >= c.fatalAfter {
			p.Fail(&explained{what: fmt.Sprintf("%s for %s", c.what, failing.Round(time.Second)), check: c.hint, err: err})
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WatchTemporal makes readiness follow Temporal: its frontend must answer the health
// check, and this process's task polls must not all be failing (a revoked credential,
// a deleted namespace: the health check passes while every poll is refused). The SDK
// retries polls forever (except the errors it reports through OnFatalError), so when
// this lasts cfg.TemporalUnavailableExit the process fails: a pod that cannot use its
// server is better restarted, and visible in CrashLoopBackOff, than silently idle.
// Polls are seen only on a client dialled with p.ClientOptions.
func (p *Process) WatchTemporal(c client.Client, cfg config.Config) {
	p.add(p.temporalCheck(c, cfg, temporalEvery))
}

func (p *Process) temporalCheck(c client.Client, cfg config.Config, every time.Duration) *check {
	addr, ns := cfg.Temporal.Address, cfg.Temporal.Namespace
	return &check{
		name: "Temporal", every: every, fatalAfter: cfg.TemporalUnavailableExit,
		what: fmt.Sprintf("Temporal at %s (namespace %s) has been unreachable or refused every task poll", addr, ns),
		hint: "S1C_TEMPORAL_ADDRESS, the network path to the frontend, the server itself, and the credentials' permissions on S1C_TEMPORAL_NAMESPACE (S1C_TEMPORAL_UNAVAILABLE_EXIT says how long to wait)",
		probe: func(ctx context.Context) error {
			if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
				return fmt.Errorf("Temporal at %s cannot be reached: %w", addr, err)
			}
			if since, err := p.polls.failing(time.Now()); err != nil {
				return fmt.Errorf("Temporal at %s answers, but every task poll of namespace %s has failed since %s: %w", addr, ns, since.UTC().Format(time.RFC3339), err)
			}
			return nil
		},
	}
}

// WatchSentinelOne makes readiness follow the console, asked once every 30 s with
// the cheapest authenticated read (one threat), through the client's own rate
// limiter. A 401 or 403 is a configuration problem and says so. It never makes the
// process fail: restarting does not bring a console back.
func (p *Process) WatchSentinelOne(s1 *s1client.Client) {
	p.add(sentinelOneCheck(s1, sentinelOneEvery))
}

func sentinelOneCheck(s1 *s1client.Client, every time.Duration) *check {
	return &check{name: "SentinelOne", every: every, probe: func(ctx context.Context) error {
		return sentinelOneProbe(ctx, s1)
	}}
}

func sentinelOneProbe(ctx context.Context, s1 *s1client.Client) error {
	_, err := s1.ListThreats(ctx, s1client.ListThreatsParams{Limit: 1})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, s1client.ErrUnauthorized):
		return fmt.Errorf("SentinelOne at %s refuses the API token (401), a configuration problem: check S1C_S1_TOKEN (expired, revoked, or for another console): %w", s1.BaseURL(), err)
	case errors.Is(err, s1client.ErrForbidden):
		return fmt.Errorf("SentinelOne at %s forbids reading threats with this API token (403), a configuration problem: check the role and scope of the token's user: %w", s1.BaseURL(), err)
	}
	return fmt.Errorf("SentinelOne at %s cannot be reached: %w", s1.BaseURL(), err)
}
