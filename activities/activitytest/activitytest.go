// Package activitytest is what the tests of s1copilot's activities share: the demo
// console (the simulator's demo scenario behind httptest, on a clock the test moves),
// new threats for it, and the SDK test environment's results and errors. Only tests
// import it; it links the simulator, which production binaries never do.
package activitytest

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// IDs of the embedded demo scenario.
const (
	ThreatRansomFS  = "1910000000000000001" // FIN-FS-01, Windows server
	ThreatMacro     = "1910000000000000002" // SALES-LT-042, Windows laptop
	ThreatAdware    = "1910000000000000003" // HR-DT-007, Windows desktop
	ThreatMiner     = "1910000000000000004" // web-prod-03, Linux server
	ThreatNoVSS     = "1910000000000000005" // ENG-DT-019, Windows desktop without VSS
	AgentFS         = "1900000000000000001"
	AgentHR         = "1900000000000000003"
	AgentLinux      = "1900000000000000004"
	AgentNoVSS      = "1900000000000000005"
	UnknownThreatID = "1910000000000000999"

	// Token is distinctive so a leak into an error message is easy to spot.
	Token = "sim-token-7f3a9c2e51d84b06"
)

// Console is the demo scenario served over HTTP, with the real client reaching it.
type Console struct {
	Clock *fakeclock.Clock
	Sim   *simulator.Simulator
	URL   string
	S1    *s1client.Client
}

// DemoConsole serves the demo scenario on a fake clock (1 March 2025, noon UTC). The
// options' token and clock are set here.
func DemoConsole(t *testing.T, o simulator.Options) *Console {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	o.Token, o.Now = Token, clock.Now
	sim, err := simulator.New(sc, o)
	require.NoError(t, err)
	ts := httptest.NewServer(sim.Handler())
	t.Cleanup(ts.Close)
	return &Console{Clock: clock, Sim: sim, URL: ts.URL, S1: NewClient(t, ts.URL, Token)}
}

// NewClient is the real client without rate limits (the tests count requests instead).
func NewClient(t *testing.T, url, token string) *s1client.Client {
	t.Helper()
	c, err := s1client.New(url, token, s1client.WithRateLimiter(nil))
	require.NoError(t, err)
	return c
}

// Run executes an activity in the test environment and decodes its result when it
// succeeds.
func Run[T any](t *testing.T, env *testsuite.TestActivityEnvironment, activity any, args ...any) (T, error) {
	t.Helper()
	var out T
	val, err := env.ExecuteActivity(activity, args...)
	if err != nil {
		return out, err
	}
	require.NoError(t, val.Get(&out))
	return out, nil
}

// AppError asserts err is (or wraps) a *temporal.ApplicationError and returns it.
func AppError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.Truef(t, errors.As(err, &appErr), "want a *temporal.ApplicationError, got %T: %v", err, err)
	return appErr
}

// RequireNonRetryable asserts err is a non-retryable application error of type typ.
func RequireNonRetryable(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	appErr := AppError(t, err)
	require.Equal(t, typ, appErr.Type(), "error: %v", err)
	require.True(t, appErr.NonRetryable(), "a %s error must not be retried: %v", typ, err)
	return appErr
}

// NewThreat is a valid malicious threat on agent, created ago before the simulator's now.
func NewThreat(id, agentID, ago string) scenario.Threat {
	return scenario.Threat{
		ID: id, AgentID: agentID, ThreatName: "dropper-" + id + ".exe", Classification: "Trojan", ClassificationSource: "Behavioral",
		ConfidenceLevel: "malicious", SHA1: "0123456789abcdef0123456789abcdef01234567", FilePath: `C:\Users\Public\dropper.exe`,
		InitiatedBy: "agent_policy", DetectionType: "dynamic", CreatedAgo: ago,
	}
}
