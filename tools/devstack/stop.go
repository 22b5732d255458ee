package devstack

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Reasons a harness stops, as the cause of the context StopContext returns.
var (
	ErrSignal     = errors.New("stopped by a signal")
	ErrParentGone = errors.New("the parent process is gone")
	ErrBrokenPipe = errors.New("standard output is gone (broken pipe)")
)

// parentPoll is how often StopContext looks for its parent.
const parentPoll = 250 * time.Millisecond

// StopContext returns a context cancelled however the harness (the demo, a load run)
// is asked to stop, so that it stops its children (Supervisor.StopAll) before it ends:
// SIGINT, SIGTERM or SIGHUP (a closed terminal); its parent exiting (`make` killed: the
// harness is re-parented); and a broken standard output, through StopOnBrokenPipe.
// SIGPIPE is ignored from here on (children inherit that; they write to log files):
// `make demo | tee` interrupted kills tee first, and the next line printed would
// otherwise kill the harness before it stops anything. Call it once per process.
// Children still alive when the harness itself is killed (SIGKILL) get SIGKILL from
// the kernel (Proc's parent-death signal, Linux).
func StopContext(parent context.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	ppid := os.Getppid()
	// For the rest of the process: a second Ctrl-C must not kill the harness while it
	// stops its children, and cancelling twice is harmless.
	go func() {
		t := time.NewTicker(parentPoll)
		defer t.Stop()
		for {
			select {
			case <-sigs:
				cancel(ErrSignal)
			case <-t.C:
				if ppid != 1 && os.Getppid() != ppid {
					cancel(ErrParentGone)
				}
			}
		}
	}()
	return ctx, cancel
}

// StopOnBrokenPipe returns a writer to w that cancels with ErrBrokenPipe when w's
// reader is gone (EPIPE): nobody sees the output any more.
func StopOnBrokenPipe(w io.Writer, cancel context.CancelCauseFunc) io.Writer {
	return pipeWriter{w: w, cancel: cancel}
}

type pipeWriter struct {
	w      io.Writer
	cancel context.CancelCauseFunc
}

func (p pipeWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.cancel(ErrBrokenPipe)
	}
	return n, err
}
