package devstack

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSupervisorKillRestartAndCrashDetection(t *testing.T) {
	s := &Supervisor{LogDir: t.TempDir()}
	defer s.StopAll()
	sh := "/bin/sh"
	if err := s.Start(Proc{Name: "sleeper", Path: sh, Args: []string{"-c", "echo started $RUN; exec sleep 60"}, Env: []string{"RUN=one"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(Proc{Name: "sleeper", Path: sh}); err == nil {
		t.Fatal("a second process under a running name was started")
	}
	waitForLog(t, s.LogPath("sleeper"), "started one", 1)
	pid := s.Pid("sleeper")
	if pid == 0 {
		t.Fatal("no pid")
	}
	if err := s.Kill("sleeper"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("pid %d still alive after Kill", pid)
	}
	if got := s.Exited(); len(got) != 0 {
		t.Fatalf("a killed process reported as exited on its own: %v", got)
	}
	if err := s.Kill("sleeper"); err == nil {
		t.Fatal("killing a stopped process reported no error")
	}
	if err := s.Restart("sleeper"); err != nil {
		t.Fatal(err)
	}
	if s.Pid("sleeper") == 0 || s.Pid("sleeper") == pid {
		t.Fatalf("restart: pid %d (was %d)", s.Pid("sleeper"), pid)
	}
	waitForLog(t, s.LogPath("sleeper"), "started one", 2) // appended to the first run
	if err := s.Start(Proc{Name: "crasher", Path: sh, Args: []string{"-c", "exit 3"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(s.Exited(), "crasher") {
		if time.Now().After(deadline) {
			t.Fatal("a process that exited on its own was not reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop("sleeper", time.Second)
	if s.Pid("sleeper") != 0 {
		t.Fatal("stopped process still has a pid")
	}
	if err := s.Restart("never"); err == nil {
		t.Fatal("restarting an unknown process reported no error")
	}
	if err := s.Start(Proc{Name: "missing", Path: "/no/such/binary"}); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("missing binary: %v", err)
	}
}

func TestDevServerArgsPersistAndRegisterSearchAttributes(t *testing.T) {
	args := strings.Join(DevServerArgs(1, 2, "/tmp/x.db"), " ")
	for _, want := range []string{"--port 1", "--ui-port 2", "--db-filename /tmp/x.db", "--search-attribute S1Outcome=Keyword"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
	if strings.Contains(strings.Join(DevServerArgs(1, 2, ""), " "), "--db-filename") {
		t.Error("in-memory dev server given a database file")
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	ps, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0] == ps[1] || ps[1] == ps[2] || ps[0] == ps[2] {
		t.Fatalf("ports %v", ps)
	}
}

func waitForLog(t *testing.T, path, line string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), line) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s: %q, want %d× %q", path, b, n, line)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
