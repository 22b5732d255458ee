package devstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the processes of TestChildrenDieWithTheHarness: a harness
// like the demo, and a parent of that harness.
func TestMain(m *testing.M) {
	switch os.Getenv("DEVSTACK_TEST_ROLE") {
	case "harness":
		os.Exit(harness())
	case "parent":
		os.Exit(parentOfHarness())
	}
	os.Exit(m.Run())
}

// harness does what the demo does: it supervises a long-running child, prints now and
// then, and stops its children however it is asked to stop.
func harness() int {
	ctx, stop := StopContext(context.Background())
	out := StopOnBrokenPipe(os.Stdout, stop)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s := &Supervisor{LogDir: os.Getenv("DEVSTACK_TEST_LOGS")}
	defer s.StopAll()
	if err := s.Start(Proc{Name: "sleeper", Path: sleep, Args: []string{"300"}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(out, "harness %d child %d\n", os.Getpid(), s.Pid("sleeper"))
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "harness stopping:", context.Cause(ctx))
			return 0
		case <-time.After(20 * time.Millisecond):
			fmt.Fprintln(out, "tick") // progress, as the demo prints it
		}
	}
}

// parentOfHarness starts a harness sharing its output and waits to be killed.
func parentOfHarness() int {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DEVSTACK_TEST_ROLE=harness")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {}
}

// alive reports whether pid runs (a zombie does not: its parent may be an init that
// does not reap).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !os.IsNotExist(err)
	}
	// pid (comm) state ...: comm may hold spaces, the state follows the last ')'.
	s := string(stat)
	return !strings.HasPrefix(strings.TrimSpace(s[strings.LastIndexByte(s, ')')+1:]), "Z")
}

func waitGone(t *testing.T, what string, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) still running 5 s later", what, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// However a harness is stopped, its supervised children do not outlive it.
func TestChildrenDieWithTheHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes: skipped with -short")
	}
	cases := []struct {
		name string
		// stop ends the harness; top is the process the test started.
		stop   func(t *testing.T, top *exec.Cmd, harnessPid int, output io.Closer)
		viaTop bool
		linux  bool
		// want is what the harness says when it stops its children itself (not the
		// kernel's parent-death signal): every way but SIGKILL.
		want string
	}{
		{name: "SIGINT", stop: signalHarness(syscall.SIGINT), want: ErrSignal.Error()},
		{name: "SIGTERM", stop: signalHarness(syscall.SIGTERM), want: ErrSignal.Error()},
		{name: "SIGHUP", stop: signalHarness(syscall.SIGHUP), want: ErrSignal.Error()},
		{name: "SIGKILL", stop: signalHarness(syscall.SIGKILL), linux: true},
		{name: "broken stdout pipe", want: ErrBrokenPipe.Error(), stop: func(t *testing.T, _ *exec.Cmd, _ int, output io.Closer) {
			_ = output.Close() // tee died first
		}},
		{name: "parent killed", viaTop: true, want: ErrParentGone.Error(), stop: func(t *testing.T, top *exec.Cmd, _ int, _ io.Closer) {
			if err := top.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.linux && runtime.GOOS != "linux" {
				t.Skip("the parent-death signal is Linux-only")
			}
			role := "harness"
			if tc.viaTop {
				role = "parent"
			}
			top := exec.Command(os.Args[0], "-test.run=^$")
			top.Env = append(os.Environ(), "DEVSTACK_TEST_ROLE="+role, "DEVSTACK_TEST_LOGS="+t.TempDir())
			var stderr strings.Builder
			top.Stderr = &stderr
			output, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			top.Stdout = w
			err = top.Start()
			_ = w.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = output.Close() })
			exited := make(chan struct{})
			go func() { _ = top.Wait(); close(exited) }()
			t.Cleanup(func() { _ = top.Process.Kill(); <-exited })

			lines := bufio.NewScanner(output)
			if !lines.Scan() {
				t.Fatalf("no first line from the harness: %v", lines.Err())
			}
			var harnessPid, childPid int
			if _, err := fmt.Sscanf(lines.Text(), "harness %d child %d", &harnessPid, &childPid); err != nil {
				t.Fatalf("first line %q: %v", lines.Text(), err)
			}
			t.Cleanup(func() { _ = syscall.Kill(childPid, syscall.SIGKILL); _ = syscall.Kill(harnessPid, syscall.SIGKILL) })
			if !alive(childPid) {
				t.Fatal("the child is not running")
			}
			if tc.name != "broken stdout pipe" {
				go func() { _, _ = io.Copy(io.Discard, output) }() // keep the pipe flowing
			}

			tc.stop(t, top, harnessPid, output)
			waitGone(t, "the supervised child", childPid)
			if tc.viaTop {
				waitGone(t, "the orphaned harness", harnessPid)
			}
			select {
			case <-exited: // and the harness's stderr has been read to its end
			case <-time.After(5 * time.Second):
				t.Fatal("the harness still runs 5 s later")
			}
			if tc.want == "" {
				return
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("the harness did not stop its children itself: stderr %q, want %q", stderr.String(), tc.want)
			}
			if !tc.viaTop && top.ProcessState.ExitCode() != 0 {
				t.Errorf("the harness ended with %v, want a clean exit after StopAll", top.ProcessState)
			}
		})
	}
}

func signalHarness(sig syscall.Signal) func(*testing.T, *exec.Cmd, int, io.Closer) {
	return func(t *testing.T, _ *exec.Cmd, harnessPid int, _ io.Closer) {
		if err := syscall.Kill(harnessPid, sig); err != nil {
			t.Fatal(err)
		}
	}
}
