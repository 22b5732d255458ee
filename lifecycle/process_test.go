package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/devstack"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const simToken = "lifecycle-test-token"

// process is the worker or the poller binary, running.
type process struct {
	name, health, log string
	cmd               *exec.Cmd
	exited            chan struct{}
	exitedAt          time.Time
	err               error
}

// binDir holds the real worker and starter, built once for every test that runs them
// (binaries) and removed after the last.
var (
	binDir   string
	binaries = sync.OnceValues(func() (string, error) {
		var err error
		if binDir, err = os.MkdirTemp("", "lifecycle-bin-"); err != nil {
			return "", err
		}
		if out, err := exec.Command("go", "build", "-o", binDir, "../worker", "../starter").CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build: %w: %s", err, out)
		}
		return binDir, nil
	})
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func buildBinaries(t *testing.T) string {
	t.Helper()
	dir, err := binaries()
	require.NoError(t, err)
	return dir
}

// startSimulator serves the demo scenario over HTTP, as the console would.
func startSimulator(t *testing.T) string {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: simToken})
	require.NoError(t, err)
	hs := httptest.NewServer(sim.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// start runs bin with args and env (beside the parent's), its probes on a free port
// and its output in a log file, and waits until it is ready.
func start(t *testing.T, name, bin string, args []string, env []string) *process {
	t.Helper()
	ports, err := devstack.FreePorts(1)
	require.NoError(t, err)
	p := &process{name: name, health: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), log: filepath.Join(t.TempDir(), name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	require.NoError(t, err)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(append(os.Environ(), env...), "S1C_HEALTH_ADDR="+strings.TrimPrefix(p.health, "http://"))
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		p.exitedAt = time.Now()
		_ = logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, body := get(p.health + "/readyz")
		if code == http.StatusOK {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v", name, p.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 90 s: %d %s", name, code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get answers the status and body of url, or 0 when nothing answers.
func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// failure is what a process showed between a fault and its exit.
type failure struct {
	exited     bool
	unhealthy  string // the first /healthz body answered with 503
	notReady   string // the first /readyz body answered with 503
	healthAt   time.Time
	exitedIn   time.Duration
	exitStatus int
	log        string
}

// watchFailure probes p until it exits (or within is over) and reports what it saw.
// It runs beside another one, so it reports problems with t.Errorf.
func watchFailure(t *testing.T, p *process, since time.Time, within time.Duration) failure {
	var f failure
	deadline := time.After(within)
	for {
		select {
		case <-p.exited:
			f.exited, f.exitedIn = true, p.exitedAt.Sub(since)
			var ee *exec.ExitError
			if errors.As(p.err, &ee) {
				f.exitStatus = ee.ExitCode()
			}
			b, err := os.ReadFile(p.log)
			if err != nil {
				t.Error(err)
			}
			f.log = string(b)
			return f
		case <-deadline:
			t.Errorf("%s still running %s after the fault (healthz 503 seen: %v)", p.name, within, f.unhealthy != "")
			return f
		default:
		}
		if f.unhealthy == "" {
			if code, body := get(p.health + "/healthz"); code == http.StatusServiceUnavailable {
				f.unhealthy, f.healthAt = body, time.Now()
			}
		}
		if f.notReady == "" {
			if code, body := get(p.health + "/readyz"); code == http.StatusServiceUnavailable {
				f.notReady = body
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// watchBoth watches the worker and the poller at once.
func watchBoth(t *testing.T, procs []*process, since time.Time, within time.Duration) []failure {
	t.Helper()
	out := make([]failure, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { out[i] = watchFailure(t, p, since, within) })
	}
	wg.Wait()
	return out
}

// startBoth runs the real worker and poller (starter poll) on Temporal's namespace
// and the simulator, with extra settings, and waits until both are ready.
func startBoth(t *testing.T, temporal, namespace string, extra ...string) []*process {
	t.Helper()
	bin := buildBinaries(t)
	env := append([]string{
		"S1C_S1_URL=" + startSimulator(t), "S1C_S1_TOKEN=" + simToken,
		"S1C_TEMPORAL_ADDRESS=" + temporal, "S1C_TEMPORAL_NAMESPACE=" + namespace,
		"S1C_TASK_QUEUE=lifecycle-it", "S1C_S1_TASK_QUEUE=lifecycle-it-s1",
		"S1C_POLL_INTERVAL=1s", "S1C_POLL_LOOKBACK=1h", "S1C_LOG_LEVEL=warn",
	}, extra...)
	return []*process{
		start(t, "worker", filepath.Join(bin, "worker"), nil, env),
		start(t, "poller", filepath.Join(bin, "starter"), []string{"poll"}, env),
	}
}

// A deleted namespace is fatal: the SDK reports it through OnFatalError (after its
// 2-minute grace for "non-retryable" poll errors), and both processes turn unhealthy,
// stop their workers, say what to check and exit 1.
func TestWorkerAndPollerExitWhenTheirNamespaceIsDeleted(t *testing.T) {
	cli := devstack.TemporalForTest(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, devstack.DevServerOptions(cli, "doomed"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	procs := startBoth(t, srv.FrontendHostPort(), "doomed")

	deleted := time.Now()
	_, err = srv.Client().OperatorService().DeleteNamespace(ctx, &operatorservice.DeleteNamespaceRequest{Namespace: "doomed"})
	require.NoError(t, err)
	for i, f := range watchBoth(t, procs, deleted, 5*time.Minute) {
		p := procs[i]
		if !f.exited {
			continue // reported
		}
		t.Logf("%s: exited %s after the namespace was deleted, status %d; not ready: %q", p.name, f.exitedIn.Round(time.Second), f.exitStatus, f.notReady)
		assert.Equal(t, 1, f.exitStatus, "%s exit status", p.name)
		require.NotEmpty(t, f.unhealthy, "%s: /healthz never answered 503 before the exit", p.name)
		assert.Contains(t, f.unhealthy, `Temporal namespace "doomed" does not exist`, p.name)
		assert.Contains(t, f.notReady, "doomed", "%s: /readyz names the failing namespace", p.name)
		assert.Contains(t, f.log, p.name+` cannot continue: Temporal namespace \"doomed\" does not exist (deleted?)`, p.name)
		assert.Contains(t, f.log, "Check S1C_TEMPORAL_NAMESPACE", p.name)
		assert.NotContains(t, f.log, "\n"+p.name+":", "%s: the fatal error is logged once, as JSON", p.name)
	}
}

// A Temporal server that stays down is fatal after S1C_TEMPORAL_UNAVAILABLE_EXIT: the
// SDK would retry its polls forever.
func TestWorkerAndPollerExitWhenTemporalStaysUnreachable(t *testing.T) {
	cli := devstack.TemporalForTest(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, devstack.DevServerOptions(cli))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() }) // after a failure before the Stop below; a second Stop only errs
	const exitAfter = 20 * time.Second
	procs := startBoth(t, srv.FrontendHostPort(), "default", "S1C_TEMPORAL_UNAVAILABLE_EXIT="+exitAfter.String())

	stopped := time.Now()
	require.NoError(t, srv.Stop())
	for i, f := range watchBoth(t, procs, stopped, 2*time.Minute) {
		p := procs[i]
		if !f.exited {
			continue // reported
		}
		t.Logf("%s: exited %s after the server stopped, status %d", p.name, f.exitedIn.Round(time.Second), f.exitStatus)
		assert.Equal(t, 1, f.exitStatus, "%s exit status", p.name)
		assert.GreaterOrEqual(t, f.exitedIn, exitAfter, "%s exited before S1C_TEMPORAL_UNAVAILABLE_EXIT", p.name)
		require.NotEmpty(t, f.unhealthy, "%s: /healthz never answered 503 before the exit", p.name)
		assert.Contains(t, f.notReady, "cannot be reached", p.name)
		assert.Contains(t, f.log, p.name+" cannot continue: Temporal at "+srv.FrontendHostPort(), p.name)
		assert.Contains(t, f.log, "Check S1C_TEMPORAL_ADDRESS", p.name)
	}
}
