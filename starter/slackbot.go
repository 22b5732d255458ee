package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/logging"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/slackbot"
	"github.com/s1copilot/s1copilot/workflows"
)

// runSlackBot runs the Slack bot until stopped: over HTTP on S1C_SLACK_LISTEN_ADDR
// (Slack's requests, signed), or over Socket Mode when S1C_SLACK_APP_TOKEN is set (no
// public ingress). Decisions under way finish before it exits.
func runSlackBot(ctx context.Context) error {
	cfg, err := config.LoadBot()
	if err != nil {
		return err
	}
	z, err := logging.New(cfg.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = z.Sync() }()
	key, err := identity.LoadPrivateKey(cfg.Slack.DecisionKeyFile)
	if err != nil {
		return err
	}
	policies, err := loadPolicy(cfg.PolicyFile, cfg.Slack.BotPublicKey)
	if err != nil {
		return err
	}
	pol, _ := policies.Current()
	if err := checkBotKey(pol, key, z); err != nil {
		return err
	}
	sink, closeAudit, err := audit.Open(cfg.AuditFile, append(cfg.Secrets(), keySecrets(key)...)...)
	if err != nil {
		return err
	}
	defer closeAudit()
	c, err := cfg.Temporal.Dial(ctx, client.Options{Logger: logging.Temporal(z)})
	if err != nil {
		return err
	}
	defer c.Close()

	opts := []slack.Option{slack.OptionAPIURL(cfg.Slack.APIBase())}
	if cfg.Slack.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.Slack.AppToken.Reveal()))
	}
	api := slack.New(cfg.Slack.BotToken.Reveal(), opts...)
	var responseHosts []string
	if cfg.Slack.APIURL != "" { // a fake Slack (the demo) takes the response_url posts too
		if u, err := url.Parse(cfg.Slack.APIURL); err == nil {
			responseHosts = append(responseHosts, u.Host)
		}
	}
	bot, err := slackbot.New(slackbot.Options{
		Slack:          api,
		Investigations: workflows.Investigations{Client: c, TaskQueue: cfg.Temporal.TaskQueue},
		Hunts:          workflows.Hunts{Client: c, TaskQueue: cfg.Temporal.TaskQueue},
		KillSwitch:     control.Client{C: c, WorkflowID: cfg.Temporal.ControlWorkflowID(), TaskQueue: cfg.Temporal.ControlTaskQueue()},
		Policy:         policies, Audit: sink, Key: key, SigningSecret: cfg.Slack.SigningSecret, Logger: z,
		ResponseHosts: responseHosts,
	})
	if err != nil {
		return err
	}
	defer bot.Wait() // decisions under way finish (each bounded by its timeout)

	if cfg.Slack.AppToken != "" {
		return serveSocketMode(ctx, bot, api, cfg.Slack.ListenAddr, z)
	}
	z.Info("Slack bot listening (HTTP).", zap.String("addr", cfg.Slack.ListenAddr),
		zap.Strings("paths", []string{slackbot.PathInteractions, slackbot.PathCommands, slackbot.PathHealth}))
	return serveHTTP(ctx, cfg.Slack.ListenAddr, bot.Handler())
}

// loadPolicy is the policy file, reloaded when it changes, or the built-in policy
// (no roles, no Slack users: anyone Slack vouches for by e-mail) with the bot's key
// from S1C_SLACK_BOT_PUBLIC_KEY, as the worker has it.
func loadPolicy(path, botPublicKey string) (slackbot.PolicySource, error) {
	if path == "" {
		// The bot reads only roles and identity from it; the mode does not matter.
		p := policy.Default(policy.ModeApprove, 1)
		if botPublicKey != "" {
			p = p.WithSlackBotKey(botPublicKey)
		}
		return slackbot.StaticPolicy{Policy: p}, nil
	}
	return policy.NewStore(path, time.Now)
}

// checkBotKey refuses to start with a key the policy does not know: every decision the
// bot signed would be refused.
func checkBotKey(p *policy.Policy, key ed25519.PrivateKey, z *zap.Logger) error {
	pub := identity.FormatPublicKey(key.Public().(ed25519.PublicKey))
	if p == nil || p.Identity.SlackBotKey == "" {
		z.Warn("The policy names no identity.slackBotKey: investigations cannot verify the bot's decisions. Add this public key to it.",
			zap.String("slackBotKey", pub))
		return nil
	}
	want, err := identity.ParsePublicKey(p.Identity.SlackBotKey)
	if err != nil {
		return fmt.Errorf("the policy's identity.slackBotKey: %w", err)
	}
	if !want.Equal(key.Public()) {
		return fmt.Errorf("the policy's identity.slackBotKey is not the public key of %s_SLACK_DECISION_KEY_FILE (%s): every decision the bot signs would be refused",
			config.Prefix, pub)
	}
	z.Info("Bot key matches the policy's identity.slackBotKey.", zap.String("slackBotKey", pub))
	return nil
}

// keySecrets are the encodings of the bot's private key the audit log must refuse.
func keySecrets(k ed25519.PrivateKey) []string {
	return []string{base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(k.Seed())}
}

// serveHTTP serves h on addr until ctx ends, then stops taking requests.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping the server on %s: %w", addr, err)
	}
	return nil
}

// serveSocketMode runs the Socket Mode connection and the bot on its events; /healthz
// is served on addr (probes), when it is an address.
func serveSocketMode(ctx context.Context, bot *slackbot.Bot, api *slack.Client, addr string, z *zap.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	smc := socketmode.New(api)
	runErr := make(chan error, 1)
	go func() {
		runErr <- smc.RunContext(ctx)
		cancel() // the connection is given up for good: stop serving too
	}()
	if addr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET "+slackbot.PathHealth, bot.Handler())
		go func() {
			if err := serveHTTP(ctx, addr, mux); err != nil {
				z.Warn("Health endpoint stopped.", zap.Error(err))
			}
		}()
	}
	z.Info("Slack bot running (Socket Mode).")
	serveErr := bot.ServeSocketMode(ctx, smc.Events, smc)
	cancel()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) && serveErr == nil {
		serveErr = fmt.Errorf("socket mode: %w", err)
	}
	return serveErr
}
