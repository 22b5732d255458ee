// Command worker runs s1copilot's investigations: it hosts the InvestigateThreat
// workflow and its activities on the investigations task queue.
//
// Configuration is read from S1C_* environment variables (see the README); logs are
// JSON on stderr. SIGINT/SIGTERM stop it gracefully: in-flight activities get
// WorkerStopTimeout to finish before another worker picks them up.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/logging"
	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	z, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = z.Sync() }()

	acts, err := activities.New(cfg)
	if err != nil {
		return err
	}
	sink, closeAudit, err := audit.Open(cfg.AuditFile, cfg.Secrets()...)
	if err != nil {
		return err
	}
	defer closeAudit()
	acts.Audit = sink
	analyzer := "rules engine (no LLM configured)"
	if acts.Model != nil {
		analyzer = "model " + cfg.LLMModel + " with rules fallback"
	}
	z.Info("Starting worker.", zap.String("s1", cfg.S1URL), zap.String("temporal", cfg.Temporal.Address),
		zap.String("namespace", cfg.Temporal.Namespace), zap.String("taskQueue", cfg.Temporal.TaskQueue), zap.String("s1TaskQueue", cfg.Temporal.S1TaskQueue), zap.Bool("runsS1Activities", cfg.WorkerS1Activities), zap.Float64("s1ActivitiesPerSecond", cfg.S1ActivitiesPerSecond),
		zap.String("analyzer", analyzer), zap.String("policy", acts.Settings.Policy.VersionString()))

	opts := cfg.Temporal.ClientOptions(logging.Temporal(z))
	// The SDK's default identity, set here so this process can tell its own pollers apart.
	host, _ := os.Hostname()
	opts.Identity = fmt.Sprintf("%d@%s@", os.Getpid(), host)
	var prom *metrics.Prometheus
	if cfg.HealthAddr != "" {
		// The SDK's metrics and s1copilot's (emitted through the SDK handler) share
		// one registry, served at /metrics beside the probes.
		prom, err = metrics.NewPrometheus(metrics.Options{OnError: func(err error) { z.Warn("Metric dropped.", zap.Error(err)) }})
		if err != nil {
			return err
		}
		defer func() { _ = prom.Close() }()
		opts.MetricsHandler = prom.Handler
	}
	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("connecting to Temporal at %s: %w", cfg.Temporal.Address, err)
	}
	defer c.Close()

	if cfg.WorkflowCacheSize > 0 {
		// Process-wide, and only before any worker starts.
		worker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	}
	workers := workflows.NewWorkers(c, cfg, acts, func(err error) { z.Error("Worker fatal error.", zap.Error(err)) })

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.HealthAddr != "" {
		go serveHealth(ctx, z, cfg.HealthAddr, healthMux(c, prom.HTTP))
	}
	if err := (control.Client{C: c, WorkflowID: cfg.Temporal.ControlWorkflowID(), TaskQueue: cfg.Temporal.ControlTaskQueue()}).Ensure(ctx); err != nil {
		return err
	}
	for i, w := range workers {
		if err := w.Start(); err != nil {
			for _, started := range workers[:i] {
				started.Stop()
			}
			return fmt.Errorf("starting worker: %w", err)
		}
	}
	if cfg.WorkerS1Activities {
		go watchS1Pollers(ctx, c, cfg.Temporal.S1TaskQueue, opts.Identity, z, time.Minute)
	}
	<-ctx.Done()
	z.Info("Stopping worker.")
	for _, w := range workers {
		w.Stop()
	}
	return nil
}

// healthMux answers Kubernetes probes, /healthz while the process lives and
// /readyz while Temporal answers, and serves Prometheus metrics at /metrics.
// SDK workers open no port of their own.
func healthMux(c client.Client, metricsHandler http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		cctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if _, err := c.CheckHealth(cctx, &client.CheckHealthRequest{}); err != nil {
			http.Error(w, "temporal unreachable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if metricsHandler != nil {
		mux.Handle("GET /metrics", metricsHandler)
	}
	return mux
}

func serveHealth(ctx context.Context, z *zap.Logger, addr string, mux http.Handler) {
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		z.Error("Health server stopped.", zap.Error(err))
	}
}
