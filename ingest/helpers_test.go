package ingest_test

import (
	"testing"

	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// fixture is the demo console on a fake clock, and the real client.
type fixture struct {
	clock *fakeclock.Clock
	sim   *simulator.Simulator
	url   string
	s1    *s1client.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	con := simtest.DemoConsole(t, simulator.Options{})
	return &fixture{clock: con.Clock, sim: con.Sim, url: con.URL, s1: activitytest.NewClient(t, con.URL, simtest.Token)}
}
