// Package devstack runs the s1copilot stack on one machine as supervised child
// processes (the Temporal dev server, the worker, the poller): the demo and the
// chaos harness share it. Each process logs to <LogDir>/<name>.log; a restarted
// process appends to its log, so a run keeps the whole story.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/workflows"
)

// Proc describes one child process.
type Proc struct {
	Name string
	Path string
	Args []string
	// Env is added to the parent's environment.
	Env []string
}

// Supervisor starts, stops, kills and restarts named child processes, each in its
// own process group so a signal reaches its children too. A harness stops them with
// StopAll however it is asked to stop (StopContext); should it die first, Linux kills
// them (procattr_linux.go).
type Supervisor struct {
	LogDir string

	mu      sync.Mutex
	order   []string
	specs   map[string]Proc
	running map[string]*running
}

type running struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts p (or starts it again under the same name after it stopped).
func (s *Supervisor) Start(p Proc) error {
	if _, err := os.Stat(p.Path); err != nil {
		return fmt.Errorf("%s: %s not found (run `make build`)", p.Name, p.Path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.specs == nil {
		s.specs, s.running = map[string]Proc{}, map[string]*running{}
	}
	if r := s.running[p.Name]; r != nil {
		return fmt.Errorf("%s is already running (pid %d)", p.Name, r.cmd.Process.Pid)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if _, seen := s.specs[p.Name]; seen {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	} else {
		s.order = append(s.order, p.Name)
	}
	logf, err := os.OpenFile(s.LogPath(p.Name), flags, 0o644)
	if err != nil {
		return fmt.Errorf("%s log: %w", p.Name, err)
	}
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	r := &running{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(r.done) }()
	s.specs[p.Name], s.running[p.Name] = p, r
	return nil
}

// LogPath is where the named process logs.
func (s *Supervisor) LogPath(name string) string { return filepath.Join(s.LogDir, name+".log") }

// Pid is the running process's id, or 0.
func (s *Supervisor) Pid(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.running[name]; r != nil {
		return r.cmd.Process.Pid
	}
	return 0
}

func (s *Supervisor) take(name string) *running {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.running[name]
	delete(s.running, name)
	return r
}

// Stop ends one child gracefully (SIGTERM to its group), forcefully after grace.
func (s *Supervisor) Stop(name string, grace time.Duration) {
	r := s.take(name)
	if r == nil {
		return
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(grace):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
	}
}

// Kill ends one child at once (SIGKILL to its group: no cleanup, like a crash).
func (s *Supervisor) Kill(name string) error {
	r := s.take(name)
	if r == nil {
		return fmt.Errorf("%s is not running", name)
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.done
	return nil
}

// Restart starts a stopped or killed child again with the same command line.
func (s *Supervisor) Restart(name string) error {
	s.mu.Lock()
	p, ok := s.specs[name]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%s was never started", name)
	}
	return s.Start(p)
}

// Exited reports the names of started children that are no longer running on their
// own (not stopped or killed through the supervisor), so a harness notices a crash.
func (s *Supervisor) Exited() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, name := range s.order {
		if r := s.running[name]; r != nil {
			select {
			case <-r.done:
				out = append(out, name)
			default:
			}
		}
	}
	return out
}

// StopAll stops every child, the last started first.
func (s *Supervisor) StopAll() {
	s.mu.Lock()
	names := append([]string(nil), s.order...)
	s.mu.Unlock()
	for i := len(names) - 1; i >= 0; i-- {
		s.Stop(names[i], 10*time.Second)
	}
}

// DevServerArgs are the temporal CLI arguments of a dev server on 127.0.0.1 with the
// project's search attributes; dbFile persists its state across restarts ("" = in memory).
func DevServerArgs(port, uiPort int, dbFile string) []string {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1",
		"--port", fmt.Sprint(port), "--ui-port", fmt.Sprint(uiPort), "--log-level", "error"}
	if dbFile != "" {
		args = append(args, "--db-filename", dbFile)
	}
	for _, k := range workflows.SearchAttributeKeys() {
		args = append(args, "--search-attribute", k.GetName()+"=Keyword")
	}
	return args
}

// FindTemporal locates the temporal CLI (the Makefile installs it when missing).
func FindTemporal(flagPath string) (string, error) {
	candidates := []string{flagPath, os.Getenv("TEMPORAL_CLI_PATH")}
	if p, err := exec.LookPath("temporal"); err == nil {
		candidates = append(candidates, p)
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(gopath)), "bin", "temporal"))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", errors.New("temporal CLI not found: run `make temporal-cli` (go install github.com/temporalio/cli/cmd/temporal@v1.5.1) or pass -temporal PATH")
}

// FreePorts returns n distinct TCP ports free on 127.0.0.1 at the time of the call.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// WaitForTemporal dials the frontend until it answers a health check.
func WaitForTemporal(ctx context.Context, hostPort string, timeout time.Duration) (client.Client, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := config.Temporal{Address: hostPort, Namespace: config.DefaultTemporalNamespace}.Dial(ctx, client.Options{Logger: QuietLogger{}})
		if err == nil {
			if _, herr := c.CheckHealth(ctx, &client.CheckHealthRequest{}); herr == nil {
				return c, nil
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("temporal dev server at %s did not become ready in %s (is the port taken?)", hostPort, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// WaitForHTTP polls url until it answers 200.
func WaitForHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer in %s (is the port taken?)", url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// QuietLogger silences the SDK client's own logging.
type QuietLogger struct{}

func (QuietLogger) Debug(string, ...any) {}
func (QuietLogger) Info(string, ...any)  {}
func (QuietLogger) Warn(string, ...any)  {}
func (QuietLogger) Error(string, ...any) {}

// TemporalForTest returns the temporal CLI for a test that needs a dev server. Without
// one the test is skipped (and always with -short), unless S1C_REQUIRE_INTEGRATION is
// set, as `make test` and CI do: then it fails, so a missing CLI cannot pass silently.
func TemporalForTest(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Temporal dev server: skipped with -short")
	}
	p, err := FindTemporal("")
	if err == nil {
		return p
	}
	if os.Getenv("S1C_REQUIRE_INTEGRATION") != "" {
		t.Fatalf("%v (or set TEMPORAL_CLI_PATH)", err)
	}
	t.Skipf("%v; set S1C_REQUIRE_INTEGRATION=1 to fail instead", err)
	return ""
}

// DevServerOptions are the testsuite options of a dev server for this product, for
// tests and benchmarks that start one with testsuite.StartDevServer: the CLI at cli,
// the search attributes registered and visible at once, errors only in its log, and
// extra namespaces beside "default". Callers add client options.
func DevServerOptions(cli string, namespaces ...string) testsuite.DevServerOptions {
	var sa []temporal.SearchAttributeUpdate
	for _, k := range workflows.SearchAttributeKeys() {
		sa = append(sa, k.ValueSet(""))
	}
	extra := []string{"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=true"}
	for _, ns := range namespaces {
		extra = append(extra, "--namespace", ns)
	}
	return testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &client.Options{Namespace: "default"},
		SearchAttributes: temporal.NewSearchAttributes(sa...),
		LogLevel:         "error",
		ExtraArgs:        extra,
	}
}
