// Command demo runs s1copilot end to end on one machine: the Temporal dev server (with
// its Web UI and the project's search attributes), the SentinelOne simulator seeded with
// the demo scenario, the worker and the poller. It prints what happens to each threat
// and how to approve the investigations that wait.
//
// With -check it runs unattended: it approves what waits (through `starter approve`),
// checks every threat's verdict and outcome against the scenario's expectations and the
// simulator's counters (nothing done twice), and exits non-zero if anything differs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/s1copilot/s1copilot/tools/devstack"
	"github.com/s1copilot/s1copilot/workflows"
)

type options struct {
	check                 bool
	bin                   string
	temporal              string
	scenario              string
	port, uiPort, simPort int
	slackPort, botPort    int
	codecPort             int
	soarPort              int
	timeout               time.Duration
	logs                  string
}

func main() {
	var o options
	flag.BoolVar(&o.check, "check", false, "run unattended: approve what waits, verify every expected end state, exit 0 only if all match")
	flag.StringVar(&o.bin, "bin", "bin", "directory holding the worker, starter and s1sim binaries (make build)")
	flag.StringVar(&o.temporal, "temporal", "", "path of the temporal CLI (default: $TEMPORAL_CLI_PATH, then PATH, then $(go env GOPATH)/bin)")
	flag.StringVar(&o.scenario, "scenario", "demo", "embedded simulator scenario")
	flag.IntVar(&o.port, "port", 7233, "Temporal frontend port")
	flag.IntVar(&o.uiPort, "ui-port", 8233, "Temporal Web UI port")
	flag.IntVar(&o.simPort, "sim-port", 8088, "SentinelOne simulator port")
	flag.IntVar(&o.slackPort, "slack-port", 8099, "port of the fake Slack Web API")
	flag.IntVar(&o.botPort, "bot-port", 8097, "port of the Slack bot (starter slackbot)")
	flag.IntVar(&o.codecPort, "codec-port", 8089, "port of the codec server (starter codec-server) the Web UI decodes payloads through")
	flag.IntVar(&o.soarPort, "soar-port", 8098, "port of the stand-in SOAR that receives the case hand-offs")
	flag.DurationVar(&o.timeout, "timeout", 4*time.Minute, "with -check: how long every threat has to reach its end state")
	flag.StringVar(&o.logs, "logs", ".demo", "directory for the processes' logs")
	flag.Parse()

	// However the demo is stopped (Ctrl-C, SIGTERM, a closed terminal, `make` killed,
	// tee gone), run returns and its deferred StopAll stops every child.
	ctx, stop := devstack.StopContext(context.Background())
	err := run(ctx, o, devstack.StopOnBrokenPipe(os.Stdout, stop))
	stop(nil)
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	sc, err := loadScenario(o.scenario)
	if err != nil {
		return err
	}
	temporalPath, err := devstack.FindTemporal(o.temporal)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.logs, 0o755); err != nil {
		return fmt.Errorf("creating log directory: %w", err)
	}
	procs := &devstack.Supervisor{LogDir: o.logs}
	defer procs.StopAll()

	enc, err := newDemoCodec(o)
	if err != nil {
		return err
	}
	env := append(append(demoEnv(o), enc.env()...), reportEnv(o)...)
	fmt.Fprintf(out, "Starting the Temporal dev server (%s)…\n", temporalPath)
	if err := procs.Start(devstack.Proc{Name: "temporal", Path: temporalPath, Args: append(devstack.DevServerArgs(o.port, o.uiPort, ""), enc.devServerArgs()...)}); err != nil {
		return err
	}
	raw, err := devstack.WaitForTemporal(ctx, fmt.Sprintf("127.0.0.1:%d", o.port), 60*time.Second)
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, filepath.Join(o.logs, "temporal.log"))
	}
	defer raw.Close()
	c, err := enc.client(raw)
	if err != nil {
		return err
	}
	if err := enc.start(ctx, o, procs, o.bin); err != nil {
		return err
	}

	fmt.Fprintln(out, "Starting the SentinelOne simulator, the worker and the poller…")
	if err := procs.Start(devstack.Proc{Name: "s1sim", Path: filepath.Join(o.bin, "s1sim"), Args: []string{"-addr", fmt.Sprintf("127.0.0.1:%d", o.simPort), "-scenario", o.scenario, "-token", demoToken, "-mitigation-delay", "3s"}}); err != nil {
		return err
	}
	if err := devstack.WaitForHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/sim/health", o.simPort), 30*time.Second); err != nil {
		return fmt.Errorf("simulator: %w (log: %s)", err, filepath.Join(o.logs, "s1sim.log"))
	}
	// Two threats in one Kubernetes deployment, for the cloud-workload correlation.
	more, err := addWorkloadThreats(ctx, fmt.Sprintf("http://127.0.0.1:%d", o.simPort))
	if err != nil {
		return err
	}
	sc = append(sc, more...)
	slack, slackEnv, botEnv, err := startSlack(o, out)
	if err != nil {
		return err
	}
	defer slack.close()
	env = append(env, slackEnv...)
	soar, soarEnv, err := startSOAR(o.soarPort, out)
	if err != nil {
		return err
	}
	defer soar.close()
	env = append(env, soarEnv...)
	// The hunt's results go beside the logs, not into the working directory.
	env = append(env, "S1C_HUNT_DIR="+filepath.Join(o.logs, "hunts"))
	if err := procs.Start(devstack.Proc{Name: "slackbot", Path: filepath.Join(o.bin, "starter"), Args: []string{"slackbot"}, Env: append(slices.Clone(env), botEnv...)}); err != nil {
		return err
	}
	if err := devstack.WaitForHTTP(ctx, slack.botURL+"/healthz", 30*time.Second); err != nil {
		return fmt.Errorf("Slack bot: %w (log: %s)", err, filepath.Join(o.logs, "slackbot.log"))
	}
	if err := procs.Start(devstack.Proc{Name: "worker", Path: filepath.Join(o.bin, "worker"), Env: env}); err != nil {
		return err
	}
	if err := procs.Start(devstack.Proc{Name: "poller", Path: filepath.Join(o.bin, "starter"), Args: []string{"poll"}, Env: env}); err != nil {
		return err
	}

	fmt.Fprintf(out, `
  Temporal Web UI:   http://127.0.0.1:%d/namespaces/default/workflows
  Investigations:    http://127.0.0.1:%d/namespaces/default/workflows?query=%s
                     (save the query as a view; the list also holds the poller and the control workflow)
  SentinelOne (sim): http://127.0.0.1:%d  (token %q; counters at /sim/counters)
  Payloads:          encrypted (AES-256-GCM, a key made for this run); the Web UI decodes them through
                     the codec server at %s (starter codec-server); without it they are ciphertext
  SOAR (stand-in):   each investigation's case, signed, at triage and at the outcome: printed as [soar]
                     lines; its ticket IDs are written back to the threats (%s)
  Slack (fake):      the investigations' messages in #soc are printed below as [slack]; the bot
                     (starter slackbot) answers clicks at %s; %s's click is signed as Slack signs it
  Logs:              %s/

`, o.uiPort, o.uiPort, url.QueryEscape(`WorkflowType = "`+workflows.InvestigateWorkflow+`"`), o.simPort, demoToken, enc.serverURL, soar.url, slack.botURL, slackClickerEmail, o.logs)

	w := &watcher{out: out, c: c, sc: sc, bin: o.bin, env: env, check: o.check, simURL: fmt.Sprintf("http://127.0.0.1:%d", o.simPort), procs: procs, slack: slack, soar: soar, raw: raw, enc: enc, uiPort: o.uiPort}
	if !o.check {
		return w.follow(ctx)
	}
	cctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	return w.runCheck(cctx)
}
