// Package simtest serves the simulator to tests: the demo scenario behind httptest on a
// clock the test moves, and new threats to add to it. Like the simulator, it imports
// nothing of the product.
package simtest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

// Console is the demo scenario served over HTTP.
type Console struct {
	Clock *fakeclock.Clock
	Sim   *simulator.Simulator
	URL   string
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
	return &Console{Clock: clock, Sim: sim, URL: ts.URL}
}

// NewThreat is a valid malicious threat on agent, created ago before the simulator's now.
func NewThreat(id, agentID, ago string) scenario.Threat {
	return scenario.Threat{
		ID: id, AgentID: agentID, ThreatName: "dropper-" + id + ".exe", Classification: "Trojan", ClassificationSource: "Behavioral",
		ConfidenceLevel: "malicious", SHA1: "0123456789abcdef0123456789abcdef01234567", FilePath: `C:\Users\Public\dropper.exe`,
		InitiatedBy: "agent_policy", DetectionType: "dynamic", CreatedAgo: ago,
	}
}
