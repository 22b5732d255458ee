package ingest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/signature"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const secret = "0123456789abcdef0123456789abcdef-push-secret"

// fakeInvestigations records what ingestion asked for.
type fakeInvestigations struct {
	mu       sync.Mutex
	running  map[string]bool
	started  []string
	notified []string
}

func (f *fakeInvestigations) Start(_ context.Context, t s1client.Threat) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[string(t.ID)] {
		return false, nil
	}
	f.running[string(t.ID)] = true
	f.started = append(f.started, string(t.ID))
	return true, nil
}

func (f *fakeInvestigations) Notify(_ context.Context, t s1client.Threat) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running[string(t.ID)] {
		return false, nil
	}
	f.notified = append(f.notified, string(t.ID))
	return true, nil
}

type pushFixture struct {
	srv   *httptest.Server
	sim   *simulator.Simulator
	inv   *fakeInvestigations
	clock time.Time
}

func newPushFixture(t *testing.T, limit rate.Limit) *pushFixture {
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: "tok"})
	require.NoError(t, err)
	s1srv := httptest.NewServer(sim.Handler())
	t.Cleanup(s1srv.Close)
	s1, err := s1client.New(s1srv.URL, "tok")
	require.NoError(t, err)
	f := &pushFixture{sim: sim, inv: &fakeInvestigations{running: map[string]bool{}}, clock: time.Now()}
	p := &Push{S1: s1, Investigations: f.inv, Secret: []byte(secret), Limiter: rate.NewLimiter(limit, 3), Logger: zap.NewNop(), Now: func() time.Time { return f.clock }}
	f.srv = httptest.NewServer(p)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *pushFixture) post(t *testing.T, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/threats", strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.NotContains(t, string(b), secret)
	return resp.StatusCode, string(b)
}

func bearer() map[string]string { return map[string]string{"Authorization": "Bearer " + secret} }

func signed(body string, at time.Time) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{"X-S1C-Timestamp": ts, "X-S1C-Signature": signature.HeaderValue([]byte(secret), ts, []byte(body))}
}

func TestPushStartsThenNotifies(t *testing.T) {
	f := newPushFixture(t, rate.Inf)
	body := `{"threatId":"1910000000000000002"}`
	code, out := f.post(t, body, bearer())
	assert.Equal(t, http.StatusAccepted, code, out)
	assert.Contains(t, out, `"status":"started"`)
	assert.Contains(t, out, `"workflowId":"s1-threat/1910000000000000002"`)

	code, out = f.post(t, body, signed(body, f.clock))
	assert.Equal(t, http.StatusAccepted, code, out)
	assert.Contains(t, out, `"status":"notified"`)
	assert.Equal(t, []string{"1910000000000000002"}, f.inv.started, "a push never starts a second investigation")
	assert.Equal(t, []string{"1910000000000000002"}, f.inv.notified)
}

func TestPushRefusesBadCredentials(t *testing.T) {
	f := newPushFixture(t, rate.Inf)
	body := `{"threatId":"1910000000000000002"}`
	before := f.sim.Counters().Requests
	for name, h := range map[string]map[string]string{
		"none":            nil,
		"wrong bearer":    {"Authorization": "Bearer nope"},
		"basic auth":      {"Authorization": "Basic " + secret},
		"tampered body":   signed(`{"threatId":"1910000000000000001"}`, f.clock),
		"stale timestamp": signed(body, f.clock.Add(-10*time.Minute)),
		"future stamp":    signed(body, f.clock.Add(10*time.Minute)),
		"bad signature":   {"X-S1C-Timestamp": strconv.FormatInt(f.clock.Unix(), 10), "X-S1C-Signature": "sha256=zz"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out := f.post(t, body, h)
			assert.Equal(t, http.StatusUnauthorized, code, out)
		})
	}
	assert.Equal(t, before, f.sim.Counters().Requests, "nothing reaches SentinelOne without valid credentials")
	assert.Empty(t, f.inv.started)
}

func TestPushValidatesInput(t *testing.T) {
	f := newPushFixture(t, rate.Inf)
	for body, want := range map[string]int{
		`{"threatId":"abc"}`:                       http.StatusBadRequest,
		`{"threatId":""}`:                          http.StatusBadRequest,
		`{"threat":"1910000000000000002"}`:         http.StatusBadRequest,
		`not json`:                                 http.StatusBadRequest,
		`{"threatId":"1999999999999999999"}`:       http.StatusNotFound,
		`{"threatId":"1910000000000000002"}` + "x": http.StatusBadRequest,
	} {
		code, out := f.post(t, body, bearer())
		assert.Equal(t, want, code, "%s → %s", body, out)
	}
	code, _ := f.post(t, strings.Repeat("x", 5000), bearer())
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Empty(t, f.inv.started)
}

func TestPushIsRateLimited(t *testing.T) {
	f := newPushFixture(t, rate.Every(time.Hour))
	body := `{"threatId":"1910000000000000002"}`
	var codes []int
	for range 5 {
		code, _ := f.post(t, body, bearer())
		codes = append(codes, code)
	}
	assert.Equal(t, []int{202, 202, 202, 429, 429}, codes, "burst of 3, then refused")
}
