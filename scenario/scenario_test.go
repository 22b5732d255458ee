package scenario_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s1copilot/s1copilot/scenario"
)

// fixture is a valid scenario: four agents (Windows server, Linux server, Windows
// desktop without VSS, macOS laptop) and five threats, each with a timeline entry.
func fixture(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.LoadFile(filepath.Join("testdata", "fixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestParseReportsEveryProblemWithLocation(t *testing.T) {
	sc := fixture(t)
	sc.Agents[1].OSType = "solaris"
	sc.Agents[2].ID = sc.Agents[0].ID
	sc.Agents[3].MachineType = "kubernetes node" // valid, with a space
	sc.Threats[1].AgentID = "1900000000000000099"
	sc.Threats[2].ConfidenceLevel = "high"
	sc.Threats[3].ID = "abc"
	sc.Threats[4].SHA1 = "xyz"
	sc.Threats[4].CreatedAt = "2026-01-01T00:00:00Z" // both createdAgo and createdAt
	sc.Threats[0].Timeline[0].Ago = "yesterday"
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = scenario.Parse(raw)
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{
		`agents[1].osType: "solaris" is not one of`,
		`agents[2].id: duplicate agent id`,
		`threats[1].agentId: no agent with id "1900000000000000099"`,
		`threats[2].confidenceLevel: "high" is not one of`,
		`threats[3].id: "abc" is not a decimal id string`,
		`threats[4].sha1: must be 40 hex characters`,
		`threats[4]: createdAgo and createdAt are mutually exclusive`,
		`threats[0].timeline[0].ago: not a duration`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "agents[3]") {
		t.Errorf("kubernetes node rejected: %v", err)
	}
}

func TestParseStrictness(t *testing.T) {
	_, err := scenario.Parse([]byte(`{"name":"x","agents":[],"threats":[],"colour":"red"}`))
	if err == nil || !strings.Contains(err.Error(), `unknown field "colour"`) {
		t.Fatalf("unknown field: %v", err)
	}
	_, err = scenario.Parse([]byte(`{"agents":[{"id":"1"}]}`))
	for _, want := range []string{"agents[0].uuid: required", "agents[0].osType: required", "agents[0].siteId: required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	// expect is carried opaquely.
	sc := fixture(t)
	sc.Threats[0].Expect = json.RawMessage(`{"verdict":"true_positive","anything":[1,2]}`)
	raw, _ := json.Marshal(sc)
	parsed, err := scenario.Parse(raw)
	if err != nil {
		t.Fatalf("expect rejected: %v", err)
	}
	if got := string(parsed.Threats[0].Expect); got != `{"verdict":"true_positive","anything":[1,2]}` {
		t.Fatalf("expect kept: got %s", got)
	}
	if _, err := scenario.Parse([]byte("  ")); err == nil {
		t.Fatal("empty scenario accepted")
	}
}

func TestLoadFile(t *testing.T) {
	raw, _ := json.Marshal(fixture(t))
	path := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Threats) != 5 {
		t.Fatalf("threats: got %d, want 5", len(sc.Threats))
	}
	if _, err := scenario.LoadFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestGeneratorValidation(t *testing.T) {
	_, err := scenario.Parse([]byte(`{"name":"g","agents":[],"threats":[],"generate":[
		{"count":0,"idBase":"abc","template":{"id":"1"},"agentIds":["1"],"agents":{"prefix":"x","count":1,"idBase":"1"}}]}`))
	for _, want := range []string{"generate[0].count: must be between", `generate[0].idBase: "abc" is not a decimal id`,
		"generate[0].template: id, agentId and createdAt are generated", "generate[0]: exactly one of agents and agentIds"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	// Generated threats are validated like hand-written ones.
	_, err = scenario.Parse([]byte(`{"name":"g","agents":[],"threats":[],"generate":[
		{"count":1,"idBase":"5","agentIds":["7"],"template":{"threatName":"x"}}]}`))
	if err == nil || !strings.Contains(err.Error(), `threats[0].agentId: no agent with id "7"`) || !strings.Contains(err.Error(), "threats[0].sha1: required") {
		t.Fatalf("expanded threat validation: %v", err)
	}
}

// A threat added on its own is checked like a scenario's, at "threat".
func TestThreatValidate(t *testing.T) {
	th := fixture(t).Threats[0]
	known := func(id string) bool { return id == th.AgentID }
	if err := th.Validate(known); err != nil {
		t.Fatalf("valid threat rejected: %v", err)
	}
	th.ConfidenceLevel = "high"
	err := th.Validate(func(string) bool { return false })
	var problems scenario.ValidationErrors
	if !errors.As(err, &problems) || len(problems) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	for _, want := range []string{`threat.agentId: no agent with id`, `threat.confidenceLevel: "high" is not one of malicious, n/a, suspicious`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestEventObjectType(t *testing.T) {
	for typ, want := range map[string]string{"Process Creation": "process", "DNS Resolved": "dns", "Teleport": ""} {
		if got := (&scenario.Event{EventType: typ}).ObjectType(); got != want {
			t.Errorf("%s: got %q, want %q", typ, got, want)
		}
	}
}

func TestAgentEvents(t *testing.T) {
	sc := fixture(t)
	agent := sc.Agents[0].ID
	sc.Events = []scenario.AgentEvent{
		{AgentID: agent, Event: scenario.Event{EventType: "DNS Resolved", Before: "2h", DNSRequest: "example.com"}},
		{AgentID: agent, At: "2026-01-01T00:00:00Z", Event: scenario.Event{EventType: "Open Remote Process Handle", TgtProcName: "lsass.exe"}},
		{AgentID: agent, Event: scenario.Event{EventType: "Login", LoginsUserName: "root"}},
	}
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scenario.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 3 || got.Events[1].TgtProcName != "lsass.exe" || got.Events[0].Before != "2h" {
		t.Fatalf("events not decoded: %+v", got.Events)
	}
	// The event fields are inline: {"agentId":…,"eventType":…,"before":…}.
	if !strings.Contains(string(raw), `{"agentId":"`+agent+`","eventType":"DNS Resolved","before":"2h"`) {
		t.Errorf("events are not flat objects: %s", raw)
	}

	sc.Events = []scenario.AgentEvent{
		{AgentID: "1900000000000000099", Event: scenario.Event{EventType: "Login"}},
		{AgentID: agent, At: "2026-01-01T00:00:00Z", Event: scenario.Event{EventType: "Login", Before: "1h"}},
		{AgentID: agent, At: "tomorrow", Event: scenario.Event{EventType: "Process Launch"}},
		{Event: scenario.Event{EventType: "IP Connect", DstPort: 70000}},
	}
	raw, err = json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = scenario.Parse(raw)
	if err == nil {
		t.Fatal("expected an error")
	}
	for _, want := range []string{
		`events[0].agentId: no agent with id "1900000000000000099"`,
		`events[1]: at and before are mutually exclusive`,
		`events[2].at: not an RFC 3339 timestamp`,
		`events[2].eventType: "Process Launch" is not a Deep Visibility event type`,
		`events[3].agentId: required`,
		`events[3].dstPort: must be 0–65535`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
