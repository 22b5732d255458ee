package simulator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, fixture())
	const want = `{"errors":[{"code":4010010,"detail":null,"title":"Authentication Failed"}]}`
	for _, auth := range []string{"", "ApiToken wrong", "Bearer " + token, token} {
		status, body := e.doAuth("GET", apiURL+"/threats", nil, auth)
		equal(t, status, 401, "status for "+auth)
		equal(t, string(body), want, "body for "+auth)
	}
	for _, auth := range []string{"APIToken " + token, "apitoken " + token} {
		status, _ := e.doAuth("GET", apiURL+"/threats", nil, auth)
		equal(t, status, 200, "status for "+auth)
	}
	c := e.sim.Counters()
	equal(t, c.Unauthorized, 4, "unauthorized counter")
	equal(t, c.Requests["GET /web/api/v2.1/threats"], 6, "requests counter")
}

func TestValidationErrors(t *testing.T) {
	e := newEnv(t, fixture())
	status, body := e.do("GET", apiURL+"/threats?limit=0", nil)
	equal(t, status, 400, "status")
	equal(t, string(body),
		`{"errors":[{"code":4000010,"detail":"limit: Must be greater than or equal to 1 and less than or equal to 1000.","title":"Validation Error"}]}`,
		"body")

	cases := map[string]string{
		"/threats?limit=1001":                          "limit: Must be greater than or equal to 1",
		"/threats?cursor=test":                         "Invalid cursor value received",
		"/threats?createdAt__gte=yesterday":            "createdAt__gte: Not a valid datetime.",
		"/threats?ids=abc":                             "ids: 0: Not a valid integer.",
		"/threats?sortBy=color":                        "sortBy: Must be one of",
		"/threats?resolved=maybe":                      "resolved: Not a valid boolean.",
		"/threats?createdAtGte=2026-01-01T00:00:00Z":   "createdAtGte: Unknown field.",
		"/threats?ids=":                                "ids: Field may not be empty.",
		"/threats/" + tWin + "/timeline?cursor=Zm9v":   "Invalid cursor value received",
		"/agents?networkStatuses=offline":              "networkStatuses: 0: Must be one of",
		"/threats/" + tWin + "/notes?sortOrder=upward": "sortOrder: Must be one of: asc, desc.",
	}
	for path, want := range cases {
		resp := e.json("GET", apiURL+path, nil, 400)
		first := resp["errors"].([]any)[0].(obj)
		equal(t, first["code"].(float64), 4000010, "code for "+path)
		equal(t, first["title"].(string), "Validation Error", "title for "+path)
		if d := first["detail"].(string); !strings.Contains(d, want) {
			t.Errorf("%s: detail %q does not contain %q", path, d, want)
		}
	}

	posts := map[string]any{
		"/threats/mitigate/destroy":    obj{"filter": obj{"ids": []string{tWin}}},
		"/threats/notes":               obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"text": "  "}},
		"/threats/analyst-verdict":     obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"analystVerdict": "evil"}},
		"/threats/incident":            obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"incidentStatus": "closed"}},
		"/agents/actions/disconnect":   obj{"filter": obj{}},
		"/threats/mitigate/kill":       `{"filter":{"ids":["` + tWin + `"]},"bogus":1}`,
		"/agents/actions/connect":      `not json`,
		"/threats/mitigate/quarantine": obj{"filter": obj{"ids": []int{1}}},
	}
	for path, body := range posts {
		status, raw := e.do("POST", apiURL+path, body)
		if status != 400 || !strings.Contains(string(raw), `"code":4000010`) {
			t.Errorf("POST %s: status %d body %s, want 400 validation error", path, status, raw)
		}
	}
	if c := e.sim.Counters(); len(c.Mitigations) != 0 || len(c.Notes) != 0 {
		t.Fatalf("rejected requests changed state: %+v", c)
	}
}

func TestNotFoundAndMethod(t *testing.T) {
	e := newEnv(t, fixture())
	resp := e.json("GET", apiURL+"/nothing", nil, 404)
	equal(t, get(resp["errors"].([]any)[0], "code").(float64), 4040010, "404 code")
	resp = e.json("GET", apiURL+"/threats/1999999999999999999/timeline", nil, 404)
	equal(t, get(resp["errors"].([]any)[0], "code").(float64), 4040010, "unknown threat code")
	status, _ := e.do("DELETE", apiURL+"/threats", nil)
	equal(t, status, 405, "wrong method")
	status, _ = e.do("GET", apiURL+"/threats/mitigate/kill", nil)
	equal(t, status, 405, "GET on mitigate")
}

// pageThrough follows nextCursor and returns the IDs seen and every totalItems.
func pageThrough(t *testing.T, e *env, first string, between func(page int)) (ids []string, totals []int) {
	t.Helper()
	path := first
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("paging does not terminate")
		}
		resp := e.json("GET", path, nil, 200)
		for _, it := range resp["data"].([]any) {
			ids = append(ids, it.(obj)["id"].(string))
		}
		totals = append(totals, int(get(resp, "pagination.totalItems").(float64)))
		next, _ := get(resp, "pagination.nextCursor").(string)
		if next == "" {
			if get(resp, "pagination.nextCursor") != nil {
				t.Fatal("nextCursor must be null on the last page")
			}
			return ids, totals
		}
		if between != nil {
			between(page)
		}
		path = first + "&cursor=" + next
	}
}

func TestCursorPagingStableWhileThreatsAreAdded(t *testing.T) {
	e := newEnv(t, fixture())
	added := 0
	ids, totals := pageThrough(t, e, apiURL+"/threats?limit=2", func(page int) {
		// One threat older than everything (would shift offset paging), one newer.
		ago := []string{"2h", "1m"}[page%2]
		id := fmt.Sprintf("19200000000000000%02d", page)
		if err := e.sim.AddThreat(fixtureThreat(id, winAgent, ago)); err != nil {
			t.Fatalf("AddThreat: %v", err)
		}
		added++
	})
	want := []string{tWin, tLinux, tNoVSS, tMac, tWin2}
	equal(t, strings.Join(ids, ","), strings.Join(want, ","), "ids in createdAt order without skips or duplicates")
	for _, total := range totals {
		equal(t, total, 5, "totalItems")
	}
	// A fresh iteration sees the new threats.
	ids, _ = pageThrough(t, e, apiURL+"/threats?limit=2", nil)
	equal(t, len(ids), 5+added, "fresh iteration")
}

func TestPagingOptions(t *testing.T) {
	e := newEnv(t, fixture())
	ids, _ := pageThrough(t, e, apiURL+"/threats?limit=2&sortOrder=desc", nil)
	equal(t, strings.Join(ids, ","), strings.Join([]string{tWin2, tMac, tNoVSS, tLinux, tWin}, ","), "desc order")

	ids, _ = pageThrough(t, e, apiURL+"/threats?limit=3&sortBy=id&sortOrder=desc", nil)
	equal(t, ids[0], tWin2, "sortBy id desc")

	resp := e.json("GET", apiURL+"/threats?skip=3&limit=10", nil, 200)
	equal(t, len(resp["data"].([]any)), 2, "skip")

	resp = e.json("GET", apiURL+"/threats?countOnly=true", nil, 200)
	equal(t, len(resp["data"].([]any)), 0, "countOnly data")
	equal(t, get(resp, "pagination.totalItems").(float64), 5, "countOnly total")

	resp = e.json("GET", apiURL+"/threats", nil, 200)
	equal(t, len(resp["data"].([]any)), 5, "default limit 10 covers all")

	// A cursor is bound to its sort order.
	first := e.json("GET", apiURL+"/threats?limit=1", nil, 200)
	cur := get(first, "pagination.nextCursor").(string)
	e.json("GET", apiURL+"/threats?limit=1&sortOrder=desc&cursor="+cur, nil, 400)
}

func TestTimeFilters(t *testing.T) {
	e := newEnv(t, fixture())
	now := e.clock.Now()
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

	resp := e.json("GET", apiURL+"/threats"+q("createdAt__gte", ts(now.Add(-30*time.Minute))), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 3, "createdAt__gte")
	resp = e.json("GET", apiURL+"/threats"+q("createdAt__gt", ts(now.Add(-30*time.Minute))), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 2, "createdAt__gt excludes equal")
	resp = e.json("GET", apiURL+"/threats"+q("createdAt__lt", ts(now.Add(-30*time.Minute)), "createdAt__gte", ts(now.Add(-45*time.Minute))), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 1, "createdAt range")

	// Timestamps read back from the API must round-trip into filters.
	th := e.threat(tMac)
	resp = e.json("GET", apiURL+"/threats"+q("createdAt__gte", get(th, "threatInfo.createdAt").(string)), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 2, "round-tripped createdAt")

	e.clock.Advance(time.Minute)
	mark := e.clock.Now()
	e.json("POST", apiURL+"/threats/analyst-verdict", obj{"filter": obj{"ids": []string{tLinux}}, "data": obj{"analystVerdict": "true_positive"}}, 200)
	resp = e.json("GET", apiURL+"/threats"+q("updatedAt__gte", ts(mark)), nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 1, "updatedAt__gte")
	equal(t, resp["data"].([]any)[0].(obj)["id"].(string), tLinux, "updated threat")
	equal(t, get(resp["data"].([]any)[0], "threatInfo.updatedAt").(string), ts(mark), "updatedAt bumped")
}

func TestMitigationPendingThenSuccess(t *testing.T) {
	e := newEnv(t, fixture())
	start := e.clock.Now()
	res := e.mitigate("kill", tWin)
	equal(t, res["affected"].(float64), 1, "affected")
	report := get(res["details"].([]any)[0], "reports").([]any)[0].(obj)
	equal(t, report["action"].(string), "kill", "report action")
	equal(t, report["status"].(string), "pending", "report status")

	th := e.threat(tWin)
	equal(t, get(th, "threatInfo.pendingActions").(bool), true, "pendingActions")
	equal(t, get(th, "threatInfo.mitigationStatus").(string), "not_mitigated", "not yet mitigated")

	// The agent picks the command up after half the delay ("sent").
	e.clock.Advance(delay/2 - time.Millisecond)
	equal(t, mitigationEntry(e.threat(tWin), "kill")["status"].(string), "pending", "before pick-up")
	e.clock.Advance(time.Millisecond)
	equal(t, mitigationEntry(e.threat(tWin), "kill")["status"].(string), "sent", "picked up")
	equal(t, get(e.threat(tWin), "threatInfo.pendingActions").(bool), true, "sent is still pending")
	e.clock.Advance(delay/2 - time.Millisecond)
	equal(t, mitigationEntry(e.threat(tWin), "kill")["status"].(string), "sent", "before delay")

	e.clock.Advance(time.Millisecond)
	th = e.threat(tWin)
	kill := mitigationEntry(th, "kill")
	equal(t, kill["status"].(string), "success", "after delay")
	settled := start.Add(delay).UTC().Format("2006-01-02T15:04:05.000000Z")
	equal(t, kill["mitigationEndedAt"].(string), settled, "mitigationEndedAt")
	equal(t, get(th, "threatInfo.mitigationStatus").(string), "mitigated", "threatInfo.mitigationStatus")
	equal(t, get(th, "threatInfo.mitigationStatusDescription").(string), "Mitigated", "description")
	equal(t, get(th, "threatInfo.updatedAt").(string), settled, "updatedAt")
	equal(t, get(th, "threatInfo.pendingActions").(bool), false, "pendingActions cleared")
	codes := e.timelineTypes(tWin)
	if !containsInt(codes, 2011) || !containsInt(codes, 2001) {
		t.Fatalf("timeline %v lacks 2011/2001", codes)
	}

	// Repeating an action replaces its entry instead of adding another.
	e.mitigate("kill", tWin)
	th = e.threat(tWin)
	equal(t, len(th["mitigationStatus"].([]any)), 1, "one entry per action")
	equal(t, mitigationEntry(th, "kill")["status"].(string), "pending", "re-issued kill")

	// Zero delay settles on the next read.
	sim, err := simulator.New(fixture(), simulator.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	e2 := &env{t: t, sim: sim, srv: newServer(t, sim)}
	res = e2.mitigate("quarantine", tWin)
	equal(t, get(res["details"].([]any)[0], "reports").([]any)[0].(obj)["status"].(string), "pending", "zero delay: POST shows pending")
	equal(t, mitigationEntry(e2.threat(tWin), "quarantine")["status"].(string), "success", "zero delay: next read settles")
}

func TestRollbackWithoutVSSNeverSettles(t *testing.T) {
	e := newEnv(t, fixture())
	res := e.mitigate("rollback-remediation", tLinux, tNoVSS, tMac, tWin)
	equal(t, res["affected"].(float64), 4, "all accepted")
	e.clock.Advance(30 * 24 * time.Hour)
	for _, id := range []string{tLinux, tNoVSS, tMac} {
		th := e.threat(id)
		entry := mitigationEntry(th, "rollback")
		equal(t, entry["status"].(string), "pending", "rollback on "+id)
		if entry["mitigationEndedAt"] != nil {
			t.Fatalf("rollback on %s has mitigationEndedAt", id)
		}
		equal(t, get(th, "threatInfo.pendingActions").(bool), true, "pendingActions on "+id)
		if containsInt(e.timelineTypes(id), 2003) {
			t.Fatalf("rollback success activity on %s", id)
		}
	}
	equal(t, mitigationEntry(e.threat(tWin), "rollback")["status"].(string), "success", "rollback with VSS")
	if !containsInt(e.timelineTypes(tWin), 2003) {
		t.Fatal("missing 2003 rollback success")
	}
	equal(t, e.sim.Counters().Mitigations[tLinux]["rollback-remediation"], 1, "counted")
}

func TestRemediateOnLinuxIsSkipped(t *testing.T) {
	e := newEnv(t, fixture())
	res := e.mitigate("remediate", tLinux, tWin)
	equal(t, res["affected"].(float64), 1, "only windows affected")
	for _, d := range res["details"].([]any) {
		if d.(obj)["threatId"] != tLinux {
			continue
		}
		sk := d.(obj)["skipped"].([]any)
		equal(t, len(sk), 1, "skipped entries")
		equal(t, sk[0].(obj)["reason"].(string), "not_supported", "reason")
		equal(t, len(d.(obj)["reports"].([]any)), 0, "no report")
	}
	equal(t, len(e.threat(tLinux)["mitigationStatus"].([]any)), 0, "linux unchanged")
	equal(t, e.sim.Counters().Mitigations[tLinux]["remediate"], 0, "not counted")
}

func TestFailActions(t *testing.T) {
	sc := fixture()
	sc.Threats[0].FailActions = []string{"quarantine"}
	e := newEnv(t, sc)
	e.mitigate("quarantine", tWin)
	e.clock.Advance(delay)
	th := e.threat(tWin)
	equal(t, mitigationEntry(th, "quarantine")["status"].(string), "failed", "status")
	equal(t, get(th, "threatInfo.failedActions").(bool), true, "failedActions")
	equal(t, get(th, "threatInfo.mitigationStatus").(string), "not_mitigated", "not mitigated")
	if !containsInt(e.timelineTypes(tWin), 2009) {
		t.Fatal("missing 2009 quarantine failed")
	}
}

func TestNotes(t *testing.T) {
	e := newEnv(t, fixture())
	res := e.json("POST", apiURL+"/threats/notes", obj{"filter": obj{"ids": []string{tWin, tLinux}}, "data": obj{"text": "first"}}, 200)
	equal(t, get(res, "data.affected").(float64), 2, "affected")
	e.clock.Advance(time.Second)
	e.json("POST", apiURL+"/threats/notes", obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"text": "second"}}, 200)
	e.clock.Advance(time.Second)
	e.json("POST", apiURL+"/threats/notes", obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"text": "third"}}, 200)

	equal(t, strings.Join(e.sim.Notes(tWin), "|"), "first|second|third", "Notes()")
	// NoteRecords carries each note's arrival on the simulator clock (API precision).
	recs := e.sim.NoteRecords(tWin)
	equal(t, len(recs), 3, "NoteRecords()")
	equal(t, recs[2].Text, "third", "last record")
	equal(t, recs[2].CreatedAt.Sub(recs[0].CreatedAt), 2*time.Second, "first to third note")
	equal(t, recs[0].CreatedAt.Equal(e.clock.Now().Add(-2*time.Second).Truncate(time.Microsecond)), true, "first note time")
	equal(t, len(e.sim.NoteRecords("404")), 0, "unknown threat")
	var texts []string
	path := apiURL + "/threats/" + tWin + "/notes?limit=2"
	for {
		resp := e.json("GET", path, nil, 200)
		for _, n := range resp["data"].([]any) {
			texts = append(texts, n.(obj)["text"].(string))
			equal(t, n.(obj)["edited"].(bool), false, "edited")
			if n.(obj)["creator"] == "" || n.(obj)["id"] == "" {
				t.Fatalf("note lacks creator/id: %v", n)
			}
		}
		next, _ := get(resp, "pagination.nextCursor").(string)
		if next == "" {
			break
		}
		path = apiURL + "/threats/" + tWin + "/notes?limit=2&cursor=" + next
	}
	equal(t, strings.Join(texts, "|"), "first|second|third", "listed notes")

	admin := e.json("GET", "/sim/threats/"+tLinux+"/notes", nil, 200)
	equal(t, fmt.Sprint(admin["notes"]), "[first]", "admin notes")
	c := e.sim.Counters()
	equal(t, c.Notes[tWin], 3, "notes counter")
	equal(t, c.Notes[tLinux], 1, "notes counter linux")
	if !containsInt(e.timelineTypes(tWin), 4020) {
		t.Fatal("missing note activity")
	}
}

func TestCountersAreCopiesAndKeyedByTemplate(t *testing.T) {
	e := newEnv(t, fixture())
	e.json("GET", apiURL+"/threats/"+tWin+"/timeline", nil, 200)
	e.json("GET", apiURL+"/threats/"+tLinux+"/timeline", nil, 200)
	e.mitigate("kill", tWin, tWin2)
	e.mitigate("kill", tWin)
	e.mitigate("quarantine", tWin)
	e.json("POST", apiURL+"/agents/actions/disconnect", obj{"filter": obj{"ids": []string{linuxAgent}}}, 200)

	c := e.sim.Counters()
	equal(t, c.Requests["GET /web/api/v2.1/threats/{id}/timeline"], 2, "timeline template")
	equal(t, c.Requests["POST /web/api/v2.1/threats/mitigate/kill"], 2, "kill requests")
	equal(t, c.Requests["POST /web/api/v2.1/threats/mitigate/quarantine"], 1, "quarantine requests")
	equal(t, c.Mitigations[tWin]["kill"], 2, "kills on tWin")
	equal(t, c.Mitigations[tWin2]["kill"], 1, "kills on tWin2")
	equal(t, c.AgentActions[linuxAgent]["disconnect"], 1, "disconnects")

	c.Mitigations[tWin]["kill"] = 99
	c.Requests["x"] = 1
	equal(t, e.sim.Counters().Mitigations[tWin]["kill"], 2, "deep copy")

	admin := e.json("GET", "/sim/counters", nil, 200)
	equal(t, get(admin, "mitigations."+tWin+".kill").(float64), 2, "admin counters")
}

func TestIsolation(t *testing.T) {
	e := newEnv(t, fixture())
	agentStatus := func() string {
		resp := e.json("GET", apiURL+"/agents?ids="+winAgent, nil, 200)
		return resp["data"].([]any)[0].(obj)["networkStatus"].(string)
	}
	res := e.json("POST", apiURL+"/agents/actions/disconnect", obj{"filter": obj{"ids": []string{winAgent}}}, 200)
	equal(t, get(res, "data.affected").(float64), 1, "affected")
	equal(t, agentStatus(), "disconnecting", "after POST")
	equal(t, get(e.threat(tWin), "agentRealtimeInfo.agentNetworkStatus").(string), "disconnecting", "threat view")

	e.clock.Advance(delay)
	equal(t, agentStatus(), "disconnected", "after delay")
	equal(t, get(e.threat(tWin2), "agentRealtimeInfo.agentNetworkStatus").(string), "disconnected", "threat view")
	equal(t, get(e.threat(tLinux), "agentRealtimeInfo.agentNetworkStatus").(string), "connected", "other agent untouched")

	e.json("POST", apiURL+"/agents/actions/connect", obj{"filter": obj{"ids": []string{winAgent}}}, 200)
	equal(t, agentStatus(), "connecting", "reconnecting")
	e.clock.Advance(delay)
	equal(t, agentStatus(), "connected", "reconnected")

	codes := e.timelineTypes(tWin)
	for _, code := range []int{61, 1001, 62, 1002} {
		if !containsInt(codes, code) {
			t.Fatalf("timeline %v lacks %d", codes, code)
		}
	}
	c := e.sim.Counters()
	equal(t, c.AgentActions[winAgent]["disconnect"], 1, "disconnect counter")
	equal(t, c.AgentActions[winAgent]["connect"], 1, "connect counter")
}

func TestVerdictAndIncident(t *testing.T) {
	e := newEnv(t, fixture())
	th := e.threat(tWin)
	equal(t, get(th, "threatInfo.analystVerdict").(string), "undefined", "initial verdict")
	equal(t, get(th, "threatInfo.incidentStatus").(string), "unresolved", "initial incident")

	body := obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"analystVerdict": "true_positive"}}
	equal(t, get(e.json("POST", apiURL+"/threats/analyst-verdict", body, 200), "data.affected").(float64), 1, "verdict affected")
	equal(t, get(e.json("POST", apiURL+"/threats/analyst-verdict", body, 200), "data.affected").(float64), 0, "unchanged verdict")
	th = e.threat(tWin)
	equal(t, get(th, "threatInfo.analystVerdictDescription").(string), "True positive", "verdict description")

	body = obj{"filter": obj{"ids": []string{tWin, tLinux}}, "data": obj{"incidentStatus": "resolved", "analystVerdict": "false_positive"}}
	equal(t, get(e.json("POST", apiURL+"/threats/incident", body, 200), "data.affected").(float64), 2, "incident affected")
	th = e.threat(tLinux)
	equal(t, get(th, "threatInfo.incidentStatusDescription").(string), "Resolved", "incident description")
	equal(t, get(th, "threatInfo.analystVerdict").(string), "false_positive", "verdict via incident")

	resp := e.json("GET", apiURL+"/threats?resolved=true", nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 2, "resolved=true")
	resp = e.json("GET", apiURL+"/threats?resolved=false", nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 3, "resolved=false")
	codes := e.timelineTypes(tWin)
	if !containsInt(codes, 2028) || !containsInt(codes, 2030) {
		t.Fatalf("timeline %v lacks 2028/2030", codes)
	}
}

func TestAgentsList(t *testing.T) {
	sc := fixture()
	sc.Agents[0].Tags = []scenario.Tag{{Key: "env", Value: "prod"}}
	e := newEnv(t, sc)
	resp := e.json("GET", apiURL+"/agents?computerName=WIN-SRV", nil, 200)
	equal(t, get(resp, "pagination.totalItems").(float64), 1, "by computerName")
	a := resp["data"].([]any)[0].(obj)
	equal(t, a["id"].(string), winAgent, "id")
	equal(t, a["activeThreats"].(float64), 2, "activeThreats")
	equal(t, a["infected"].(bool), true, "infected")
	tags := get(a, "tags.sentinelone").([]any)
	equal(t, tags[0].(obj)["key"].(string), "env", "tag key")
	for _, f := range []string{"uuid", "osType", "machineType", "networkInterfaces", "lastActiveDate", "registeredAt", "siteName"} {
		if _, ok := a[f]; !ok {
			t.Errorf("agent lacks %s", f)
		}
	}
	ids, _ := pageThrough(t, e, apiURL+"/agents?limit=3", nil)
	equal(t, len(ids), 4, "paged agents")
}

func TestAdminAddThreat(t *testing.T) {
	e := newEnv(t, fixture())
	equal(t, e.json("GET", "/sim/health", nil, 200)["ok"].(bool), true, "health")

	body := fixtureThreat("1930000000000000001", linuxAgent, "1m")
	created := e.json("POST", "/sim/threats", body, 201)
	equal(t, get(created, "data.id").(string), "1930000000000000001", "created id")
	equal(t, get(e.threat("1930000000000000001"), "agentRealtimeInfo.agentComputerName").(string), "lnx-web", "listed")

	status, raw := e.do("POST", "/sim/threats", body)
	equal(t, status, 400, "duplicate")
	if !strings.Contains(string(raw), "duplicate threat id") {
		t.Fatalf("duplicate message: %s", raw)
	}
	bad := fixtureThreat("1930000000000000002", "1900000000000009999", "1m")
	status, raw = e.do("POST", "/sim/threats", bad)
	equal(t, status, 400, "unknown agent")
	if !strings.Contains(string(raw), "threat.agentId: no agent") {
		t.Fatalf("unknown agent message: %s", raw)
	}
	status, _ = e.do("POST", "/sim/threats", `{"id":"1930000000000000003","color":"red"}`)
	equal(t, status, 400, "unknown field")
}
