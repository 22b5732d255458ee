package simulator_test

import (
	"bytes"
	"encoding/json"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// testify is not usable here (go.sum lacks its transitive modules), so the
// tests use small local helpers instead.

const (
	token  = "test-token"
	apiURL = "/web/api/v2.1"
	delay  = 5 * time.Second
)

// env is a simulator behind an httptest server.
type env struct {
	t     *testing.T
	sim   *simulator.Simulator
	srv   *httptest.Server
	clock *fakeclock.Clock
}

func newEnv(t *testing.T, sc *scenario.Scenario) *env {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 11, 24, 4, 10, 26, 123456789, time.UTC))
	sim, err := simulator.New(sc, simulator.Options{
		Token: token, MitigationDelay: delay, IsolationDelay: delay, Now: clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, clock: clock}
}

// do sends a request with the right token and returns status and raw body.
func (e *env) do(method, path string, body any) (int, []byte) {
	e.t.Helper()
	return e.doAuth(method, path, body, "ApiToken "+token)
}

func (e *env) doAuth(method, path string, body any, auth string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, raw
}

// obj is a decoded JSON object with path helpers for terse assertions.
type obj = map[string]any

func (e *env) json(method, path string, body any, wantStatus int) obj {
	e.t.Helper()
	status, raw := e.do(method, path, body)
	if status != wantStatus {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, wantStatus, raw)
	}
	var out obj
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
	}
	return out
}

// threat fetches one threat through the list endpoint, as clients must.
func (e *env) threat(id string) obj {
	e.t.Helper()
	resp := e.json("GET", apiURL+"/threats?ids="+id, nil, 200)
	data := resp["data"].([]any)
	if len(data) != 1 {
		e.t.Fatalf("threat %s: got %d results", id, len(data))
	}
	return data[0].(obj)
}

func (e *env) timelineTypes(id string) []int {
	e.t.Helper()
	resp := e.json("GET", apiURL+"/threats/"+id+"/timeline?limit=1000", nil, 200)
	var codes []int
	for _, it := range resp["data"].([]any) {
		codes = append(codes, int(it.(obj)["activityType"].(float64)))
	}
	return codes
}

func (e *env) mitigate(action string, ids ...string) obj {
	e.t.Helper()
	return e.json("POST", apiURL+"/threats/mitigate/"+action, obj{"filter": obj{"ids": ids}, "data": obj{}}, 200)["data"].(obj)
}

func get(o any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := o.(obj)
		if !ok {
			return nil
		}
		o = m[k]
	}
	return o
}

func mitigationEntry(th obj, action string) obj {
	for _, m := range th["mitigationStatus"].([]any) {
		if m.(obj)["action"] == action {
			return m.(obj)
		}
	}
	return nil
}

func equal[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

// Scenario fixtures.

const (
	winAgent    = "1900000000000000001"
	linuxAgent  = "1900000000000000002"
	noVSSAgent  = "1900000000000000003"
	macAgent    = "1900000000000000004"
	tWin        = "1910000000000000001"
	tLinux      = "1910000000000000002"
	tNoVSS      = "1910000000000000003"
	tMac        = "1910000000000000004"
	tWin2       = "1910000000000000005"
	sha1Example = "a2138f21ea96d97ce00cd51971696f7464e5db89"
)

func fixtureAgent(id, name, osType, machine string, vss *bool) scenario.Agent {
	return scenario.Agent{
		ID: id, UUID: "uuid-" + id, ComputerName: name, Domain: "CORP", OSType: osType, OSName: osType + " os",
		OSRevision: "1", OSArch: "64 bit", MachineType: machine, AgentVersion: "23.4.2.14",
		AccountID: "1880000000000000001", AccountName: "Acme", SiteID: "1880000000000000101", SiteName: "HQ",
		GroupID: "1880000000000001001", GroupName: "Default Group", NetworkStatus: "connected",
		LastIPToMgmt: "10.0.0.5", ExternalIP: "203.0.113.5", VSSEnabled: vss,
	}
}

func fixtureThreat(id, agentID, ago string) scenario.Threat {
	return scenario.Threat{
		ID: id, AgentID: agentID, ThreatName: "evil-" + id[len(id)-1:] + ".exe", Classification: "Malware",
		ClassificationSource: "Engine", ConfidenceLevel: "malicious", SHA1: sha1Example,
		FilePath: `C:\Users\x\evil.exe`, InitiatedBy: "agent_policy", DetectionType: "static", CreatedAgo: ago,
		Timeline: []scenario.Activity{{ActivityType: 19, PrimaryDescription: "Threat detected", Ago: ago}},
	}
}

func fixture() *scenario.Scenario {
	no := false
	return &scenario.Scenario{
		Name: "fixture",
		Agents: []scenario.Agent{
			fixtureAgent(winAgent, "WIN-SRV", "windows", "server", nil),
			fixtureAgent(linuxAgent, "lnx-web", "linux", "server", nil),
			fixtureAgent(noVSSAgent, "WIN-NOVSS", "windows", "desktop", &no),
			fixtureAgent(macAgent, "mac-lt", "macos", "laptop", nil),
		},
		Threats: []scenario.Threat{
			fixtureThreat(tWin, winAgent, "50m"),
			fixtureThreat(tLinux, linuxAgent, "40m"),
			fixtureThreat(tNoVSS, noVSSAgent, "30m"),
			fixtureThreat(tMac, macAgent, "20m"),
			fixtureThreat(tWin2, winAgent, "10m"),
		},
	}
}
