package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/workflows"
)

// demoToken is the simulator's API token in the demo; it is not a secret.
const demoToken = "demo-token"

// demoEnv is the configuration of the worker and the poller in the demo: short
// intervals so a newcomer sees the whole story in a minute or two.
func demoEnv(o options) []string {
	approval := "1h"
	if o.check {
		approval = "10m"
	}
	return []string{
		fmt.Sprintf("S1C_S1_URL=http://127.0.0.1:%d", o.simPort),
		"S1C_S1_TOKEN=" + demoToken,
		fmt.Sprintf("S1C_TEMPORAL_ADDRESS=127.0.0.1:%d", o.port),
		"S1C_POLL_INTERVAL=3s",
		"S1C_POLL_LOOKBACK=1h",
		"S1C_APPROVAL_TIMEOUT=" + approval,
		"S1C_MITIGATION_TIMEOUT=30s",
		"S1C_MITIGATION_POLL=2s",
	}
}

func devServerArgs(o options) []string {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1",
		"--port", fmt.Sprint(o.port), "--ui-port", fmt.Sprint(o.uiPort), "--log-level", "error"}
	for _, k := range workflows.SearchAttributeKeys() {
		args = append(args, "--search-attribute", k.GetName()+"=Keyword")
	}
	return args
}

// findTemporal locates the temporal CLI (the Makefile installs it when missing).
func findTemporal(flagPath string) (string, error) {
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

// supervisor starts child processes with their output in log files and stops them all
// (process group and all) when the demo ends.
type supervisor struct {
	logDir string
	procs  []*exec.Cmd
	names  []string
}

func (s *supervisor) start(name, path string, args, env []string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %s not found (run `make build`)", name, path)
	}
	logf, err := os.Create(filepath.Join(s.logDir, name+".log"))
	if err != nil {
		return fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	s.procs = append(s.procs, cmd)
	s.names = append(s.names, name)
	return nil
}

// stop ends one child gracefully (SIGTERM), then forcefully after a grace period.
func (s *supervisor) stop(name string) {
	for i, cmd := range s.procs {
		if s.names[i] != name || cmd.Process == nil {
			continue
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		cmd.Process = nil
	}
}

func (s *supervisor) stopAll() {
	for i := len(s.names) - 1; i >= 0; i-- {
		s.stop(s.names[i])
	}
}

func waitForTemporal(ctx context.Context, hostPort string) (client.Client, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.Dial(client.Options{HostPort: hostPort, Logger: quietLogger{}})
		if err == nil {
			if _, herr := c.CheckHealth(ctx, &client.CheckHealthRequest{}); herr == nil {
				return c, nil
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("temporal dev server at %s did not become ready in 60s (is the port taken?)", hostPort)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func waitForHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer in 30s (is the port taken?)", url)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
