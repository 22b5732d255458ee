package simulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func newServer(t *testing.T, sim *simulator.Simulator) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestDemoScenario(t *testing.T) {
	if !slices.Contains(scenarios.Names(), "demo") {
		t.Fatalf("embedded names %v lack demo", scenarios.Names())
	}
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	equal(t, len(sc.Agents), 6, "agents (the Kubernetes node the demo adds its workload threats to at run time)")
	equal(t, len(sc.Threats), 5, "threats")
	machines := map[string]string{}
	for _, a := range sc.Agents {
		machines[a.ComputerName] = a.OSType + "/" + a.MachineType
	}
	equal(t, machines["FIN-FS-01"], "windows/server", "FIN-FS-01")
	equal(t, machines["SALES-LT-042"], "windows/laptop", "SALES-LT-042")
	equal(t, machines["HR-DT-007"], "windows/desktop", "HR-DT-007")
	equal(t, machines["web-prod-03"], "linux/server", "web-prod-03")
	equal(t, machines["ENG-DT-019"], "windows/desktop", "ENG-DT-019")
	for i, th := range sc.Threats {
		var exp struct {
			Verdict       string `json:"verdict"`
			Outcome       string `json:"outcome"`
			NeedsApproval *bool  `json:"needsApproval"`
		}
		if err := json.Unmarshal(th.Expect, &exp); err != nil || exp.Verdict == "" || exp.Outcome == "" || exp.NeedsApproval == nil {
			t.Errorf("threats[%d].expect incomplete: %s (%v)", i, th.Expect, err)
		}
		if n := len(th.Timeline); n < 3 || n > 6 {
			t.Errorf("threats[%d]: %d timeline entries", i, n)
		}
		d, err := time.ParseDuration(th.CreatedAgo)
		if err != nil || d > 10*time.Minute {
			t.Errorf("threats[%d].createdAgo %q not within 10 minutes", i, th.CreatedAgo)
		}
	}

	// The VSS gotcha is in the demo: rollback on ENG-DT-019 never settles.
	sim, err := simulator.New(sc, simulator.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, sim: sim, srv: newServer(t, sim)}
	e.mitigate("rollback-remediation", "1910000000000000005", "1910000000000000001")
	equal(t, mitigationEntry(e.threat("1910000000000000005"), "rollback")["status"].(string), "pending", "no-VSS rollback")
	equal(t, mitigationEntry(e.threat("1910000000000000001"), "rollback")["status"].(string), "success", "VSS rollback")
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := simulator.New(fixture(), simulator.Options{}); err == nil {
		t.Fatal("missing token accepted")
	}
	if _, err := simulator.New(fixture(), simulator.Options{Token: "x", MitigationDelay: -time.Second}); err == nil {
		t.Fatal("negative delay accepted")
	}
	bad := fixture()
	bad.Threats[0].AgentID = "1900000000000000077"
	if _, err := simulator.New(bad, simulator.Options{Token: "x"}); err == nil {
		t.Fatal("invalid scenario accepted")
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, fixture())
	// Goroutines must not call t.Fatal, so they use the client directly.
	call := func(method, path, body string) error {
		req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "ApiToken "+token)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
		}
		return nil
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				var err error
				switch (i + j) % 4 {
				case 0:
					err = call("POST", apiURL+"/threats/mitigate/kill", `{"filter":{"ids":["`+tWin+`"]}}`)
				case 1:
					err = call("GET", apiURL+"/threats?limit=2", "")
				case 2:
					e.clock.Advance(time.Second)
				case 3:
					_ = e.sim.Counters()
				}
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	equal(t, e.sim.Counters().Mitigations[tWin]["kill"], 20, "kills")
}
