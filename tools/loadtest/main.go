// Command loadtest proves the claims that matter under stress, with the real
// processes: `chaos` (workers killed with SIGKILL, the poller and the Temporal dev
// server restarted on the same database file, while hundreds of threats are
// investigated and approved or rejected) and `soak` (a faulty SentinelOne and a
// faulty model endpoint). It exits non-zero with the list of failed criteria and
// prints a summary table for BENCHMARKS.md.
//
//	go run ./loadtest chaos -threats 500
//	go run ./loadtest soak -threats 100
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const usage = `usage: loadtest chaos|soak [flags]   (-h after the command lists its flags)`

type common struct {
	bin, temporal, dir string
	threats            int
	rate               float64
	seed               uint64
	timeout            time.Duration
	mix                string
	workers            int
}

func (c *common) register(fs *flag.FlagSet, mode string, threats int, rate float64, timeout time.Duration) {
	fs.StringVar(&c.bin, "bin", "bin", "directory with the worker and starter binaries (make build)")
	fs.StringVar(&c.temporal, "temporal", "", "path of the temporal CLI (default: $TEMPORAL_CLI_PATH, PATH, $(go env GOPATH)/bin)")
	fs.StringVar(&c.dir, "dir", ".loadtest/"+mode, "working directory for the database file and the logs (emptied first)")
	fs.IntVar(&c.threats, "threats", threats, "number of threats")
	fs.Float64Var(&c.rate, "rate", rate, "threats added to the simulator per second")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the threat order and of the chaos moments")
	fs.DurationVar(&c.timeout, "timeout", timeout, "deadline for every investigation to finish")
	fs.StringVar(&c.mix, "mix", "auto=0.4,approve=0.25,reject=0.2,rollback=0.15", "share of each kind of threat")
	fs.IntVar(&c.workers, "workers", 2, "worker processes")
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var rep Report
	var err error
	switch os.Args[1] {
	case "chaos":
		rep, err = chaosCommand(ctx, os.Args[2:])
	case "soak":
		rep, err = soakCommand(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q; %s", os.Args[1], usage)
	}
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if !rep.Passed() {
		os.Exit(1)
	}
}

func parseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("-mix: %q is not kind=share (e.g. auto=0.4)", part)
		}
		m[Kind(k)] = f
	}
	return m, nil
}

// machine describes where the figures were measured.
func machine() string {
	return fmt.Sprintf("%d CPUs, %s %s/%s", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func chaosCommand(ctx context.Context, args []string) (Report, error) {
	fs := flag.NewFlagSet("loadtest chaos", flag.ContinueOnError)
	var c common
	c.register(fs, "chaos", 500, 10, 30*time.Minute)
	kills := fs.Int("kills", 3, "worker processes killed with SIGKILL (each restarted)")
	mitigationTimeout := fs.Duration("mitigation-timeout", 2*time.Minute, "S1C_MITIGATION_TIMEOUT of the workers (how long the never-settling rollbacks wait)")
	if err := fs.Parse(args); err != nil {
		return Report{}, err
	}
	plan, err := c.plan()
	if err != nil {
		return Report{}, err
	}
	o := stackOptions{
		bin: c.bin, temporal: c.temporal, dir: c.dir, workers: c.workers, plan: plan,
		token:   "loadtest-s1-token",
		simOpts: simulator.Options{MitigationDelay: 2 * time.Second, IsolationDelay: time.Second},
		env: []string{
			"S1C_POLL_INTERVAL=2s", "S1C_POLL_LOOKBACK=1h",
			// A verification lost with a killed worker is retried only after its 30 s
			// start-to-close timeout, and that counts against this deadline: at 30 s
			// a crash turns a settled action into timed_out (see BENCHMARKS.md).
			"S1C_APPROVAL_TIMEOUT=2h", "S1C_MITIGATION_TIMEOUT=" + mitigationTimeout.String(), "S1C_MITIGATION_POLL=2s",
			// The chaos run is about durability; the soak holds the rate limits.
			"S1C_S1_ACTIVITIES_PER_SECOND=60",
		},
	}
	fmt.Printf("chaos: %d threats (%s), %d workers, %d kills, seed %d; %s\n", c.threats, c.mix, c.workers, *kills, c.seed, machine())
	start := time.Now()
	s, err := startStack(ctx, o)
	if err != nil {
		return Report{}, err
	}
	defer s.close()
	r := newRunner(s, plan, c.rate, c.timeout)
	monkey := newChaosMonkey(r, c.seed, *kills)
	ev, drainedAt, err := r.run(ctx, monkey.progress, monkey.run)
	if err != nil {
		return Report{}, err
	}
	fired, lastKill, missed := monkey.result()
	ev.Events = fired
	for _, m := range missed {
		ev.HarnessErrors = append(ev.HarnessErrors, "chaos event never reached: "+m)
	}
	if !drainedAt.IsZero() && !lastKill.IsZero() {
		ev.Drain = drainedAt.Sub(lastKill)
	}
	ev.Elapsed = time.Since(start)
	rep := Evaluate(ev)
	rep.Print(os.Stdout, fmt.Sprintf("Chaos: %d threats, seed %d (%s)", c.threats, c.seed, machine()))
	fmt.Printf("\nlogs and database: %s\n", c.dir)
	return rep, nil
}

// plan is the seeded threat plan of the flags' size and mix.
func (c common) plan() ([]Planned, error) {
	mix, err := parseMix(c.mix)
	if err != nil {
		return nil, err
	}
	return Plan(c.threats, mix, c.seed)
}
