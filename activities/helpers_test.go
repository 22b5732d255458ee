package activities_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const (
	mitigationDelay = 30 * time.Second
	isolationDelay  = 10 * time.Second
	mitigationPoll  = 5 * time.Second
	scriptDelay     = 20 * time.Second
)

// fixture is the demo console, the real client, and the activities registered in an
// SDK activity test environment.
type fixture struct {
	clock *fakeclock.Clock
	sim   *simulator.Simulator
	url   string
	s1    *s1client.Client
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T) *fixture { t.Helper(); return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with the simulator's options edited.
func newFixtureWith(t *testing.T, edit func(*simulator.Options)) *fixture {
	t.Helper()
	opts := simulator.Options{MitigationDelay: mitigationDelay, IsolationDelay: isolationDelay, ScriptDelay: scriptDelay}
	if edit != nil {
		edit(&opts)
	}
	con := simtest.DemoConsole(t, opts)
	c := activitytest.NewClient(t, con.URL, simtest.Token)
	acts := &activities.Activities{
		S1:       c,
		Rules:    rules.New(),
		Settings: activities.Settings{MitigationPoll: mitigationPoll},
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &fixture{clock: con.Clock, sim: con.Sim, url: con.URL, s1: c, acts: acts, env: env}
}
