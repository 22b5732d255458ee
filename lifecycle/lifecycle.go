// Package lifecycle supervises s1copilot's long-running processes, the worker and the
// poller, the way Kubernetes expects: /healthz fails once the process can no longer do
// its work, /readyz fails while Temporal or SentinelOne cannot be reached, and a fatal
// worker error stops every worker and ends the process non-zero. Without it a worker
// whose namespace was deleted would log one line and live on, polling nothing, in a pod
// that never restarts.
//
//	p := lifecycle.New("worker", logger)
//	c, err := client.Dial(p.ClientOptions(opts))    // lets the process see its task polls
//	p.WatchTemporal(c, cfg)                          // readiness; fatal after S1C_TEMPORAL_UNAVAILABLE_EXIT
//	p.WatchSentinelOne(s1)                           // readiness
//	w := worker.New(c, queue, worker.Options{OnFatalError: p.Fail})
//	p.Serve(ctx, cfg.HealthAddr, metrics)            // /healthz, /readyz, /metrics
//	err = p.Start(ctx, w)
//	return p.Wait(ctx)                               // nil on SIGTERM, *Fatal after a fatal error
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Process is one supervised process: its workers, the dependencies it watches, and
// its first fatal error.
type Process struct {
	name  string
	log   *zap.Logger
	polls polls

	mu      sync.Mutex
	checks  []*check
	workers []worker.Worker
	started bool
	cause   *Fatal

	failOnce sync.Once
	failed   chan struct{} // closed by the first fatal error
	serving  atomic.Bool
}

// New returns the supervisor of the process called name ("worker", "poller"), logging to log.
func New(name string, log *zap.Logger) *Process {
	return &Process{name: name, log: log, failed: make(chan struct{})}
}

// Fatal is the error a process ends with after a fatal failure: what failed, what to
// check. Wait has logged it.
type Fatal struct {
	Process string
	What    string
	Check   string
	Err     error
}

func (f *Fatal) Error() string {
	return fmt.Sprintf("%s cannot continue: %s (%v). Check %s. Exiting with status 1 so that it is restarted.", f.Process, f.What, f.Err, f.Check)
}

func (f *Fatal) Unwrap() error { return f.Err }

// Fail records a fatal error: from here on /healthz answers 503 with the reason, and
// Wait stops every worker and returns. It is the workers' worker.Options.OnFatalError;
// only the first error counts, and it returns at once (the SDK stops the failed worker
// right after it).
func (p *Process) Fail(err error) {
	p.failOnce.Do(func() {
		what, check := explain(err)
		p.mu.Lock()
		p.cause = &Fatal{Process: p.name, What: what, Check: check, Err: err}
		p.mu.Unlock()
		close(p.failed)
	})
}

// explained is an error that already says what failed and what to check.
type explained struct {
	what, check string
	err         error
}

func (e *explained) Error() string { return e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

// failure is the fatal error, or nil.
func (p *Process) failure() *Fatal {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cause
}

// explain says what a fatal worker error means and what to check. The SDK reports as
// fatal only poll errors no retry can fix: namespace not found, invalid argument,
// client version not supported (internal_worker_base.go, isNonRetriableError).
func explain(err error) (what, check string) {
	var nsNotFound *serviceerror.NamespaceNotFound
	var invalid *serviceerror.InvalidArgument
	var version *serviceerror.ClientVersionNotSupported
	var known *explained
	switch {
	case errors.As(err, &known):
		return known.what, known.check
	case errors.As(err, &nsNotFound):
		ns := nsNotFound.Namespace
		return fmt.Sprintf("Temporal namespace %q does not exist (deleted?)", ns),
			fmt.Sprintf("S1C_TEMPORAL_NAMESPACE and that the namespace exists: temporal operator namespace describe --namespace %s", ns)
	case errors.As(err, &invalid):
		return "Temporal refuses this process's task polls as invalid", "S1C_TEMPORAL_NAMESPACE, S1C_TASK_QUEUE and S1C_S1_TASK_QUEUE"
	case errors.As(err, &version):
		return "the Temporal server does not support this SDK version", "the server version against the release notes of this build"
	}
	return "a worker stopped on a fatal error", "the error and the lines logged before it"
}

// Start runs the watched checks in the background until ctx ends and starts the
// workers; if one cannot start, those already started are stopped. Call it once.
func (p *Process) Start(ctx context.Context, workers ...worker.Worker) error {
	p.mu.Lock()
	checks := p.checks
	p.mu.Unlock()
	for _, c := range checks {
		go p.watch(ctx, c)
	}
	for i, w := range workers {
		if err := w.Start(); err != nil {
			for _, started := range workers[:i] {
				started.Stop()
			}
			return fmt.Errorf("starting the %s's workers: %w", p.name, err)
		}
	}
	p.mu.Lock()
	p.workers, p.started = workers, true
	p.mu.Unlock()
	return nil
}

// Stop stops every started worker (each waits its WorkerStopTimeout for running
// activities). Stopping twice is harmless.
func (p *Process) Stop() {
	p.mu.Lock()
	workers := p.workers
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(w.Stop)
	}
	wg.Wait()
}

// reportLinger: with nothing in flight the workers stop within milliseconds of a fatal
// error, so the probes would go from 200 straight to a refused connection. Answering
// 503 with the reason a moment longer lets whatever watches them (a kubelet probing
// every second, a scraper, a test) read why; it is nothing next to a restart's back-off.
const reportLinger = time.Second

// Wait blocks until ctx ends (SIGTERM: a clean stop, nil) or a fatal error. After a
// fatal error the process is already unhealthy; Wait stops the other workers, logs
// one line saying what failed and what to check, keeps the probes answering 503 for
// reportLinger, and returns the *Fatal, on which the process exits non-zero.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		p.log.Info("Stopping the " + p.name + ".")
		p.Stop()
		return nil
	case <-p.failed:
	}
	p.Stop()
	f := p.failure()
	p.log.WithOptions(zap.AddStacktrace(zapcore.FatalLevel)).Error(f.Error(), zap.Error(f.Err))
	if p.serving.Load() {
		select {
		case <-ctx.Done():
		case <-time.After(reportLinger):
		}
	}
	return f
}

// Handler answers the probes: /healthz (liveness: 503 once a fatal error happened),
// /readyz (503 while starting, after a fatal error, or while a watched dependency
// fails; the body says why), and serves metrics at /metrics when given.
func (p *Process) Handler(metrics http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if f := p.failure(); f != nil {
			http.Error(w, f.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if problems := p.notReady(); len(problems) > 0 {
			http.Error(w, "not ready:\n- "+strings.Join(problems, "\n- "), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

func (p *Process) notReady() []string {
	p.mu.Lock()
	started, cause, checks := p.started, p.cause, p.checks
	p.mu.Unlock()
	if cause != nil {
		return []string{cause.Error()}
	}
	var out []string
	if !started {
		out = append(out, "the "+p.name+" is starting")
	}
	for _, c := range checks {
		if err := c.state(); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// Serve answers the probes (and metrics) on addr until ctx ends. A port that cannot
// be bound is fatal: liveness would fail anyway, and the pod be restarted later
// without saying why.
func (p *Process) Serve(ctx context.Context, addr string, metrics http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.Fail(&explained{what: "the health endpoint cannot listen on " + addr, check: "S1C_HEALTH_ADDR and what else listens there", err: err})
		return
	}
	p.serving.Store(true)
	srv := &http.Server{Handler: p.Handler(metrics), ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.Fail(&explained{what: "the health endpoint on " + addr + " stopped", check: "the error", err: err})
		}
	}()
}
