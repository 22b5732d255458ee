package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/ingest"
	"github.com/s1copilot/s1copilot/lifecycle"
	"github.com/s1copilot/s1copilot/logging"
	"github.com/s1copilot/s1copilot/workflows"
)

// poll hosts the poller's worker and makes sure the deployment's poller workflow runs
// with the configured settings, until stopped or a fatal error (package lifecycle).
// Several replicas are safe: the poller is one workflow, and its cursors live in it.
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
	s1, err := ingest.S1Client(cfg)
	if err != nil {
		return err
	}
	life := lifecycle.New("poller", z)
	c, err := cfg.Temporal.Dial(ctx, life.ClientOptions(client.Options{Logger: logging.Temporal(z)}))
	if err != nil {
		return err
	}
	defer c.Close()

	sink, closeAudit, err := audit.Open(cfg.AuditFile, cfg.Secrets()...)
	if err != nil {
		return err
	}
	defer closeAudit()
	investigations := ingest.OnTemporal{Investigations: workflows.Investigations{Client: c, TaskQueue: cfg.Temporal.TaskQueue, Encrypted: cfg.Temporal.Codec.Enabled()}}
	w := worker.New(c, cfg.Temporal.PollerTaskQueue(), worker.Options{WorkerStopTimeout: ingest.WorkerStopTimeout, OnFatalError: life.Fail})
	ingest.Register(w, &ingest.Poller{
		S1: s1, Investigations: investigations, PageSize: 200,
		// Analysts' console changes to finished investigations go to the same audit log as
		// the worker's records (running investigations record them themselves).
		Feedback: &ingest.ConsoleFeedback{Copilots: ingest.FinishedInvestigations{C: c}, Audit: sink},
	})
	life.WatchTemporal(c, cfg)
	life.WatchSentinelOne(s1)
	if cfg.HealthAddr != "" {
		life.Serve(ctx, cfg.HealthAddr, nil)
	}
	if err := life.Start(ctx, w); err != nil {
		return err
	}
	defer life.Stop()
	if err := ingest.EnsurePoller(ctx, c, cfg.Temporal, ingest.SettingsOf(cfg)); err != nil {
		return err
	}
	if cfg.PushAddr != "" {
		push := &ingest.Push{S1: s1, Investigations: investigations,
			Secret: []byte(cfg.PushSecret.Reveal()), Limiter: rate.NewLimiter(5, 10), Logger: z}
		srv := &http.Server{Addr: cfg.PushAddr, Handler: push, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				z.Error("Push endpoint stopped.", zap.Error(err))
			}
		}()
		defer func() { _ = srv.Close() }()
		z.Info("Push endpoint listening.", zap.String("addr", cfg.PushAddr), zap.String("path", "/v1/threats"))
	}
	z.Info("Poller running.", zap.String("workflow", cfg.Temporal.PollerWorkflowID()), zap.String("taskQueue", cfg.Temporal.PollerTaskQueue()),
		zap.Duration("interval", cfg.PollInterval), zap.Duration("overlap", cfg.PollOverlap), zap.String("s1", cfg.S1URL))
	return life.Wait(ctx)
}
