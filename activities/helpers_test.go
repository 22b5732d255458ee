package activities_test

import (
	"errors"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// IDs of the embedded demo scenario.
const (
	threatRansomFS  = "1910000000000000001" // FIN-FS-01, Windows server
	threatMacro     = "1910000000000000002" // SALES-LT-042, Windows laptop
	threatAdware    = "1910000000000000003" // HR-DT-007, Windows desktop
	threatMiner     = "1910000000000000004" // web-prod-03, Linux server
	threatNoVSS     = "1910000000000000005" // ENG-DT-019, Windows desktop without VSS
	agentFS         = "1900000000000000001"
	agentHR         = "1900000000000000003"
	agentLinux      = "1900000000000000004"
	agentNoVSS      = "1900000000000000005"
	unknownThreatID = "1910000000000000999"

	// testToken is distinctive so a leak into an error message is easy to spot.
	testToken       = "sim-token-7f3a9c2e51d84b06"
	mitigationDelay = 30 * time.Second
	isolationDelay  = 10 * time.Second
	mitigationPoll  = 5 * time.Second
)

// fixture is the demo scenario behind httptest, the real client, and the activities
// registered in an SDK activity test environment.
type fixture struct {
	clock *fakeclock.Clock
	sim   *simulator.Simulator
	url   string
	s1    *s1client.Client
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	sim, err := simulator.New(sc, simulator.Options{
		Token: testToken, MitigationDelay: mitigationDelay, IsolationDelay: isolationDelay, Now: clock.Now,
	})
	require.NoError(t, err)
	ts := httptest.NewServer(sim.Handler())
	t.Cleanup(ts.Close)
	c := newClient(t, ts.URL, testToken)
	acts := &activities.Activities{
		S1:       c,
		Rules:    rules.New(),
		Settings: activities.Settings{MitigationPoll: mitigationPoll},
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{clock: clock, sim: sim, url: ts.URL, s1: c, acts: acts, env: env}
}

func newClient(t *testing.T, url, token string) *s1client.Client {
	t.Helper()
	c, err := s1client.New(url, token, s1client.WithRateLimiter(nil))
	require.NoError(t, err)
	return c
}

// run executes an activity in the test environment and decodes its result into out
// when it succeeds.
func run[T any](t *testing.T, env *testsuite.TestActivityEnvironment, activity any, args ...any) (T, error) {
	t.Helper()
	var out T
	val, err := env.ExecuteActivity(activity, args...)
	if err != nil {
		return out, err
	}
	require.NoError(t, val.Get(&out))
	return out, nil
}

// appError asserts err is (or wraps) a *temporal.ApplicationError and returns it.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.Truef(t, errors.As(err, &appErr), "want a *temporal.ApplicationError, got %T: %v", err, err)
	return appErr
}

// requireNonRetryable asserts err is a non-retryable application error of type typ.
func requireNonRetryable(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	appErr := appError(t, err)
	require.Equal(t, typ, appErr.Type(), "error: %v", err)
	require.True(t, appErr.NonRetryable(), "a %s error must not be retried: %v", typ, err)
	return appErr
}

// newThreat is a valid scenario threat on agent, created ago before the simulator's now.
func newThreat(id, agentID, ago string) scenario.Threat {
	return scenario.Threat{
		ID:                   id,
		AgentID:              agentID,
		ThreatName:           "dropper-" + id + ".exe",
		Classification:       "Trojan",
		ClassificationSource: "Behavioral",
		ConfidenceLevel:      "malicious",
		SHA1:                 "0123456789abcdef0123456789abcdef01234567",
		FilePath:             `C:\Users\Public\dropper.exe`,
		InitiatedBy:          "agent_policy",
		DetectionType:        "dynamic",
		CreatedAgo:           ago,
	}
}
