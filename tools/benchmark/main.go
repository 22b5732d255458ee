// Command benchmark measures s1copilot end to end on a real Temporal dev server it starts
// itself (the product's own workers, poller and SentinelOne client against the simulator):
// auto-path throughput against the engine floor, detection-to-action latency, SentinelOne
// requests and model calls per investigation, and (opt-in) the worker's memory with many
// investigations waiting for approval. It prints a table and appends it to BENCHMARKS.md;
// it asserts nothing about time (the figures depend on the machine).
//
//	go run ./benchmark -n 1000                                 # make bench
//	go run ./benchmark -rss-waiting 10000 -worker-bin bin/worker # make bench-rss
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/tools/devstack"
)

type options struct {
	n               int
	modelDelays     []time.Duration
	outbreak        int
	outbreakDelay   time.Duration
	containment     int
	quiet           int
	rssWaiting      int
	workerBin       string
	pollInterval    time.Duration
	mitigationDelay time.Duration
	mitigationPoll  time.Duration
	realLimits      bool
	phaseTimeout    time.Duration
	temporalPath    string
	out             string
	note            string
}

type bench struct {
	opts options
	cli  string               // the temporal CLI
	srv  *testsuite.DevServer // the dev server of the current phase
	tlog tlog.Logger
	log  io.Writer
}

// startServer starts a fresh dev server with namespaces (one per phase keeps workflow
// IDs, the poller and the control workflow of each apart) and returns its stop.
func (b *bench) startServer(ctx context.Context, namespaces ...string) (func(), error) {
	b.logf("starting a Temporal dev server (%s)", b.cli)
	so := devstack.DevServerOptions(b.cli, namespaces...)
	so.ClientOptions.Logger = b.tlog
	srv, err := testsuite.StartDevServer(ctx, so)
	if err != nil {
		return nil, fmt.Errorf("starting the dev server: %w", err)
	}
	b.srv = srv
	return func() { _ = srv.Stop() }, nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bench: "+format+"\n", args...)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fl := flag.NewFlagSet("benchmark", flag.ContinueOnError)
	fl.IntVar(&o.n, "n", 1000, "auto-path threats per throughput run (0 skips throughput, latency and the floor)")
	delays := fl.String("model-delays", "0ms,800ms", "simulated model latencies, one throughput run each (comma-separated)")
	fl.IntVar(&o.outbreak, "outbreak", 1000, "outbreak size: detections of one sha256 (0 skips)")
	fl.DurationVar(&o.outbreakDelay, "outbreak-model-delay", 800*time.Millisecond, "simulated model latency in the outbreak and containment runs")
	fl.IntVar(&o.containment, "containment", 1000, "containment run: detections of one file on as many endpoints at SentinelOne's real limits, enforced by the simulator, coalescing off and on (0 skips)")
	fl.IntVar(&o.quiet, "quiet", 5, "lone threats in a quiet hour, one at a time, coalescing off and on (0 skips)")
	fl.IntVar(&o.rssWaiting, "rss-waiting", 0, "investigations waiting for approval when the worker's memory is read (0 skips; needs -worker-bin)")
	fl.StringVar(&o.workerBin, "worker-bin", "", "worker binary for the memory run (make build: bin/worker)")
	fl.DurationVar(&o.pollInterval, "poll-interval", 2*time.Second, "S1C_POLL_INTERVAL of the poller")
	fl.DurationVar(&o.mitigationDelay, "mitigation-delay", 0, "simulator: time a mitigation takes on the agent")
	fl.DurationVar(&o.mitigationPoll, "mitigation-poll", 200*time.Millisecond, "S1C_MITIGATION_POLL")
	fl.BoolVar(&o.realLimits, "real-limits", false, "keep the product's SentinelOne rate limits (per-class client buckets, and the task-queue backstop) instead of lifting them")
	fl.DurationVar(&o.phaseTimeout, "phase-timeout", 45*time.Minute, "give up on a run after this long")
	fl.StringVar(&o.temporalPath, "temporal", "", "temporal CLI (default $TEMPORAL_CLI_PATH, PATH, ~/go/bin/temporal)")
	fl.StringVar(&o.out, "out", "BENCHMARKS.md", "file the results are appended to (its ## Benchmark section); empty: print only")
	fl.StringVar(&o.note, "note", "", "a remark recorded with the figures (e.g. \"shared machine\")")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(*delays, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return o, fmt.Errorf("-model-delays: %q is not a non-negative duration (e.g. 0ms,800ms)", s)
		}
		o.modelDelays = append(o.modelDelays, d)
	}
	var problems []string
	if o.n < 0 || o.outbreak < 0 || o.rssWaiting < 0 || o.containment < 0 || o.quiet < 0 {
		problems = append(problems, "-n, -outbreak, -rss-waiting, -containment and -quiet must not be negative")
	}
	if o.outbreak > 10000 || o.rssWaiting > 10000 || o.containment > 10000 {
		problems = append(problems, "-outbreak, -rss-waiting and -containment are at most 10000 (the simulator's generator limit)")
	}
	if o.n > 0 && len(o.modelDelays) == 0 {
		problems = append(problems, "-model-delays: at least one delay is needed when -n > 0")
	}
	if o.rssWaiting > 0 && o.workerBin == "" {
		problems = append(problems, "-rss-waiting needs -worker-bin (run `make build`, then -worker-bin bin/worker)")
	}
	if o.pollInterval < time.Second {
		problems = append(problems, "-poll-interval must be at least 1s (the poller's minimum, S1C_POLL_INTERVAL)")
	}
	if len(problems) > 0 {
		return o, errors.New(strings.Join(problems, "; "))
	}
	return o, nil
}

func run(args []string) error {
	opts, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cli, err := devstack.FindTemporal(opts.temporalPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b := &bench{opts: opts, cli: cli, log: os.Stderr,
		tlog: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))}

	var r results
	r.Machine = machineFacts(cli)
	r.Command = commandLine()
	r.Opts = opts
	// Each throughput run gets a fresh dev server and its own floor, measured right after
	// it on that server: a run that followed another on the same server was up to a
	// third slower, and a floor measured once for all of them compared unlike with unlike.
	for _, d := range opts.modelDelays {
		if opts.n == 0 {
			break
		}
		stopServer, err := b.startServer(ctx, autoNamespace(d), "bench-floor")
		if err != nil {
			return err
		}
		a, err := b.runAuto(ctx, autoNamespace(d), opts.n, d)
		if err == nil {
			a.FloorActivities = mode(a.Activities)
			b.logf("engine floor: %d no-op workflows of %d activities", opts.n, a.FloorActivities)
			var f phaseTiming
			if f, err = b.runFloor(ctx, opts.n, a.FloorActivities); err != nil {
				err = fmt.Errorf("engine floor: %w", err)
			}
			a.Floor = &f
		}
		stopServer()
		if err != nil {
			return fmt.Errorf("auto path, model %s: %w", d, err)
		}
		r.Auto = append(r.Auto, a)
	}
	if opts.containment > 0 || opts.quiet > 0 {
		var nss []string
		for _, w := range containWindows() {
			nss = append(nss, containNamespace("contain", w), containNamespace("quiet", w))
		}
		stopServer, err := b.startServer(ctx, nss...)
		if err != nil {
			return err
		}
		for _, w := range containWindows() {
			if opts.containment == 0 {
				break
			}
			c, err := b.runContainment(ctx, opts.containment, w)
			if err != nil {
				stopServer()
				return fmt.Errorf("containment, window %s: %w", w, err)
			}
			r.Containment = append(r.Containment, c)
		}
		for _, w := range containWindows() {
			if opts.quiet == 0 {
				break
			}
			q, err := b.runQuiet(ctx, opts.quiet, w)
			if err != nil {
				stopServer()
				return fmt.Errorf("quiet hour, window %s: %w", w, err)
			}
			r.Quiet = append(r.Quiet, q)
		}
		stopServer()
	}
	if opts.outbreak > 0 || opts.rssWaiting > 0 {
		stopServer, err := b.startServer(ctx, "bench-outbreak", "bench-rss")
		if err != nil {
			return err
		}
		defer stopServer()
	}
	if opts.outbreak > 0 {
		o, err := b.runOutbreak(ctx, opts.outbreak, opts.outbreakDelay)
		if err != nil {
			return fmt.Errorf("outbreak: %w", err)
		}
		r.Outbreak = &o
	}
	if opts.rssWaiting > 0 {
		m, err := b.runRSS(ctx, opts.rssWaiting)
		if err != nil {
			return fmt.Errorf("memory: %w", err)
		}
		r.RSS = &m
	}

	text, err := r.render(time.Now())
	if err != nil {
		return err
	}
	fmt.Print(text)
	if opts.out == "" {
		return nil
	}
	doc, err := os.ReadFile(opts.out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", opts.out, err)
	}
	if err := os.WriteFile(opts.out, []byte(insertInSection(string(doc), sectionHeading, text)), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", opts.out, err)
	}
	b.logf("appended to %s", opts.out)
	return nil
}

func autoNamespace(d time.Duration) string {
	return fmt.Sprintf("bench-auto-%dms", d.Milliseconds())
}

// machineFacts describes where the figures come from.
type machine struct {
	Cores     int
	CPU       string
	GoVersion string
	Temporal  string
}

func machineFacts(cli string) machine {
	m := machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), CPU: "unknown", Temporal: "unknown"}
	if out, err := exec.Command(cli, "--version").Output(); err == nil {
		m.Temporal = strings.TrimSpace(string(out))
	}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// commandLine is how this run was invoked, for the record (make names its target in
// BENCH_COMMAND).
func commandLine() string {
	var args []string
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " \t\"'") {
			a = strconv.Quote(a)
		}
		args = append(args, a)
	}
	cmd := "go run ./benchmark " + strings.Join(args, " ")
	if c := os.Getenv("BENCH_COMMAND"); c != "" {
		return c + " (" + cmd + ")"
	}
	return cmd
}
