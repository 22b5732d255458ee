package simulator_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// newEnvWith is newEnv with extra options.
func newEnvWith(t *testing.T, sc *scenario.Scenario, tweak func(*simulator.Options)) *env {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 11, 24, 4, 10, 26, 123456789, time.UTC))
	opts := simulator.Options{Token: token, MitigationDelay: delay, IsolationDelay: delay, Now: clock.Now}
	if tweak != nil {
		tweak(&opts)
	}
	sim, err := simulator.New(sc, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{t: t, sim: sim, srv: newServer(t, sim), clock: clock}
}

func tsOf(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func TestPendingRebootActions(t *testing.T) {
	sc := fixture()
	sc.Threats[0].PendingRebootActions = []string{"remediate"}
	e := newEnv(t, sc)
	e.mitigate("remediate", tWin)
	e.mitigate("kill", tWin)
	e.clock.Advance(delay)
	th := e.threat(tWin)
	equal(t, mitigationEntry(th, "remediate")["status"].(string), "pending-reboot", "remediate status")
	equal(t, get(mitigationEntry(th, "remediate"), "actionsCounters.pendingReboot").(float64), 1, "pendingReboot counter")
	equal(t, mitigationEntry(th, "kill")["status"].(string), "success", "kill unaffected")
	equal(t, get(th, "threatInfo.rebootRequired").(bool), true, "rebootRequired")
	equal(t, get(th, "threatInfo.pendingActions").(bool), false, "nothing pending")
	equal(t, get(th, "agentRealtimeInfo.rebootRequired").(bool), true, "agent rebootRequired")
	agent := e.json("GET", apiURL+"/agents?ids="+winAgent, nil, 200)["data"].([]any)[0].(obj)
	equal(t, agent["threatRebootRequired"].(bool), true, "agent threatRebootRequired")
	codes := e.timelineTypes(tWin)
	if !containsInt(codes, 2012) || !containsInt(codes, 2032) || containsInt(codes, 2002) {
		t.Fatalf("timeline %v: want 2012 and 2032, no 2002", codes)
	}

	bad := fixture()
	bad.Threats[0].FailActions = []string{"kill"}
	bad.Threats[0].PendingRebootActions = []string{"kill", "explode"}
	raw, _ := json.Marshal(bad)
	_, err := scenario.Parse(raw)
	for _, want := range []string{`pendingRebootActions[0]: "kill" is also in failActions`, `pendingRebootActions[1]: "explode" is not one of`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// A scenario threat can arrive already mitigated by the agent's policy: its
// entries render settled, the threat is mitigated, and re-issuing an action
// replaces its entry.
func TestSeededMitigations(t *testing.T) {
	sc := fixture()
	sc.Threats[0].Mitigations = []scenario.Mitigation{{Action: "kill", Status: "success"}, {Action: "quarantine", Status: "success", After: "2s"}}
	sc.Threats[1].Mitigations = []scenario.Mitigation{{Action: "quarantine", Status: "failed"}}
	sc.Threats[2].Mitigations = []scenario.Mitigation{{Action: "kill", Status: "success"}}
	sc.Threats[2].MitigationStatus = "marked_as_benign"
	e := newEnv(t, sc)
	th := e.threat(tWin)
	equal(t, get(th, "threatInfo.mitigationStatus").(string), "mitigated", "kill+quarantine success")
	equal(t, mitigationEntry(th, "kill")["status"].(string), "success", "kill entry")
	q := mitigationEntry(th, "quarantine")
	equal(t, q["status"].(string), "success", "quarantine entry")
	equal(t, get(q, "actionsCounters.success").(float64), 1, "success counter")
	equal(t, q["mitigationEndedAt"].(string), tsOf(e.clock.Now().Add(-50*time.Minute+2*time.Second)), "settled after createdAt")
	equal(t, get(th, "threatInfo.pendingActions").(bool), false, "nothing pending")
	equal(t, get(th, "agentRealtimeInfo.activeThreats").(float64), 1, "only the other Windows threat is active")

	lnx := e.threat(tLinux)
	equal(t, get(lnx, "threatInfo.mitigationStatus").(string), "not_mitigated", "a failed quarantine mitigates nothing")
	equal(t, get(lnx, "threatInfo.failedActions").(bool), true, "failedActions")
	equal(t, get(e.threat(tNoVSS), "threatInfo.mitigationStatus").(string), "marked_as_benign", "the scenario's own status wins")

	e.mitigate("quarantine", tLinux)
	e.clock.Advance(delay)
	lnx = e.threat(tLinux)
	equal(t, len(lnx["mitigationStatus"].([]any)), 1, "one entry per action")
	equal(t, mitigationEntry(lnx, "quarantine")["status"].(string), "success", "re-issued quarantine")
	equal(t, get(lnx, "threatInfo.mitigationStatus").(string), "mitigated", "now mitigated")

	bad := fixture()
	bad.Threats[0].Mitigations = []scenario.Mitigation{{Action: "rollback-remediation", Status: "success"}, {Status: "sent", After: "soon"}, {Action: "kill", Status: "success"}, {Action: "kill", Status: "failed"}}
	raw, _ := json.Marshal(bad)
	_, err := scenario.Parse(raw)
	for _, want := range []string{`mitigations[0].action: "rollback-remediation" is not one of`, `mitigations[1].action: required`,
		`mitigations[1].status: "sent" is not one of failed, pending-reboot, success`, `mitigations[1].after: not a duration`,
		`mitigations[3].action: "kill" has more than one entry`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestOfflineAgentDefersMitigationAndIsolation(t *testing.T) {
	sc := fixture()
	off := false
	sc.Agents[0].Online = &off
	e := newEnv(t, sc)
	agent := func() obj { return e.json("GET", apiURL+"/agents?ids="+winAgent, nil, 200)["data"].([]any)[0].(obj) }
	equal(t, agent()["isActive"].(bool), false, "offline agent is not active")

	e.mitigate("kill", tWin)
	e.json("POST", apiURL+"/agents/actions/disconnect", obj{"filter": obj{"ids": []string{winAgent}}}, 200)
	e.clock.Advance(24 * time.Hour)
	equal(t, mitigationEntry(e.threat(tWin), "kill")["status"].(string), "pending", "kill waits for the agent")
	equal(t, agent()["networkStatus"].(string), "disconnecting", "isolation waits for the agent")
	if containsInt(e.timelineTypes(tWin), 2001) {
		t.Fatal("kill succeeded on an offline agent")
	}

	back := e.clock.Now()
	status, raw := e.do("POST", "/sim/agents/"+winAgent+"/online", obj{"online": true})
	equal(t, status, 200, "admin online: "+string(raw))
	equal(t, agent()["isActive"].(bool), true, "back online")
	e.clock.Advance(delay / 2)
	equal(t, mitigationEntry(e.threat(tWin), "kill")["status"].(string), "sent", "sent after the agent returned")
	e.clock.Advance(delay / 2)
	kill := mitigationEntry(e.threat(tWin), "kill")
	equal(t, kill["status"].(string), "success", "settled")
	equal(t, kill["mitigationEndedAt"].(string), tsOf(back.Add(delay)), "settled relative to the return")
	equal(t, agent()["networkStatus"].(string), "disconnected", "isolated after the return")

	// Going offline mid-flight freezes a sent command until the next return.
	e.mitigate("quarantine", tWin)
	e.clock.Advance(delay / 2)
	if err := e.sim.SetAgentOnline(winAgent, false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	equal(t, mitigationEntry(e.threat(tWin), "quarantine")["status"].(string), "sent", "frozen while offline")
	if err := e.sim.SetAgentOnline(winAgent, true); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(delay)
	equal(t, mitigationEntry(e.threat(tWin), "quarantine")["status"].(string), "success", "completes after return")

	if err := e.sim.SetAgentOnline("1900000000000000999", true); !errors.Is(err, simulator.ErrNotFound) {
		t.Fatalf("unknown agent: %v", err)
	}
	status, _ = e.do("POST", "/sim/agents/"+winAgent+"/online", obj{})
	equal(t, status, 400, "missing online")
	status, _ = e.do("POST", "/sim/agents/1900000000000000999/online", obj{"online": true})
	equal(t, status, 404, "unknown agent")
}

func TestActivitiesListIsTheTimelineSource(t *testing.T) {
	e := newEnv(t, fixture())
	e.mitigate("kill", tWin)
	e.clock.Advance(delay + time.Minute)
	e.json("POST", apiURL+"/threats/notes", obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"text": "n"}}, 200)

	timeline := e.json("GET", apiURL+"/threats/"+tWin+"/timeline?limit=1000", nil, 200)["data"].([]any)
	var want []string
	for _, it := range timeline {
		want = append(want, it.(obj)["id"].(string))
	}
	got, _ := pageThrough(t, e, apiURL+"/activities?limit=2&threatIds="+tWin, nil)
	equal(t, strings.Join(got, ","), strings.Join(want, ","), "activities == timeline")

	resp := e.json("GET", apiURL+"/activities"+q("activityTypes", "2011,2001", "agentIds", winAgent), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 2, "type filter")
	first := resp["data"].([]any)[0].(obj)
	for _, f := range []string{"id", "activityType", "activityUuid", "primaryDescription", "secondaryDescription", "description",
		"threatId", "agentId", "accountId", "accountName", "siteId", "siteName", "groupId", "groupName", "createdAt", "updatedAt", "userId"} {
		if _, ok := first[f]; !ok {
			t.Errorf("activity lacks %s", f)
		}
	}
	equal(t, get(first, "data.computerName").(string), "WIN-SRV", "data.computerName")
	equal(t, get(first, "data.threatClassification").(string), "Malware", "data.threatClassification")
	equal(t, first["userId"].(string), "1000000000000000001", "command attributed to the API user")

	resp = e.json("GET", apiURL+"/activities"+q("sortBy", "activityType", "sortOrder", "desc", "limit", "1"), nil, 200)
	equal(t, resp["data"].([]any)[0].(obj)["activityType"].(float64), 4020, "highest code first")
	resp = e.json("GET", apiURL+"/activities"+q("createdAt__gt", tsOf(e.clock.Now().Add(-time.Second))), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 1, "only the note is that recent")
	e.json("GET", apiURL+"/activities?activityTypes=kill", nil, 400)
	e.json("GET", apiURL+"/activities?threatId="+tWin, nil, 400)
}

func TestExploreEvents(t *testing.T) {
	sc := fixture()
	sc.Threats[0].OriginatorProcess = "WINWORD.EXE"
	sc.Threats[0].MaliciousProcessArguments = "evil.exe -x"
	sc.Threats[1].Events = []scenario.Event{
		{EventType: "Process Creation", Before: "1m", ProcessName: "bash", PID: 100},
		{EventType: "IP Connect", Before: "30s", ProcessName: "curl", DstIP: "45.9.148.21", DstPort: 443},
		{EventType: "DNS Resolved", ProcessName: "curl", DNSRequest: "pool.example"},
	}
	e := newEnv(t, sc)

	evs := e.json("GET", apiURL+"/threats/"+tWin+"/explore/events?limit=100", nil, 200)["data"].([]any)
	equal(t, len(evs), 3, "derived chain: originator, file write, threat process")
	proc := evs[2].(obj)
	equal(t, proc["eventType"].(string), "Process Creation", "event type")
	equal(t, proc["objectType"].(string), "process", "objectType")
	equal(t, proc["processName"].(string), "evil.exe", "process name")
	equal(t, proc["parentProcessName"].(string), "WINWORD.EXE", "parent")
	equal(t, proc["processCmd"].(string), "evil.exe -x", "cmd")
	equal(t, proc["parentPid"].(string), evs[0].(obj)["pid"].(string), "parent pid is the originator's")
	equal(t, proc["relatedToThreat"].(string), "True", "relatedToThreat string")
	equal(t, proc["agentName"].(string), "WIN-SRV", "agentName")
	for _, f := range []string{"id", "createdAt", "agentId", "agentOs", "agentMachineType", "pid", "processImagePath", "processUserName", "srcIp", "dstIp", "dstPort", "fileFullName", "storyline"} {
		if _, ok := proc[f]; !ok {
			t.Errorf("event lacks %s", f)
		}
	}

	resp := e.json("GET", apiURL+"/threats/"+tLinux+"/explore/events"+q("eventTypes", "IP Connect,dns"), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 2, "eventTypes by type or objectType")
	ip := resp["data"].([]any)[0].(obj)
	equal(t, ip["dstIp"].(string), "45.9.148.21", "dstIp")
	equal(t, ip["dstPort"].(string), "443", "dstPort")
	ids, _ := pageThrough(t, e, apiURL+"/threats/"+tLinux+"/explore/events?limit=1", nil)
	equal(t, len(ids), 3, "paged events")

	bad := fixture()
	bad.Threats[0].Events = []scenario.Event{{EventType: "Teleport"}}
	raw, _ := json.Marshal(bad)
	if _, err := scenario.Parse(raw); err == nil || !strings.Contains(err.Error(), `threats[0].events[0].eventType: "Teleport"`) {
		t.Fatalf("bad event type: %v", err)
	}
}

func TestAddToBlacklist(t *testing.T) {
	e := newEnv(t, fixture())
	res := e.json("POST", apiURL+"/threats/add-to-blacklist", obj{"filter": obj{"ids": []string{tWin, tLinux}}, "data": obj{"targetScope": "site", "note": "outbreak"}}, 200)
	equal(t, get(res, "data.affected").(float64), 2, "affected")
	c := e.sim.Counters()
	equal(t, c.Blocklisted[sha1Example], 1, "one hash, one add")
	equal(t, strings.Join(e.sim.Blocklist(), ","), sha1Example, "blocklist")
	e.json("POST", apiURL+"/threats/add-to-blacklist", obj{"filter": obj{"ids": []string{tWin}}, "data": obj{}}, 200)
	equal(t, e.sim.Counters().Blocklisted[sha1Example], 2, "second add")
	e.json("POST", apiURL+"/threats/add-to-blacklist", obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"targetScope": "planet"}}, 400)
	e.json("POST", apiURL+"/threats/add-to-blacklist", obj{"filter": obj{}}, 400)
	equal(t, e.sim.Counters().Blocklisted[sha1Example], 2, "rejected requests add nothing")
}

func TestDeepVisibility(t *testing.T) {
	e := newEnvWith(t, fixture(), func(o *simulator.Options) { o.DVQueryDelay = 10 * time.Second })
	now := e.clock.Now()
	body := obj{"query": `EventType = "Process Creation"`, "fromDate": tsOf(now.Add(-2 * time.Hour)), "toDate": tsOf(now)}

	for name, b := range map[string]obj{
		"no query":  {"fromDate": body["fromDate"], "toDate": body["toDate"]},
		"bad date":  {"query": "x", "fromDate": "yesterday", "toDate": body["toDate"]},
		"reversed":  {"query": "x", "fromDate": body["toDate"], "toDate": body["fromDate"]},
		"bad field": {"query": "x", "fromDate": body["fromDate"], "toDate": body["toDate"], "color": 1},
	} {
		e.clock.Advance(time.Minute) // the limiter counts rejected calls too
		status, raw := e.do("POST", apiURL+"/dv/init-query", b)
		if status != 400 || !strings.Contains(string(raw), "4000010") {
			t.Errorf("%s: %d %s", name, status, raw)
		}
	}
	e.clock.Advance(time.Minute)
	now = e.clock.Now()
	body = obj{"query": `AgentName Is Not Empty`, "fromDate": tsOf(now.Add(-2 * time.Hour)), "toDate": tsOf(now)}
	created := e.json("POST", apiURL+"/dv/init-query", body, 200)
	id := get(created, "data.queryId").(string)
	if !strings.HasPrefix(id, "q") || len(id) != 33 {
		t.Fatalf("queryId %q", id)
	}
	// 1 call per minute per token.
	status, raw := e.do("POST", apiURL+"/dv/init-query", body)
	equal(t, status, 429, "second init within a minute: "+string(raw))
	equal(t, e.sim.Counters().RateLimitViolations["dv/init-query"], 1, "violation counted")

	statusOf := func(qid string) (string, float64) {
		e.clock.Advance(time.Second) // query-status allows 1 rps; stay within it
		d := e.json("GET", apiURL+"/dv/query-status?queryId="+qid, nil, 200)["data"].(obj)
		return d["responseState"].(string), d["progressStatus"].(float64)
	}
	st, p := statusOf(id)
	equal(t, st, "RUNNING", "state at 1s")
	equal(t, p, 10, "progress at 1s")
	e.json("GET", apiURL+"/dv/events?queryId="+id, nil, 400) // not finished yet
	e.clock.Advance(8 * time.Second)
	st, p = statusOf(id)
	equal(t, st, "FINISHED", "state at 10s")
	equal(t, p, 100, "progress at 10s")
	st, _ = statusOf("q00000000000000000000000000000000")
	equal(t, st, "QUERY_NOT_FOUND", "unknown query")

	// All five fixture threats have three derived events within two hours.
	ids, _ := pageThrough(t, e, apiURL+"/dv/events?limit=4&queryId="+id, nil)
	equal(t, len(ids), 15, "events across threats")
	ev := e.json("GET", apiURL+"/dv/events?limit=1&queryId="+id, nil, 200)["data"].([]any)[0].(obj)
	for _, f := range []string{"agentName", "processName", "eventType", "srcProcName", "endpointName", "relatedToThreat"} {
		if _, ok := ev[f]; !ok {
			t.Errorf("dv event lacks %s", f)
		}
	}
	equal(t, get(e.json("POST", apiURL+"/dv/cancel-query", obj{"queryId": id}, 200), "data.success").(string), "FINISHED", "cancel finished query")

	e.clock.Advance(time.Minute)
	id2 := get(e.json("POST", apiURL+"/dv/init-query", body, 200), "data.queryId").(string)
	equal(t, get(e.json("POST", apiURL+"/dv/cancel-query", obj{"queryId": id2}, 200), "data.success").(string), "QUERY_CANCELLED", "cancel running")
	e.clock.Advance(time.Minute)
	st, _ = statusOf(id2)
	equal(t, st, "QUERY_CANCELLED", "cancelled stays cancelled")
	e.json("GET", apiURL+"/dv/events?queryId="+id2, nil, 400)
}

// dvRun runs a DV query to the end (init, poll, page) and returns the events.
func dvRun(t *testing.T, e *env, query string, from, to time.Time, extra string) []obj {
	t.Helper()
	e.clock.Advance(time.Minute) // init-query: 1 per minute
	id := get(e.json("POST", apiURL+"/dv/init-query", obj{"query": query, "fromDate": tsOf(from), "toDate": tsOf(to)}, 200), "data.queryId").(string)
	e.clock.Advance(time.Second)
	equal(t, get(e.json("GET", apiURL+"/dv/query-status?queryId="+id, nil, 200), "data.responseState").(string), "FINISHED", "state")
	var out []obj
	path := apiURL + "/dv/events?limit=3&queryId=" + id + extra
	for page := 0; ; page++ {
		resp := e.json("GET", path, nil, 200)
		for _, it := range resp["data"].([]any) {
			out = append(out, it.(obj))
		}
		next, _ := get(resp, "pagination.nextCursor").(string)
		if next == "" || page > 50 {
			return out
		}
		path = apiURL + "/dv/events?limit=3&queryId=" + id + extra + "&cursor=" + next
	}
}

func huntingFixture() *scenario.Scenario {
	sc := fixture()
	sc.Events = []scenario.AgentEvent{
		{AgentID: winAgent, Event: scenario.Event{EventType: "Process Creation", Before: "3h", ProcessName: "powershell.exe",
			ProcessCmd: "powershell.exe -NoP -enc SQBFAFgA", ParentProcessName: "WINWORD.EXE", PID: 4242}},
		{AgentID: winAgent, Event: scenario.Event{EventType: "Open Remote Process Handle", Before: "2h", ProcessName: "procdump64.exe",
			TgtProcName: "lsass.exe"}},
		{AgentID: linuxAgent, Event: scenario.Event{EventType: "IP Connect", Before: "90m", ProcessName: "bash", DstIP: "198.51.100.7", DstPort: 4444}},
		{AgentID: linuxAgent, Event: scenario.Event{EventType: "IP Connect", Before: "80m", ProcessName: "curl", DstIP: "93.184.216.34", DstPort: 443}},
		{AgentID: macAgent, Event: scenario.Event{EventType: "DNS Resolved", Before: "30h", ProcessName: "Safari", DNSRequest: "update.example.xyz"}},
		{AgentID: macAgent, At: "2026-11-20T00:00:00Z", Event: scenario.Event{EventType: "Login", LoginsUserName: "admin"}},
	}
	return sc
}

func TestDeepVisibilityEvaluatesS1QL(t *testing.T) {
	e := newEnv(t, huntingFixture())
	now := e.clock.Now()
	from := now.Add(-48 * time.Hour)
	names := func(evs []obj) string {
		var out []string
		for _, ev := range evs {
			out = append(out, fmt.Sprintf("%s/%v", ev["eventType"], ev["srcProcName"]))
		}
		return strings.Join(out, ",")
	}
	cases := []struct{ query, want string }{
		{`SrcProcName = "powershell.exe" AND SrcProcCmdLine ContainsCIS "-ENC"`, "Process Creation/powershell.exe"},
		{`SrcProcParentName In Contains Anycase ("winword") AND EventType = "Process Creation"`, "Process Creation/powershell.exe"},
		{`TgtProcName = "powershell.exe"`, "Process Creation/powershell.exe"}, // a process start is its target too
		{`EventType = "Open Remote Process Handle" AND TgtProcName In Anycase ("LSASS.EXE")`, "Open Remote Process Handle/procdump64.exe"},
		{`EventType = "IP Connect" AND DstPort > 1024`, "IP Connect/bash"},
		{`EventType = "IP Connect" AND EndpointOs = "linux" AND NOT DstPort In ("443")`, "IP Connect/bash"},
		{`DnsRequest EndsWith ".xyz"`, "DNS Resolved/Safari"},
		{`AgentName = "lnx-web" AND DstIp Is Not Empty`, "IP Connect/bash,IP Connect/curl"},
		{`SrcProcName = "nothing.exe"`, ""},
	}
	for _, c := range cases {
		got := dvRun(t, e, c.query, from, now, "")
		// Compared as sets: the page order is createdAt.
		gotSet := strings.Split(names(got), ",")
		wantSet := strings.Split(c.want, ",")
		slices.Sort(gotSet)
		slices.Sort(wantSet)
		equal(t, strings.Join(gotSet, ","), strings.Join(wantSet, ","), c.query)
	}
	// The time range bounds the events: the login at an absolute date is outside 48 h, inside 10 days.
	equal(t, len(dvRun(t, e, `EventType = "Login"`, from, now, "")), 0, "login outside the range")
	logins := dvRun(t, e, `EventType = "Login"`, now.Add(-10*24*time.Hour), now, "")
	equal(t, len(logins), 1, "login inside the range")
	equal(t, logins[0]["loginsUserName"].(string), "admin", "login rendered")
	equal(t, logins[0]["agentName"].(string), "mac-lt", "agent rendered")
	equal(t, logins[0]["relatedToThreat"].(string), "False", "an agent's own event is related to no threat")
	// Threat events and agent events together; subQuery narrows further.
	all := dvRun(t, e, `AgentName = "WIN-SRV"`, from, now, "")
	equal(t, len(all), 8, "two threats' three derived events and two agent events")
	sub := dvRun(t, e, `AgentName = "WIN-SRV"`, from, now, "&"+strings.TrimPrefix(q("subQuery", `TgtProcName = "lsass.exe"`), "?"))
	equal(t, len(sub), 1, "subQuery")
	equal(t, sub[0]["tgtProcName"].(string), "lsass.exe", "target rendered")

	// Agent events are not a threat's explore events.
	for _, tid := range []string{tWin, tWin2} {
		resp := e.json("GET", apiURL+"/threats/"+tid+"/explore/events?limit=100", nil, 200)
		for _, it := range resp["data"].([]any) {
			if n := it.(obj)["srcProcName"]; n == "powershell.exe" || n == "procdump64.exe" {
				t.Errorf("threat %s explore shows agent event %v", tid, n)
			}
		}
	}
}

func TestDeepVisibilityRefusesQueriesOutsideTheSubset(t *testing.T) {
	e := newEnv(t, huntingFixture())
	now := e.clock.Now()
	for q, want := range map[string]string{
		`SrcProcNam = "x"`:                 "did you mean SrcProcName?",
		`SrcProcName Like "x"`:             "unknown operator",
		`SrcProcName = "x`:                 "unterminated string",
		`EventType = "Process Launch"`:     "not a valid EventType value",
		`SrcProcName = "a" | columns name`: "unexpected character",
	} {
		e.clock.Advance(time.Minute)
		status, raw := e.do("POST", apiURL+"/dv/init-query", obj{"query": q, "fromDate": tsOf(now.Add(-time.Hour)), "toDate": tsOf(now)})
		if status != 400 || !strings.Contains(string(raw), "4000010") || !strings.Contains(string(raw), "Validation Error") || !strings.Contains(string(raw), want) {
			t.Errorf("%s: %d %s", q, status, raw)
		}
	}
	e.clock.Advance(time.Minute)
	id := get(e.json("POST", apiURL+"/dv/init-query", obj{"query": `AgentName Is Not Empty`, "fromDate": tsOf(now.Add(-time.Hour)), "toDate": tsOf(now)}, 200), "data.queryId").(string)
	status, raw := e.do("GET", apiURL+"/dv/events"+q("queryId", id, "subQuery", `Nope = "x"`), nil)
	if status != 400 || !strings.Contains(string(raw), "subQuery: ") {
		t.Errorf("bad subQuery: %d %s", status, raw)
	}
}

// The eval relaxes init-query's limit through RateLimits; the default stays 1/min.
func TestDVInitQueryLimitCanBeRelaxed(t *testing.T) {
	e := newEnvWith(t, huntingFixture(), func(o *simulator.Options) {
		o.RateLimits = map[string]simulator.Limit{simulator.ClassDVInitQuery: {RPS: 100, Burst: 100}}
	})
	now := e.clock.Now()
	for i := range 20 {
		status, raw := e.do("POST", apiURL+"/dv/init-query", obj{"query": `AgentName Is Not Empty`, "fromDate": tsOf(now.Add(-time.Hour)), "toDate": tsOf(now)})
		equal(t, status, 200, fmt.Sprintf("query %d: %s", i, raw))
	}
}

func TestVisibleAfter(t *testing.T) {
	sc := fixture()
	sc.Threats[4].VisibleAfter = "15m" // created 10m ago: visible in 5m
	e := newEnvWith(t, sc, func(o *simulator.Options) { o.DefaultVisibleAfter = 2 * time.Minute })
	total := func() float64 {
		return get(e.json("GET", apiURL+"/threats", nil, 200), "pagination.totalItems").(float64)
	}
	equal(t, total(), 4, "late threat hidden from the list")
	equal(t, get(e.json("GET", apiURL+"/threats?ids="+tWin2, nil, 200), "pagination.totalItems").(float64), 0, "hidden from ids=")
	e.json("GET", apiURL+"/threats/"+tWin2+"/timeline", nil, 200) // it exists

	if err := e.sim.AddThreat(fixtureThreat("1930000000000000001", linuxAgent, "0s")); err != nil {
		t.Fatal(err)
	}
	now := fixtureThreat("1930000000000000002", linuxAgent, "0s")
	now.VisibleAfter = "0s"
	if err := e.sim.AddThreat(now); err != nil {
		t.Fatal(err)
	}
	equal(t, total(), 5, "explicit 0s is immediate; default 2m applies to the other")
	e.clock.Advance(2 * time.Minute)
	equal(t, total(), 6, "runtime threat visible after the default")
	e.clock.Advance(3*time.Minute - time.Microsecond)
	equal(t, total(), 6, "just before createdAt+visibleAfter")
	e.clock.Advance(time.Microsecond)
	equal(t, total(), 7, "at createdAt+visibleAfter")
	th := e.threat(tWin2)
	equal(t, get(th, "threatInfo.createdAt").(string), tsOf(e.clock.Now().Add(-15*time.Minute)), "createdAt unchanged")
}

func TestUpdateThreatAsAnalyst(t *testing.T) {
	e := newEnv(t, fixture())
	e.clock.Advance(time.Minute)
	res := e.json("POST", "/sim/threats/"+tWin+"/update", obj{"analystVerdict": "false_positive", "incidentStatus": "resolved", "mitigationStatus": "marked_as_benign"}, 200)
	equal(t, get(res, "data.threatInfo.updatedAt").(string), tsOf(e.clock.Now()), "updatedAt bumped")
	th := e.threat(tWin)
	equal(t, get(th, "threatInfo.analystVerdict").(string), "false_positive", "verdict")
	equal(t, get(th, "threatInfo.incidentStatus").(string), "resolved", "incident")
	equal(t, get(th, "threatInfo.mitigationStatus").(string), "marked_as_benign", "mitigation status")
	acts := e.json("GET", apiURL+"/activities"+q("threatIds", tWin, "activityTypes", "2028,2030"), nil, 200)["data"].([]any)
	equal(t, len(acts), 2, "2028 and 2030 recorded")
	for _, a := range acts {
		if a.(obj)["userId"] == "1000000000000000001" || a.(obj)["userId"] == nil {
			t.Fatalf("analyst change attributed to the API user: %v", a)
		}
	}
	status, _ := e.do("POST", "/sim/threats/"+tWin+"/update", obj{"analystVerdict": "maybe"})
	equal(t, status, 400, "bad verdict")
	status, _ = e.do("POST", "/sim/threats/"+tWin+"/update", obj{})
	equal(t, status, 400, "empty update")
	status, _ = e.do("POST", "/sim/threats/1999999999999999999/update", obj{"incidentStatus": "resolved"})
	equal(t, status, 404, "unknown threat")
	if err := e.sim.UpdateThreat(tLinux, simulator.ThreatUpdate{IncidentStatus: "in_progress"}); err != nil {
		t.Fatal(err)
	}
	equal(t, get(e.threat(tLinux), "threatInfo.incidentStatus").(string), "in_progress", "Go method")
}

func TestEmbeddedScenarios(t *testing.T) {
	load := func(name string) *scenario.Scenario {
		sc, err := scenario.LoadFS(scenarios.FS, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return sc
	}

	t.Run("quiet-day", func(t *testing.T) {
		sc := load("quiet-day")
		if len(sc.Agents) < 3 || len(sc.Agents) > 6 || len(sc.Threats) < 8 || len(sc.Threats) > 12 {
			t.Fatalf("%d agents, %d threats", len(sc.Agents), len(sc.Threats))
		}
		malicious, oldest := 0, time.Duration(0)
		for _, th := range sc.Threats {
			if th.ConfidenceLevel == "malicious" {
				malicious++
			}
			d, _ := time.ParseDuration(th.CreatedAgo)
			oldest = max(oldest, d)
		}
		if malicious*2 >= len(sc.Threats) || oldest < 3*time.Hour {
			t.Fatalf("want mostly non-malicious over hours: %d malicious, oldest %s", malicious, oldest)
		}
		e := &env{t: t}
		sim, err := simulator.New(sc, simulator.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		e.sim, e.srv = sim, newServer(t, sim)
		equal(t, get(e.json("GET", apiURL+"/threats?limit=100", nil, 200), "pagination.totalItems").(float64), float64(len(sc.Threats)), "all listed")
		equal(t, get(e.json("GET", apiURL+"/agents?ids=1903000000000000002", nil, 200), "data").([]any)[0].(obj)["isActive"].(bool), false, "offline laptop")
	})

	t.Run("outbreak", func(t *testing.T) {
		sc := load("outbreak")
		agents := map[string]bool{}
		hashes := map[string]bool{}
		var oldest time.Duration
		for _, th := range sc.Threats {
			agents[th.AgentID] = true
			hashes[th.SHA1+"/"+th.SHA256] = true
			d, _ := time.ParseDuration(th.CreatedAgo)
			oldest = max(oldest, d)
		}
		if len(sc.Threats) < 300 || len(agents) < 100 || len(hashes) != 1 || oldest > 15*time.Minute {
			t.Fatalf("%d threats on %d agents, %d hashes, oldest %s", len(sc.Threats), len(agents), len(hashes), oldest)
		}
		sim, err := simulator.New(sc, simulator.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, sim: sim, srv: newServer(t, sim)}
		ids, _ := pageThrough(t, e, apiURL+"/threats?limit=128", nil)
		equal(t, len(ids), len(sc.Threats), "listed")
	})

	t.Run("mssp", func(t *testing.T) {
		sc := load("mssp")
		accounts, sites := map[string]bool{}, map[string]string{}
		for _, a := range sc.Agents {
			accounts[a.AccountID] = true
			sites[a.SiteID] = a.AccountID
		}
		if len(accounts) != 2 || len(sites) < 4 {
			t.Fatalf("%d accounts, %d sites", len(accounts), len(sites))
		}
		sim, err := simulator.New(sc, simulator.Options{Token: token})
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, sim: sim, srv: newServer(t, sim)}
		sum := 0.0
		for site, account := range sites {
			resp := e.json("GET", apiURL+"/threats?limit=100&siteIds="+site, nil, 200)
			n := get(resp, "pagination.totalItems").(float64)
			if n == 0 {
				t.Errorf("site %s has no threats", site)
			}
			for _, th := range resp["data"].([]any) {
				equal(t, get(th, "agentRealtimeInfo.siteId").(string), site, "site scope")
				equal(t, get(th, "agentRealtimeInfo.accountId").(string), account, "account scope")
			}
			sum += n
		}
		equal(t, sum, float64(len(sc.Threats)), "sites partition the threats")
	})
}

func TestNewExpandsGeneratorsWithoutMutatingInput(t *testing.T) {
	sc := &scenario.Scenario{Name: "g", Agents: fixture().Agents}
	tmpl := fixtureThreat(tWin, winAgent, "1m")
	tmpl.ID, tmpl.AgentID = "", ""
	sc.Generate = []scenario.Generator{{Template: tmpl, Count: 7, IDBase: "1940000000000000001", AgentIDs: []string{winAgent, linuxAgent}, SpreadOver: "6m"}}
	e := &env{t: t}
	sim, err := simulator.New(sc, simulator.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	e.sim, e.srv = sim, newServer(t, sim)
	equal(t, len(sc.Generate), 1, "input untouched")
	equal(t, len(sc.Threats), 0, "input untouched")
	resp := e.json("GET", apiURL+"/threats?limit=100&agentIds="+linuxAgent, nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 3, "round-robin agents")
	all := e.json("GET", apiURL+"/threats?limit=100&sortBy=createdAt", nil, 200)["data"].([]any)
	first, _ := time.Parse(time.RFC3339Nano, get(all[0], "threatInfo.createdAt").(string))
	last, _ := time.Parse(time.RFC3339Nano, get(all[len(all)-1], "threatInfo.createdAt").(string))
	equal(t, last.Sub(first), 6*time.Minute, "spread")
	equal(t, get(all[0], "id").(string), "1940000000000000001", "first id oldest")
}

// A scenario threat can start with what the agent's policy already did: its
// mitigationStatus[] entries are served as given and never move by themselves, and a
// new command for another action still runs.
func TestScenarioMitigationsAreServed(t *testing.T) {
	sc := fixture()
	sc.Threats[0].MitigationStatus = "mitigated"
	sc.Threats[0].Mitigations = []scenario.Mitigation{{Action: "kill", Status: "success"}, {Action: "quarantine", Status: "failed"}}
	e := newEnv(t, sc)
	th := e.threat(tWin)
	equal(t, mitigationEntry(th, "kill")["status"].(string), "success", "kill as given")
	equal(t, mitigationEntry(th, "quarantine")["status"].(string), "failed", "quarantine as given")
	equal(t, get(th, "threatInfo.failedActions").(bool), true, "failedActions follows the entries")

	bad := fixture()
	bad.Threats[0].Mitigations = []scenario.Mitigation{{Action: "kill", Status: "done"}, {Action: "kill", Status: "success"}, {Action: "isolate", Status: "success"}}
	raw, _ := json.Marshal(bad)
	_, err := scenario.Parse(raw)
	for _, want := range []string{`mitigations[0].status: "done" is not one of`, `mitigations[1].action: "kill" has more than one entry`, `mitigations[2].action: "isolate" is not one of`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestAddEventsAtRuntime(t *testing.T) {
	e := newEnv(t, fixture())
	query := `EventType = "Task Register" AND TaskName ContainsCIS "updater"`
	now := e.clock.Now()
	equal(t, len(dvRun(t, e, query, now.Add(-time.Hour), now, "")), 0, "nothing yet")

	bad := obj{"events": []obj{
		{"agentId": winAgent, "eventType": "Task Register", "before": "5m", "taskName": `\Updater`},
		{"agentId": "1900000000000000099", "eventType": "Task Register"},
	}}
	status, raw := e.do("POST", "/sim/events", bad)
	if status != 400 || !strings.Contains(string(raw), `events[1]: invalid scenario: event.agentId: no agent with id`) {
		t.Fatalf("invalid events: %d %s", status, raw)
	}
	now = e.clock.Now()
	equal(t, len(dvRun(t, e, query, now.Add(-time.Hour), now, "")), 0, "an invalid batch adds nothing")

	good := obj{"events": []obj{{"agentId": winAgent, "eventType": "Task Register", "before": "5m", "taskName": `\Updater`}}}
	e.json("POST", "/sim/events", good, 201)
	now = e.clock.Now()
	got := dvRun(t, e, query, now.Add(-time.Hour), now, "")
	equal(t, len(got), 1, "added event found")
	equal(t, got[0]["taskName"].(string), `\Updater`, "rendered")
	e.json("POST", "/sim/events", obj{"events": []obj{}}, 400)
}
