package lifecycle

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/s1client"
)

// probe answers the status and body of one request to the process's probe handler.
func probe(p *Process, path string) (int, string) {
	rec := httptest.NewRecorder()
	p.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// eventually waits until /readyz answers code with a body containing want.
func eventually(t *testing.T, p *Process, code int, want string) {
	t.Helper()
	var gotCode int
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if gotCode, body = probe(p, "/readyz"); gotCode == code && strings.Contains(body, want) {
			return
		}
	}
	t.Fatalf("/readyz: %d %q, want %d with %q", gotCode, body, code, want)
}

// console is a SentinelOne stand-in on a fixed address that can answer, fail with a
// status, or refuse connections altogether.
type console struct {
	addr     string
	status   atomic.Int32 // 0: 200 with an empty page
	requests atomic.Int32
	mu       sync.Mutex
	srv      *http.Server
}

func newConsole(t *testing.T) *console {
	t.Helper()
	c := &console{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c.addr = ln.Addr().String()
	c.serve(ln)
	t.Cleanup(func() { c.refuse() })
	return c
}

func (c *console) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if code := int(c.status.Load()); code != 0 {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"errors":[{"code":4010010,"title":"Authentication Failed"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`))
	})}
	c.mu.Lock()
	c.srv = srv
	c.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// refuse closes the listener: connections are refused.
func (c *console) refuse() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv != nil {
		_ = c.srv.Close()
		c.srv = nil
	}
}

// listen again on the same address.
func (c *console) listen(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", c.addr)
	require.NoError(t, err)
	c.serve(ln)
}

func s1For(t *testing.T, c *console) *s1client.Client {
	t.Helper()
	s1, err := s1client.New("http://"+c.addr, "test-token")
	require.NoError(t, err)
	return s1
}

// /readyz follows SentinelOne: a 5xx or a refused connection makes the process not
// ready, a 401/403 is reported as a configuration problem, and it recovers by itself.
func TestReadyzReportsSentinelOneUnreachableAndRecovers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	con := newConsole(t)
	p := New("worker", zap.NewNop())
	p.add(sentinelOneCheck(s1For(t, con), 10*time.Millisecond))
	code, body := probe(p, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "the worker is starting")
	require.NoError(t, p.Start(ctx))
	eventually(t, p, http.StatusOK, "ready")

	con.status.Store(http.StatusServiceUnavailable)
	eventually(t, p, http.StatusServiceUnavailable, "SentinelOne at http://"+con.addr+" cannot be reached: s1: GET /threats: 503")
	con.status.Store(0)
	eventually(t, p, http.StatusOK, "ready")

	con.refuse()
	eventually(t, p, http.StatusServiceUnavailable, "connection refused")
	con.listen(t)
	eventually(t, p, http.StatusOK, "ready")

	con.status.Store(http.StatusUnauthorized)
	eventually(t, p, http.StatusServiceUnavailable, "refuses the API token (401), a configuration problem: check S1C_S1_TOKEN")
	con.status.Store(http.StatusForbidden)
	eventually(t, p, http.StatusServiceUnavailable, "(403), a configuration problem: check the role and scope")
	con.status.Store(0)
	eventually(t, p, http.StatusOK, "ready")

	code, _ = probe(p, "/healthz")
	assert.Equal(t, http.StatusOK, code, "an unreachable dependency is no reason to restart")
}

// Probes read the last background check: the console is asked once per interval, not
// once per probe.
func TestSentinelOneIsNotAskedOnEveryProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	con := newConsole(t)
	p := New("poller", zap.NewNop())
	p.WatchSentinelOne(s1For(t, con))
	require.NoError(t, p.Start(ctx))
	eventually(t, p, http.StatusOK, "ready")
	for range 200 {
		probe(p, "/readyz")
	}
	assert.Equal(t, int32(1), con.requests.Load())
}

// fakeWorker is a started SDK worker whose Stop can be held.
type fakeWorker struct {
	worker.Worker
	hold    chan struct{}
	stopped atomic.Bool
}

func (w *fakeWorker) Start() error { return nil }

func (w *fakeWorker) Stop() {
	if w.hold != nil {
		<-w.hold
	}
	w.stopped.Store(true)
}

// A fatal error makes /healthz answer 503 before the workers are stopped; then every
// worker stops, one line says what failed and what to check, and Wait returns it.
func TestFatalErrorMakesTheProcessUnhealthyStopsItsWorkersAndEndsIt(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	p := New("worker", zap.New(core))
	held := &fakeWorker{hold: make(chan struct{})}
	workers := []*fakeWorker{{}, held, {}}
	require.NoError(t, p.Start(context.Background(), workers[0], workers[1], workers[2]))
	code, _ := probe(p, "/healthz")
	require.Equal(t, http.StatusOK, code)

	done := make(chan error)
	go func() { done <- p.Wait(context.Background()) }()
	p.Fail(&serviceerror.NamespaceNotFound{Message: "Namespace doomed is not found.", Namespace: "doomed"})
	p.Fail(errors.New("a later error does not count"))
	code, body := probe(p, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "unhealthy while the workers stop")
	assert.Contains(t, body, `worker cannot continue: Temporal namespace "doomed" does not exist (deleted?)`)
	code, _ = probe(p, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.False(t, held.stopped.Load())
	close(held.hold)

	err := <-done
	var fatal *Fatal
	require.ErrorAs(t, err, &fatal)
	var nf *serviceerror.NamespaceNotFound
	assert.ErrorAs(t, err, &nf)
	for i, w := range workers {
		assert.True(t, w.stopped.Load(), "worker %d stopped", i)
	}
	lines := logs.FilterLevelExact(zapcore.ErrorLevel).All()
	require.Len(t, lines, 1)
	assert.Equal(t, err.Error(), lines[0].Message)
	assert.Contains(t, lines[0].Message, "Check S1C_TEMPORAL_NAMESPACE and that the namespace exists")
}

// A signal stops the workers cleanly: no error, nothing fatal.
func TestSignalStopsTheWorkersCleanly(t *testing.T) {
	p := New("poller", zap.NewNop())
	w := &fakeWorker{}
	require.NoError(t, p.Start(context.Background(), w))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, p.Wait(ctx))
	assert.True(t, w.stopped.Load())
	code, _ := probe(p, "/healthz")
	assert.Equal(t, http.StatusOK, code)
}

// fakeTemporal answers the health check with err.
type fakeTemporal struct {
	client.Client
	err atomic.Pointer[error]
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	if err := f.err.Load(); err != nil {
		return nil, *err
	}
	return &client.CheckHealthResponse{}, nil
}

func temporalConfig(exitAfter time.Duration) config.Config {
	cfg := config.Defaults()
	cfg.Temporal.Address, cfg.Temporal.Namespace, cfg.TemporalUnavailableExit = "temporal:7233", "prod", exitAfter
	return cfg
}

// Temporal unreachable makes the process not ready; for S1C_TEMPORAL_UNAVAILABLE_EXIT
// without a break, fatal.
func TestTemporalUnreachableForTooLongIsFatal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := New("worker", zap.NewNop())
	c := &fakeTemporal{}
	p.add(p.temporalCheck(c, temporalConfig(300*time.Millisecond), 10*time.Millisecond))
	require.NoError(t, p.Start(ctx))
	eventually(t, p, http.StatusOK, "ready")

	down := error(serviceerror.NewUnavailable("connection refused"))
	c.err.Store(&down)
	eventually(t, p, http.StatusServiceUnavailable, "Temporal at temporal:7233 cannot be reached")
	c.err.Store(nil) // back before the deadline: the count starts again
	eventually(t, p, http.StatusOK, "ready")

	began := time.Now()
	c.err.Store(&down)
	err := p.Wait(ctx)
	assert.GreaterOrEqual(t, time.Since(began), 300*time.Millisecond)
	var fatal *Fatal
	require.ErrorAs(t, err, &fatal)
	assert.Contains(t, err.Error(), "worker cannot continue: Temporal at temporal:7233 (namespace prod) has been unreachable or refused every task poll for")
	assert.Contains(t, err.Error(), "Check S1C_TEMPORAL_ADDRESS")
}

// With S1C_TEMPORAL_UNAVAILABLE_EXIT=0 the process waits for Temporal forever.
func TestTemporalUnavailableExitZeroNeverExits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	p := New("worker", zap.NewNop())
	c := &fakeTemporal{}
	down := error(serviceerror.NewUnavailable("connection refused"))
	c.err.Store(&down)
	p.add(p.temporalCheck(c, temporalConfig(0), 5*time.Millisecond))
	require.NoError(t, p.Start(ctx))
	assert.NoError(t, p.Wait(ctx), "only the signal ended it")
}

// Task polls that all fail (a deleted namespace, a revoked credential) make Temporal
// not ready although its health check passes; a stopping worker's cancelled polls and
// other calls do not count.
func TestPollsThatAllFailMakeTemporalNotReady(t *testing.T) {
	p := New("worker", zap.NewNop())
	ctx := context.Background()
	answer := func(err error) grpc.UnaryInvoker {
		return func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return err }
	}
	const poll = "/temporal.api.workflowservice.v1.WorkflowService/PollActivityTaskQueue"
	denied := status.Error(codes.PermissionDenied, "Request unauthorized.")
	require.Equal(t, denied, p.polls.intercept(ctx, poll, nil, nil, nil, answer(denied)))
	_ = p.polls.intercept(ctx, "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution", nil, nil, nil, answer(nil))
	_ = p.polls.intercept(ctx, poll, nil, nil, nil, answer(status.Error(codes.Canceled, "stopping")))
	_, err := p.polls.failing(time.Now())
	assert.NoError(t, err, "within the grace")
	since, err := p.polls.failing(time.Now().Add(pollGrace))
	assert.Equal(t, denied, err)
	assert.WithinDuration(t, time.Now(), since, time.Second)

	c := &fakeTemporal{}
	check := p.temporalCheck(c, temporalConfig(0), time.Hour)
	p.polls.failedSince = time.Now().Add(-time.Minute)
	assert.ErrorContains(t, check.probe(ctx), "Temporal at temporal:7233 answers, but every task poll of namespace prod has failed since")

	_ = p.polls.intercept(ctx, "/temporal.api.workflowservice.v1.WorkflowService/PollWorkflowTaskQueue", nil, nil, nil, answer(nil))
	assert.NoError(t, check.probe(ctx), "one successful poll clears it")
}
