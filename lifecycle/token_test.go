package lifecycle

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/metrics/metricstest"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const tokenUnderTest = "sim-token-6f1d2c"

// tokenWatchOn runs a token watch against the simulator, whose token lives lifetime,
// on a shared fake clock.
func tokenWatchOn(t *testing.T, lifetime time.Duration) (*tokenWatch, *fakeclock.Clock, *metricstest.Recorder, *observer.ObservedLogs, string) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	sim, err := simulator.New(nil, simulator.Options{Token: tokenUnderTest, Now: clock.Now, TokenLifetime: lifetime})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	s1, err := s1client.New(srv.URL, tokenUnderTest)
	require.NoError(t, err)
	core, logs := observer.New(zapcore.InfoLevel)
	rec := metricstest.NewRecorder()
	return &tokenWatch{s1: s1, gauge: rec, log: zap.New(core), now: clock.Now}, clock, rec, logs, srv.URL
}

func TestTokenExpiryIsReadExportedAndWarnedAbout(t *testing.T) {
	w, clock, rec, logs, _ := tokenWatchOn(t, 10*24*time.Hour)
	require.NoError(t, w.probe(context.Background()), "a valid token is ready")
	left, ok := rec.GaugeValue(metrics.S1TokenExpiry, nil)
	require.True(t, ok)
	assert.InDelta(t, (10 * 24 * time.Hour).Seconds(), left, 1)
	warned := logs.FilterLevelExact(zapcore.WarnLevel).All()
	require.Len(t, warned, 1, "10 days left is inside the 14-day warning")
	assert.Contains(t, warned[0].Message, "expires in 10 days")
	assert.Contains(t, warned[0].Message, "S1C_S1_TOKEN")

	// Within the day the expiry is not read again: the gauge follows the clock.
	before := w.readAt
	clock.Advance(time.Hour)
	require.NoError(t, w.probe(context.Background()))
	left, _ = rec.GaugeValue(metrics.S1TokenExpiry, nil)
	assert.InDelta(t, (10*24*time.Hour - time.Hour).Seconds(), left, 1)
	assert.Equal(t, before, w.readAt, "no console request within the day")
}

func TestLongLivedTokenDoesNotWarn(t *testing.T) {
	w, _, _, logs, _ := tokenWatchOn(t, 0) // the console's default: six months
	require.NoError(t, w.probe(context.Background()))
	assert.Empty(t, logs.FilterLevelExact(zapcore.WarnLevel).All())
}

// Between two daily reads the token expires: readiness fails within the minute, from the
// known expiry, with how to rotate it and without the token.
func TestExpiredTokenFailsReadinessAndSaysHowToRotate(t *testing.T) {
	w, clock, rec, _, url := tokenWatchOn(t, 12*time.Hour)
	require.NoError(t, w.probe(context.Background()))
	clock.Advance(12*time.Hour + time.Minute)
	err := w.probe(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "expired at 2026-12-01T21:00:00Z")
	assert.Contains(t, err.Error(), url)
	assert.Contains(t, err.Error(), "S1C_S1_TOKEN")
	assert.NotContains(t, err.Error(), tokenUnderTest)
	left, _ := rec.GaugeValue(metrics.S1TokenExpiry, nil)
	assert.Less(t, left, 0.0)

	// The next daily read meets the console's 401: still not ready, one clear message.
	clock.Advance(24 * time.Hour)
	err = w.probe(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refuses the API token (401)")
	assert.NotContains(t, err.Error(), tokenUnderTest)
}

// A console that does not serve token details leaves the expiry unknown: logged once,
// never unready (the other checks see a token that really fails).
func TestUnknownExpiryIsLoggedOnceNotUnready(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":[{"code":4030010,"title":"Forbidden"}]}`))
	}))
	defer srv.Close()
	s1, err := s1client.New(srv.URL, tokenUnderTest)
	require.NoError(t, err)
	core, logs := observer.New(zapcore.InfoLevel)
	clock := fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	w := &tokenWatch{s1: s1, log: zap.New(core), now: clock.Now}
	require.NoError(t, w.probe(context.Background()))
	clock.Advance(25 * time.Hour)
	require.NoError(t, w.probe(context.Background()))
	assert.Len(t, logs.FilterMessageSnippet("could not be read").All(), 1)
}
