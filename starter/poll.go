package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/lifecycle"
	"github.com/s1copilot/s1copilot/logging"
	"github.com/s1copilot/s1copilot/starter/poller"
	"github.com/s1copilot/s1copilot/workflows"
)

// poll makes sure the poller Schedule exists with the configured interval, then hosts
// the poller's worker until stopped or a fatal error (package lifecycle). Several
// replicas are safe: the Schedule is a singleton and runs one poll at a time.
func poll(ctx context.Context) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	z, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = z.Sync() }()
	s1, err := poller.S1Client(cfg)
	if err != nil {
		return err
	}
	life := lifecycle.New("poller", z)
	c, err := client.Dial(life.ClientOptions(cfg.Temporal.ClientOptions(logging.Temporal(z))))
	if err != nil {
		return fmt.Errorf("connecting to Temporal at %s: %w", cfg.Temporal.Address, err)
	}
	defer c.Close()

	sink, closeAudit, err := audit.Open(cfg.AuditFile, cfg.Secrets()...)
	if err != nil {
		return err
	}
	defer closeAudit()
	w := worker.New(c, workflows.PollerTaskQueue, worker.Options{WorkerStopTimeout: 10 * time.Second, OnFatalError: life.Fail})
	p := poller.New(c, s1, cfg.Temporal.TaskQueue)
	// Analysts' console changes to finished investigations go to the same audit log as the
	// worker's records (running investigations record them themselves).
	p.Feedback = &activities.ConsoleFeedback{Copilots: poller.Investigations{C: c, TaskQueue: cfg.Temporal.TaskQueue}, Audit: sink}
	workflows.RegisterPoller(w, p)
	life.WatchTemporal(c, cfg)
	life.WatchSentinelOne(s1)
	if cfg.HealthAddr != "" {
		life.Serve(ctx, cfg.HealthAddr, nil)
	}
	if err := life.Start(ctx, w); err != nil {
		return err
	}
	defer life.Stop()
	if err := poller.EnsureSchedule(ctx, c, cfg); err != nil {
		return err
	}
	if cfg.PushAddr != "" {
		push := &poller.Push{
			S1: s1, Investigations: poller.Investigations{C: c, TaskQueue: cfg.Temporal.TaskQueue},
			Secret: []byte(cfg.PushSecret.Reveal()), Limiter: rate.NewLimiter(5, 10), Logger: z,
		}
		srv := &http.Server{Addr: cfg.PushAddr, Handler: push, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				z.Error("Push endpoint stopped.", zap.Error(err))
			}
		}()
		defer func() { _ = srv.Close() }()
		z.Info("Push endpoint listening.", zap.String("addr", cfg.PushAddr), zap.String("path", "/v1/threats"))
	}
	z.Info("Poller running.", zap.String("schedule", workflows.PollerScheduleID), zap.Duration("interval", cfg.PollInterval),
		zap.Duration("overlap", cfg.PollOverlap), zap.String("s1", cfg.S1URL))
	return life.Wait(ctx)
}
