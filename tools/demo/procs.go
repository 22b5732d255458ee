package main

import (
	"fmt"

	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// demoToken is the simulator's API token in the demo; it is not a secret.
const demoToken = "demo-token"

// demoEnv is the configuration of the worker and the poller in the demo: short
// intervals so a newcomer sees the whole story in a minute or two.
func demoEnv(o options) []string {
	approval := "1h"
	if o.check {
		approval = "10m"
	}
	return []string{
		fmt.Sprintf("S1C_S1_URL=http://127.0.0.1:%d", o.simPort),
		"S1C_S1_TOKEN=" + demoToken,
		fmt.Sprintf("S1C_TEMPORAL_ADDRESS=127.0.0.1:%d", o.port),
		"S1C_POLL_INTERVAL=3s",
		"S1C_POLL_LOOKBACK=1h",
		"S1C_APPROVAL_TIMEOUT=" + approval,
		"S1C_MITIGATION_TIMEOUT=30s",
		"S1C_MITIGATION_POLL=2s",
		// The simulator's script library: ransomware and intrusions get their host's
		// forensic package collected, after approval.
		"S1C_FORENSICS_SCRIPTS=windows=" + simulator.ScriptForensicsWindows + ",linux=" + simulator.ScriptForensicsLinux + ",macos=" + simulator.ScriptForensicsMacOS,
	}
}
