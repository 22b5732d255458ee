// Command worker runs s1copilot's investigations: it hosts the InvestigateThreat
// workflow and its activities on the investigations task queue.
//
// Configuration is read from S1C_* environment variables (see the README); logs are
// JSON on stderr. SIGINT/SIGTERM stop it gracefully: in-flight activities get
// WorkerStopTimeout to finish before another worker picks them up. A fatal error
// (package lifecycle) stops it too, and it exits 1.
package main

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/s1copilot/s1copilot/lifecycle"
	"github.com/s1copilot/s1copilot/logging"
	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/workflows"
)

func main() {
	if err := run(); err != nil {
		var fatal *lifecycle.Fatal
		if !errors.As(err, &fatal) { // a fatal error has been logged already
			fmt.Fprintln(os.Stderr, "worker:", err)
		}
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
	z.Info("Starting worker.", zap.String("s1", cfg.S1URL), zap.String("temporal", cfg.Temporal.Address), zap.String("temporal_connection", cfg.Temporal.Security()),
		zap.String("namespace", cfg.Temporal.Namespace), zap.String("taskQueue", cfg.Temporal.TaskQueue), zap.String("s1TaskQueue", cfg.Temporal.S1TaskQueue), zap.Bool("runsS1Activities", cfg.WorkerS1Activities), zap.Float64("s1ActivitiesPerSecond", cfg.S1ActivitiesPerSecond),
		zap.String("analyzer", analyzer), zap.String("policy", acts.Settings.Policy.VersionString()))

	life := lifecycle.New("worker", z)
	opts := life.ClientOptions(client.Options{Logger: logging.Temporal(z)})
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
	c, err := cfg.Temporal.Dial(context.Background(), opts)
	if err != nil {
		return err
	}
	defer c.Close()

	if cfg.WorkflowCacheSize > 0 {
		// Process-wide, and only before any worker starts.
		worker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	}
	workers := workflows.NewWorkers(c, cfg, acts, life.Fail)
	life.WatchTemporal(c, cfg)
	if cfg.WorkerS1Activities {
		life.WatchSentinelOne(acts.S1) // a worker without the SentinelOne activities never calls it
		life.WatchS1Token(acts.S1, opts.MetricsHandler)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.HealthAddr != "" {
		life.Serve(ctx, cfg.HealthAddr, prom.HTTP)
	}
	if err := (control.Client{C: c, WorkflowID: cfg.Temporal.ControlWorkflowID(), TaskQueue: cfg.Temporal.ControlTaskQueue()}).Ensure(ctx); err != nil {
		return err
	}
	said, err := workflows.EnsureReportSchedule(ctx, c, cfg)
	if err != nil {
		return err
	}
	z.Info("SOC report schedule.", zap.String("schedule", said), zap.String("dir", cfg.Report.Dir))
	if err := life.Start(ctx, workers...); err != nil {
		return err
	}
	if cfg.WorkerS1Activities {
		go watchS1Pollers(ctx, c, cfg.Temporal.S1TaskQueue, opts.Identity, z, time.Minute)
	}
	return life.Wait(ctx)
}
