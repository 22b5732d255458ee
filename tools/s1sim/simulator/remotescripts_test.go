package simulator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func scriptEnv(t *testing.T, tweak func(*simulator.Options)) *env {
	t.Helper()
	return newEnvWith(t, fixture(), func(o *simulator.Options) {
		o.ScriptDelay = delay
		if tweak != nil {
			tweak(o)
		}
	})
}

func execBody(agentID, scriptID, dest, description string) obj {
	return obj{"filter": obj{"ids": []string{agentID}},
		"data": obj{"scriptId": scriptID, "outputDestination": dest, "taskDescription": description}}
}

func (e *env) execute(agentID, scriptID, description string) obj {
	e.t.Helper()
	return e.json("POST", apiURL+"/remote-scripts/execute", execBody(agentID, scriptID, "SentinelCloud", description), 200)["data"].(obj)
}

func (e *env) tasks(parent string) []any {
	e.t.Helper()
	return e.json("GET", apiURL+"/remote-scripts/status"+q("parentTaskId", parent), nil, 200)["data"].([]any)
}

func (e *env) task(parent string) obj {
	e.t.Helper()
	ts := e.tasks(parent)
	if len(ts) != 1 {
		e.t.Fatalf("parent %s: %d tasks, want 1", parent, len(ts))
	}
	return ts[0].(obj)
}

// errorDetails returns the details of a 4xx answer.
func (e *env) errorDetails(method, path string, body any, want int) []string {
	e.t.Helper()
	var out []string
	for _, it := range e.json(method, path, body, want)["errors"].([]any) {
		equal(e.t, it.(obj)["code"].(float64), 4000010, "code")
		equal(e.t, it.(obj)["title"].(string), "Validation Error", "title")
		out = append(out, it.(obj)["detail"].(string))
	}
	return out
}

func TestScriptLibrary(t *testing.T) {
	e := scriptEnv(t, nil)
	all := e.json("GET", apiURL+"/remote-scripts"+q("limit", "100"), nil, 200)
	equal(t, get(all, "pagination.totalItems").(float64), 5, "seeded scripts")
	first := all["data"].([]any)[0].(obj)
	equal(t, first["id"].(string), simulator.ScriptForensicsWindows, "sorted by id")
	equal(t, first["scriptType"].(string), "artifactCollection", "type")
	equal(t, first["requiresApproval"].(bool), false, "approval")

	linux := e.json("GET", apiURL+"/remote-scripts"+q("osTypes", "linux"), nil, 200)["data"].([]any)
	var ids []string
	for _, s := range linux {
		ids = append(ids, s.(obj)["id"].(string))
	}
	equal(t, strings.Join(ids, ","), simulator.ScriptForensicsLinux+","+simulator.ScriptProcessList, "osTypes=linux")

	// Paging like the other lists.
	p1 := e.json("GET", apiURL+"/remote-scripts"+q("limit", "2"), nil, 200)
	cursor := get(p1, "pagination.nextCursor").(string)
	p2 := e.json("GET", apiURL+"/remote-scripts"+q("limit", "2", "cursor", cursor), nil, 200)
	equal(t, p2["data"].([]any)[0].(obj)["id"].(string), simulator.ScriptForensicsMacOS, "second page")

	d := e.errorDetails("GET", apiURL+"/remote-scripts"+q("osType", "linux"), nil, 400)
	equal(t, d[0], "osType: Unknown field.", "misspelt filter")
}

func TestScriptExecuteValidation(t *testing.T) {
	e := scriptEnv(t, nil)
	d := e.errorDetails("POST", apiURL+"/remote-scripts/execute", obj{"filter": obj{"ids": []string{winAgent}}, "data": obj{}}, 400)
	equal(t, strings.Join(d, " | "), "data.scriptId: Missing data for required field. | data.taskDescription: Missing data for required field. | "+
		"data.outputDestination: Missing data for required field.", "every missing field named")

	d = e.errorDetails("POST", apiURL+"/remote-scripts/execute", execBody(winAgent, simulator.ScriptForensicsWindows, "S3", "x"), 400)
	equal(t, d[0], "data.outputDestination: Must be one of: SentinelCloud, Local, None, SingularityXDR.", "destination")

	d = e.errorDetails("POST", apiURL+"/remote-scripts/execute", execBody(winAgent, "1950000000000000999", "Local", "x"), 400)
	equal(t, strings.Contains(d[0], "no script with id"), true, d[0])

	d = e.errorDetails("POST", apiURL+"/remote-scripts/execute", execBody(linuxAgent, simulator.ScriptForensicsWindows, "Local", "x"), 400)
	equal(t, d[0], `data.scriptId: script "Collect forensic artifacts (Windows)" (`+simulator.ScriptForensicsWindows+
		`) runs on windows only; agent lnx-web (`+linuxAgent+`) is linux.`, "OS mismatch")

	d = e.errorDetails("POST", apiURL+"/remote-scripts/execute", obj{"data": obj{}}, 400)
	equal(t, d[0], "filter: Missing data for required field.", "filter")

	equal(t, len(e.sim.Counters().ScriptExecutions), 0, "nothing ran")
}

func TestScriptTaskProgressAndActivity(t *testing.T) {
	e := scriptEnv(t, nil)
	t0 := e.clock.Now()
	res := e.execute(winAgent, simulator.ScriptForensicsWindows, "collect [inv-9]")
	equal(t, res["affected"].(float64), 1, "affected")
	equal(t, res["pending"].(bool), false, "pending")
	equal(t, res["pendingExecutionId"], nil, "pendingExecutionId")
	parent := res["parentTaskId"].(string)

	task := e.task(parent)
	for k, want := range map[string]any{
		"status": "created", "type": "script_execution", "description": "collect [inv-9]", "agentId": winAgent,
		"agentComputerName": "WIN-SRV", "agentOsType": "windows", "agentIsActive": true, "initiatedBy": "user",
		"statusCode": nil, "parentTaskId": parent, "createdAt": tsOf(t0),
	} {
		equal(t, task[k], want, k)
	}
	for _, step := range []struct {
		d      time.Duration
		status string
	}{{delay / 4, "pending"}, {delay / 4, "in_progress"}, {delay / 2, "completed"}} {
		e.clock.Advance(step.d)
		equal(t, e.task(parent)["status"].(string), step.status, step.status)
	}
	task = e.task(parent)
	equal(t, task["updatedAt"].(string), tsOf(t0.Add(delay)), "completed at start+delay")
	equal(t, task["statusDescription"].(string), "Completed", "statusDescription")
	equal(t, task["scriptResultsBucket"] != nil, true, "results in the cloud")

	// status and computerName filters, parentTaskId__in.
	equal(t, len(e.json("GET", apiURL+"/remote-scripts/status"+q("parentTaskId__in", parent, "status", "failed"), nil, 200)["data"].([]any)), 0, "status filter")
	equal(t, len(e.json("GET", apiURL+"/remote-scripts/status"+q("parentTaskId", parent, "computerName__contains", "win"), nil, 200)["data"].([]any)), 1, "name filter")

	// Activity 3618 with the execution's data.
	acts := e.json("GET", apiURL+"/activities"+q("activityTypes", "3618", "agentIds", winAgent), nil, 200)["data"].([]any)
	if len(acts) != 1 {
		t.Fatalf("3618 activities: %d", len(acts))
	}
	data := acts[0].(obj)["data"].(obj)
	equal(t, data["parentTaskId"].(string), parent, "data.parentTaskId")
	equal(t, data["taskDescription"].(string), "collect [inv-9]", "data.taskDescription")
	equal(t, data["scriptName"].(string), "Collect forensic artifacts (Windows)", "data.scriptName")
	equal(t, data["computerName"].(string), "WIN-SRV", "data.computerName")
	equal(t, acts[0].(obj)["userId"], any("1000000000000000001"), "the API user")

	equal(t, e.sim.Counters().ScriptExecutions[winAgent][simulator.ScriptForensicsWindows], 1, "one execution")
}

func TestScriptStatusNeedsParent(t *testing.T) {
	e := scriptEnv(t, nil)
	d := e.errorDetails("GET", apiURL+"/remote-scripts/status", nil, 400)
	equal(t, d[0], "parentTaskId: Missing data for required field: GET /remote-scripts/status needs parentTaskId or parentTaskId__in.", "detail")
	d = e.errorDetails("GET", apiURL+"/remote-scripts/status"+q("parentTaskId", "abc"), nil, 400)
	equal(t, d[0], "parentTaskId: 0: Not a valid integer.", "bad id")
	equal(t, len(e.tasks("1990000000000009999")), 0, "unknown parent: empty")
}

func TestScriptOfflineAgentAndExpiry(t *testing.T) {
	e := scriptEnv(t, func(o *simulator.Options) { o.ScriptTaskExpiry = time.Minute })
	if err := e.sim.SetAgentOnline(linuxAgent, false); err != nil {
		t.Fatal(err)
	}
	parent := e.execute(linuxAgent, simulator.ScriptForensicsLinux, "x")["parentTaskId"].(string)
	e.clock.Advance(30 * time.Second)
	equal(t, e.task(parent)["status"].(string), "pending", "held")
	e.clock.Advance(31 * time.Second)
	equal(t, e.task(parent)["status"].(string), "expired", "expired")

	// Offline while running: it finishes after the agent returns.
	if err := e.sim.SetAgentOnline(linuxAgent, true); err != nil {
		t.Fatal(err)
	}
	parent = e.execute(linuxAgent, simulator.ScriptForensicsLinux, "y")["parentTaskId"].(string)
	e.clock.Advance(delay * 3 / 4)
	equal(t, e.task(parent)["status"].(string), "in_progress", "running")
	if err := e.sim.SetAgentOnline(linuxAgent, false); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	equal(t, e.task(parent)["status"].(string), "in_progress", "frozen, not expired: it had started")
	e.json("POST", "/sim/agents/"+linuxAgent+"/online", obj{"online": true}, 200)
	e.clock.Advance(delay / 2)
	equal(t, e.task(parent)["status"].(string), "completed", "finished after the agent returned")
}

func TestScriptApprovalThroughAPIAndAdmin(t *testing.T) {
	e := scriptEnv(t, nil)
	res := e.execute(winAgent, simulator.ScriptMemoryDumpWindows, "memory [inv-3]")
	equal(t, res["pending"].(bool), true, "pending")
	parent, pendingID := res["parentTaskId"].(string), res["pendingExecutionId"].(string)
	e.clock.Advance(time.Minute)
	equal(t, e.task(parent)["status"].(string), "pending_user_action", "waits")

	list := e.json("GET", apiURL+"/remote-scripts/pending-executions", nil, 200)["data"].([]any)
	equal(t, len(list), 1, "pending executions")
	pe := list[0].(obj)
	equal(t, pe["pendingExecutionId"].(string), pendingID, "id")
	equal(t, pe["state"].(string), "waiting", "state")
	equal(t, get(pe, "executionData.taskDescription").(string), "memory [inv-3]", "executionData")

	d := e.errorDetails("PUT", apiURL+"/remote-scripts/pending-executions/"+pendingID, obj{"data": obj{"action": "maybe"}}, 400)
	equal(t, d[0], "data.action: Must be one of: approve, decline.", "action")
	e.json("PUT", apiURL+"/remote-scripts/pending-executions/"+pendingID, obj{"data": obj{"action": "approve"}}, 200)
	e.json("PUT", apiURL+"/remote-scripts/pending-executions/"+pendingID, obj{"data": obj{"action": "approve"}}, 400)
	e.json("PUT", apiURL+"/remote-scripts/pending-executions/1990000000000009999", obj{"data": obj{"action": "approve"}}, 404)
	e.clock.Advance(delay)
	equal(t, e.task(parent)["status"].(string), "completed", "approved, then ran")
	pe = e.json("GET", apiURL+"/remote-scripts/pending-executions", nil, 200)["data"].([]any)[0].(obj)
	equal(t, pe["state"].(string), "approved", "state")
	equal(t, pe["scheduledTaskId"], any(parent), "scheduledTaskId")

	// Declined through the admin endpoint, as an analyst.
	res = e.execute(winAgent, simulator.ScriptMemoryDumpWindows, "memory [inv-4]")
	e.json("POST", "/sim/remote-scripts/pending-executions/"+res["pendingExecutionId"].(string), obj{"action": "decline"}, 200)
	task := e.task(res["parentTaskId"].(string))
	equal(t, task["status"].(string), "canceled", "declined")
	equal(t, strings.Contains(task["detailedStatus"].(string), "Dana Analyst"), true, task["detailedStatus"].(string))

	// Unapproved past the expiry: expired.
	res = e.execute(winAgent, simulator.ScriptMemoryDumpWindows, "memory [inv-5]")
	e.clock.Advance(simulator.DefaultScriptTaskExpiry)
	equal(t, e.task(res["parentTaskId"].(string))["status"].(string), "expired", "approval expired")
}

func TestScriptStrictPendingExecution(t *testing.T) {
	e := scriptEnv(t, func(o *simulator.Options) { o.StrictPendingExecutions = true })
	res := e.execute(winAgent, simulator.ScriptMemoryDumpWindows, "memory [strict]")
	equal(t, res["parentTaskId"], nil, "null while pending, as the vendor schema says")
	pendingID := res["pendingExecutionId"].(string)
	equal(t, len(e.json("GET", apiURL+"/activities"+q("activityTypes", "3618"), nil, 200)["data"].([]any)), 0, "no 3618 yet")
	if err := e.sim.ApproveScriptExecution(pendingID, true); err != nil {
		t.Fatal(err)
	}
	pe := e.json("GET", apiURL+"/remote-scripts/pending-executions", nil, 200)["data"].([]any)[0].(obj)
	parent := pe["scheduledTaskId"].(string)
	acts := e.json("GET", apiURL+"/activities"+q("activityTypes", "3618"), nil, 200)["data"].([]any)
	equal(t, len(acts), 1, "3618 on approval")
	equal(t, get(acts[0], "data.parentTaskId").(string), parent, "its parent")
	e.clock.Advance(delay)
	equal(t, e.task(parent)["status"].(string), "completed", "ran")
}

func TestScriptFailuresAndFetchFiles(t *testing.T) {
	e := scriptEnv(t, nil)
	e.json("POST", "/sim/remote-scripts/failures", obj{"agentId": macAgent, "reason": "SIP blocked the collector"}, 200)
	e.json("POST", "/sim/remote-scripts/failures", obj{"reason": "x"}, 400)
	e.json("POST", "/sim/remote-scripts/failures", obj{"scriptId": "1950000000000000999", "reason": "x"}, 404)

	failed := e.execute(macAgent, simulator.ScriptForensicsMacOS, "mac")["parentTaskId"].(string)
	ok := e.execute(winAgent, simulator.ScriptForensicsWindows, "win")["parentTaskId"].(string)
	local := e.json("POST", apiURL+"/remote-scripts/execute", execBody(noVSSAgent, simulator.ScriptProcessList, "Local", "ps"), 200)["data"].(obj)["parentTaskId"].(string)
	e.clock.Advance(delay)
	ft := e.task(failed)
	equal(t, ft["status"].(string), "failed", "failed")
	equal(t, ft["statusDescription"].(string), "Failed: SIP blocked the collector", "why")

	ids := []string{e.task(ok)["id"].(string), ft["id"].(string), e.task(local)["id"].(string), "1990000000000009999"}
	res := e.json("POST", apiURL+"/remote-scripts/fetch-files", obj{"data": obj{"taskIds": ids}}, 200)
	links := get(res, "data.data.downloadLinks").([]any)
	errs := get(res, "data.data.errors").([]any)
	equal(t, len(links), 1, "one link")
	equal(t, links[0].(obj)["taskId"].(string), ids[0], "link for the completed cloud task")
	var msgs []string
	for _, it := range errs {
		msgs = append(msgs, it.(obj)["taskId"].(string)+": "+it.(obj)["errorString"].(string))
	}
	equal(t, strings.Join(msgs, " | "), ids[1]+": task is not completed (status failed) | "+
		ids[2]+": output was not sent to the cloud (outputDestination Local) | "+ids[3]+": task not found", "errors")

	// The link serves the output without the API token.
	url := links[0].(obj)["downloadUrl"].(string)
	status, raw := e.doAuth("GET", strings.TrimPrefix(url, e.srv.URL), nil, "")
	equal(t, status, 200, "download")
	equal(t, string(raw[:2]), "PK", "a zip")

	// By computer name.
	res = e.json("POST", apiURL+"/remote-scripts/fetch-files", obj{"data": obj{"computerNames": []string{"win-s"}}}, 200)
	equal(t, len(get(res, "data.data.downloadLinks").([]any)), 1, "by computer name")
	e.errorDetails("POST", apiURL+"/remote-scripts/fetch-files", obj{"data": obj{}}, 400)
}

func TestScriptRateLimitClass(t *testing.T) {
	e := scriptEnv(t, func(o *simulator.Options) { o.EnforceRateLimits = true })
	for i := range 30 {
		if status, _ := e.do("GET", apiURL+"/remote-scripts", nil); status != 200 {
			t.Fatalf("call %d: %d", i+1, status)
		}
	}
	status, retry, _, err := e.raw("POST", apiURL+"/remote-scripts/fetch-files", `{"data":{"taskIds":["1"]}}`)
	if err != nil || status != 429 || retry != "1" {
		t.Fatalf("31st call: %d retry %q %v", status, retry, err)
	}
	equal(t, e.sim.Counters().RateLimitViolations[simulator.ClassRemoteScripts], 1, "violation counted")
	e.clock.Advance(time.Second)
	if status, _ := e.do("GET", apiURL+"/remote-scripts", nil); status != 200 {
		t.Fatalf("after a second: %d", status)
	}
}
