package s1client

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// Agents of the remote-scripts console: the demo scenario's, plus a Mac, an offline Windows
// desktop and one whose name makes every script fail.
const (
	rsWindows = "1900000000000000001" // FIN-FS-01 (demo)
	rsLinux   = "1900000000000000004" // web-prod-03 (demo)
	rsMac     = "1900000000000000101"
	rsOffline = "1900000000000000102"
	rsFailing = "1900000000000000103"
)

const scriptDelay = 8 * time.Second

type scriptConsole struct {
	c     *Client
	sim   *simulator.Simulator
	clock *fakeclock.Clock
	url   string
}

func newScriptConsole(t *testing.T, opts simulator.Options) *scriptConsole {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	base := sc.Agents[0]
	add := func(id, name, os string, online bool) {
		a := base
		a.ID, a.UUID, a.ComputerName, a.OSType, a.Online = id, "uuid"+id, name, os, &online
		sc.Agents = append(sc.Agents, a)
	}
	add(rsMac, "DESIGN-MBP-11", "macos", true)
	add(rsOffline, "ACCT-DT-033", "windows", false)
	add(rsFailing, "LAB-forensics-fail-01", "windows", true)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	opts.Token, opts.Now = testToken, clock.Now
	if opts.ScriptDelay == 0 {
		opts.ScriptDelay = scriptDelay
	}
	sim, err := simulator.New(sc, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken, WithoutRateLimits())
	require.NoError(t, err)
	return &scriptConsole{c: c, sim: sim, clock: clock, url: srv.URL}
}

// only returns the one task of an execution on one agent.
func (sc *scriptConsole) only(t *testing.T, parentTaskID string) RemoteScriptTask {
	t.Helper()
	tasks, err := sc.c.RemoteScriptTasks(context.Background(), parentTaskID)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	return tasks[0]
}

func forensics(agentID, scriptID, marker string) RemoteScriptRequest {
	return RemoteScriptRequest{
		AgentID: agentID, ScriptID: scriptID, OutputDestination: OutputDestinationSentinelCloud,
		TaskDescription: "s1copilot forensic collection " + marker,
	}
}

func TestRemoteScriptLifecycleAgainstSimulator(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{})
	ctx := context.Background()
	t0 := sc.clock.Now()

	lib, err := sc.c.RemoteScripts(ctx)
	require.NoError(t, err)
	byID := map[string]RemoteScript{}
	for _, s := range lib {
		byID[s.ID] = s
	}
	require.Contains(t, byID, simulator.ScriptForensicsWindows)
	assert.True(t, byID[simulator.ScriptForensicsWindows].Supports("windows"))
	assert.True(t, byID[simulator.ScriptForensicsWindows].Supports("windows_legacy"))
	assert.False(t, byID[simulator.ScriptForensicsWindows].Supports("linux"))
	assert.Equal(t, []string{"linux"}, byID[simulator.ScriptForensicsLinux].OSTypes)
	assert.Equal(t, []string{"macos"}, byID[simulator.ScriptForensicsMacOS].OSTypes)
	assert.True(t, byID[simulator.ScriptMemoryDumpWindows].RequiresApproval)
	assert.False(t, byID[simulator.ScriptForensicsWindows].RequiresApproval)
	assert.Equal(t, "artifactCollection", byID[simulator.ScriptForensicsWindows].ScriptType)

	ex, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsWindows, simulator.ScriptForensicsWindows, "[inv-1]"))
	require.NoError(t, err)
	assert.Equal(t, 1, ex.Affected)
	assert.False(t, ex.Pending)
	assert.Empty(t, ex.PendingExecutionID)
	require.NotEmpty(t, ex.ParentTaskID)

	// created → pending (D/4) → in_progress (D/2) → completed (D), timestamps exact.
	task := sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusCreated, task.Status)
	assert.Equal(t, rsWindows, task.AgentID)
	assert.Equal(t, "FIN-FS-01", task.AgentComputerName)
	assert.Equal(t, "windows", task.AgentOSType)
	assert.True(t, task.AgentIsActive)
	assert.Equal(t, "s1copilot forensic collection [inv-1]", task.Description)
	assert.Equal(t, ex.ParentTaskID, task.ParentTaskID)
	assert.Equal(t, t0, task.CreatedAt)
	assert.False(t, task.Done())

	// Output is not there before completion.
	files, fileErrs, err := sc.c.FetchRemoteScriptFiles(ctx, []string{task.ID})
	require.NoError(t, err)
	assert.Empty(t, files)
	require.Len(t, fileErrs, 1)
	assert.Equal(t, task.ID, fileErrs[0].TaskID)
	assert.Contains(t, fileErrs[0].Error, "task is not completed")

	for _, step := range []struct {
		after  time.Duration
		status string
	}{{scriptDelay / 4, RemoteScriptStatusPending}, {scriptDelay / 4, RemoteScriptStatusInProgress}, {scriptDelay / 2, RemoteScriptStatusCompleted}} {
		sc.clock.Advance(step.after)
		task = sc.only(t, ex.ParentTaskID)
		assert.Equal(t, step.status, task.Status)
		assert.Equal(t, sc.clock.Now(), task.UpdatedAt, step.status)
	}
	assert.True(t, task.Done())
	assert.Equal(t, "Completed", task.StatusDescription)
	assert.Equal(t, "Execution completed successfully", task.DetailedStatus)

	files, fileErrs, err = sc.c.FetchRemoteScriptFiles(ctx, []string{task.ID})
	require.NoError(t, err)
	assert.Empty(t, fileErrs)
	require.Len(t, files, 1)
	assert.Equal(t, task.ID, files[0].TaskID)
	assert.True(t, strings.HasSuffix(files[0].FileName, ".zip"), files[0].FileName)
	// The link is pre-authorised: a plain GET without the token downloads it.
	resp, err := http.Get(files[0].DownloadURL)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)

	// Output kept on the endpoint has no link.
	local := forensics(rsWindows, simulator.ScriptForensicsWindows, "[inv-1-local]")
	local.OutputDestination = OutputDestinationLocal
	ex2, err := sc.c.ExecuteRemoteScript(ctx, local)
	require.NoError(t, err)
	sc.clock.Advance(scriptDelay)
	task2 := sc.only(t, ex2.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusCompleted, task2.Status)
	files, fileErrs, err = sc.c.FetchRemoteScriptFiles(ctx, []string{task.ID, task2.ID})
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Len(t, fileErrs, 1)
	assert.Equal(t, task2.ID, fileErrs[0].TaskID)
	assert.Contains(t, fileErrs[0].Error, "output was not sent to the cloud")

	counters := sc.sim.Counters()
	assert.Equal(t, 2, counters.ScriptExecutions[rsWindows][simulator.ScriptForensicsWindows])
	assert.Equal(t, 2, counters.Requests["POST /web/api/v2.1/remote-scripts/execute"])
}

func TestRemoteScriptOfflineAgent(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{ScriptTaskExpiry: 10 * time.Minute})
	ctx := context.Background()

	ex, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsOffline, simulator.ScriptForensicsWindows, "[off-1]"))
	require.NoError(t, err)
	sc.clock.Advance(5 * time.Minute)
	task := sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusPending, task.Status, "held until the agent comes back")
	assert.False(t, task.AgentIsActive)

	// Back online: it runs from that moment.
	require.NoError(t, sc.sim.SetAgentOnline(rsOffline, true))
	back := sc.clock.Now()
	sc.clock.Advance(scriptDelay / 2)
	assert.Equal(t, RemoteScriptStatusInProgress, sc.only(t, ex.ParentTaskID).Status)
	sc.clock.Advance(scriptDelay / 2)
	task = sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusCompleted, task.Status)
	assert.Equal(t, back.Add(scriptDelay), task.UpdatedAt)

	// Offline past the expiry: expired, and it stays so when the agent returns.
	require.NoError(t, sc.sim.SetAgentOnline(rsOffline, false))
	ex, err = sc.c.ExecuteRemoteScript(ctx, forensics(rsOffline, simulator.ScriptForensicsWindows, "[off-2]"))
	require.NoError(t, err)
	start := sc.clock.Now()
	sc.clock.Advance(11 * time.Minute)
	require.NoError(t, sc.sim.SetAgentOnline(rsOffline, true))
	sc.clock.Advance(scriptDelay)
	task = sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusExpired, task.Status)
	assert.Equal(t, start.Add(10*time.Minute), task.UpdatedAt)
	assert.True(t, task.Done())
}

func TestRemoteScriptApproval(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{})
	ctx := context.Background()

	ex, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsWindows, simulator.ScriptMemoryDumpWindows, "[mem-1]"))
	require.NoError(t, err)
	assert.True(t, ex.Pending)
	require.NotEmpty(t, ex.PendingExecutionID)
	require.NotEmpty(t, ex.ParentTaskID)
	sc.clock.Advance(time.Minute)
	task := sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusPendingUserAction, task.Status)
	assert.False(t, task.Done())

	require.NoError(t, sc.sim.ApproveScriptExecution(ex.PendingExecutionID, true))
	assert.Error(t, sc.sim.ApproveScriptExecution(ex.PendingExecutionID, true), "decided once")
	sc.clock.Advance(scriptDelay)
	assert.Equal(t, RemoteScriptStatusCompleted, sc.only(t, ex.ParentTaskID).Status)

	// Declined: canceled.
	ex, err = sc.c.ExecuteRemoteScript(ctx, forensics(rsWindows, simulator.ScriptMemoryDumpWindows, "[mem-2]"))
	require.NoError(t, err)
	require.NoError(t, sc.sim.ApproveScriptExecution(ex.PendingExecutionID, false))
	task = sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusCanceled, task.Status)
	assert.True(t, task.Done())
	assert.Contains(t, task.DetailedStatus, "declined")
}

// With StrictPendingExecutions the simulator answers as the vendor schema describes: no
// parentTaskId while the execution waits; once approved, the activity log finds it.
func TestRemoteScriptApprovalStrict(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{StrictPendingExecutions: true})
	ctx := context.Background()
	since := sc.clock.Now().Add(-time.Second)

	ex, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsWindows, simulator.ScriptMemoryDumpWindows, "[strict-1]"))
	require.NoError(t, err, "pending, so no ErrNotFound although parentTaskId is null")
	assert.True(t, ex.Pending)
	assert.Empty(t, ex.ParentTaskID)
	assert.Equal(t, 1, ex.Affected)
	_, found, err := sc.c.FindRemoteScriptTask(ctx, rsWindows, "[strict-1]", since)
	require.NoError(t, err)
	assert.False(t, found, "nothing runs before approval")

	require.NoError(t, sc.sim.ApproveScriptExecution(ex.PendingExecutionID, true))
	parent, found, err := sc.c.FindRemoteScriptTask(ctx, rsWindows, "[strict-1]", since)
	require.NoError(t, err)
	require.True(t, found)
	sc.clock.Advance(scriptDelay)
	assert.Equal(t, RemoteScriptStatusCompleted, sc.only(t, parent).Status)
}

func TestRemoteScriptFailures(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{})
	ctx := context.Background()

	ex, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsFailing, simulator.ScriptForensicsWindows, "[fail-1]"))
	require.NoError(t, err)
	sc.clock.Advance(scriptDelay)
	task := sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusFailed, task.Status)
	assert.True(t, task.Done())
	assert.Contains(t, task.StatusDescription, "forensics-fail", "says why")

	require.NoError(t, sc.sim.SetScriptFailure(rsLinux, simulator.ScriptForensicsLinux, "disk full"))
	ex, err = sc.c.ExecuteRemoteScript(ctx, forensics(rsLinux, simulator.ScriptForensicsLinux, "[fail-2]"))
	require.NoError(t, err)
	sc.clock.Advance(scriptDelay)
	task = sc.only(t, ex.ParentTaskID)
	assert.Equal(t, RemoteScriptStatusFailed, task.Status)
	assert.Contains(t, task.StatusDescription, "disk full")

	// The Mac runs its own script; another OS's script is refused with a clear reason.
	ex, err = sc.c.ExecuteRemoteScript(ctx, forensics(rsMac, simulator.ScriptForensicsMacOS, "[mac-1]"))
	require.NoError(t, err)
	sc.clock.Advance(scriptDelay)
	assert.Equal(t, RemoteScriptStatusCompleted, sc.only(t, ex.ParentTaskID).Status)
	_, err = sc.c.ExecuteRemoteScript(ctx, forensics(rsMac, simulator.ScriptForensicsWindows, "[mac-2]"))
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "runs on windows only")
	assert.Contains(t, err.Error(), "DESIGN-MBP-11")

	// Unknown script: 400; unknown agent: nothing matched.
	_, err = sc.c.ExecuteRemoteScript(ctx, forensics(rsMac, "1959999999999999999", "[x]"))
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "no script with id")
	_, err = sc.c.ExecuteRemoteScript(ctx, forensics("1999999999999999999", simulator.ScriptForensicsWindows, "[x]"))
	require.ErrorIs(t, err, ErrNotFound)

	counters := sc.sim.Counters()
	assert.Equal(t, 1, counters.ScriptExecutions[rsFailing][simulator.ScriptForensicsWindows])
	assert.Equal(t, 1, counters.ScriptExecutions[rsMac][simulator.ScriptForensicsMacOS])
	assert.Zero(t, counters.ScriptExecutions[rsMac][simulator.ScriptForensicsWindows], "refused: no execution")
}

func TestRemoteScriptStatusNeedsParentTaskID(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{})
	ctx := context.Background()

	// The client refuses before sending…
	_, err := sc.c.RemoteScriptTasks(ctx, "")
	require.ErrorIs(t, err, ErrValidation)
	assert.Zero(t, sc.sim.Counters().Requests["GET /web/api/v2.1/remote-scripts/status"])

	// …because the console answers 400, saying what is missing.
	err = sc.c.do(ctx, request{method: http.MethodGet, path: "/remote-scripts/status", tmpl: "/remote-scripts/status"}, nil)
	require.ErrorIs(t, err, ErrValidation)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	require.Len(t, apiErr.Errors, 1)
	assert.Equal(t, 4000010, apiErr.Errors[0].Code)
	assert.Contains(t, apiErr.Errors[0].Detail, "parentTaskId or parentTaskId__in")
}

func TestFindRemoteScriptTaskAgainstSimulator(t *testing.T) {
	sc := newScriptConsole(t, simulator.Options{})
	ctx := context.Background()
	since := sc.clock.Now().Add(-time.Second)

	exWin, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsWindows, simulator.ScriptForensicsWindows, "[inv-A/step-3]"))
	require.NoError(t, err)
	sc.clock.Advance(time.Second)
	exLnx, err := sc.c.ExecuteRemoteScript(ctx, forensics(rsLinux, simulator.ScriptForensicsLinux, "[inv-B/step-3]"))
	require.NoError(t, err)
	sc.clock.Advance(time.Second)

	parent, found, err := sc.c.FindRemoteScriptTask(ctx, rsWindows, "[inv-A/step-3]", since)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, exWin.ParentTaskID, parent)

	parent, found, err = sc.c.FindRemoteScriptTask(ctx, rsLinux, "[inv-B/step-3]", since)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, exLnx.ParentTaskID, parent)

	for name, tc := range map[string]struct {
		agent, marker string
		since         time.Time
	}{
		"another agent's execution": {rsLinux, "[inv-A/step-3]", since},
		"another marker":            {rsWindows, "[inv-B/step-3]", since},
		"no such marker":            {rsWindows, "[inv-C/step-3]", since},
		"started before since":      {rsWindows, "[inv-A/step-3]", sc.clock.Now()},
	} {
		parent, found, err := sc.c.FindRemoteScriptTask(ctx, tc.agent, tc.marker, tc.since)
		require.NoError(t, err, name)
		assert.False(t, found, name)
		assert.Empty(t, parent, name)
	}

	_, _, err = sc.c.FindRemoteScriptTask(ctx, rsWindows, " ", since)
	assert.ErrorIs(t, err, ErrValidation)
}

// FindRemoteScriptTask's query, its fallbacks and its refusal to report "not found" for an
// execution it cannot track, on hand-written activity pages.
func TestFindRemoteScriptTaskActivityShapes(t *testing.T) {
	ctx := context.Background()
	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	page := func(items ...string) string {
		return `{"data":[` + strings.Join(items, ",") + `],"pagination":{"nextCursor":null,"totalItems":` + strconv.Itoa(len(items)) + `}}`
	}
	act := func(agent, data, secondary string) string {
		return `{"id":"7","activityType":3618,"agentId":"` + agent + `","primaryDescription":"The management user x initiated a script.",` +
			`"secondaryDescription":` + secondary + `,"createdAt":"2025-03-01T12:00:01.000000Z","data":` + data + `}`
	}

	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, page(
			act("2", `{"taskDescription":"run [m1]","parentTaskId":"111"}`, `null`), // another agent: ignored
			act("1", `{"taskDescription":"run [m0]","parentTaskId":"222"}`, `null`),
			act("1", `{"parentTaskId":333}`, `"run [m1]"`), // no taskDescription: the description matches; a numeric ID
			act("1", `{"taskDescription":"run [m1]","parentTaskId":"444"}`, `null`),
		))
	})
	parent, found, err := c.FindRemoteScriptTask(ctx, "1", "[m1]", since)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "333", parent, "oldest match, ID kept as digits")
	q := rec.all()[0].Query
	assert.Equal(t, []string{"3618"}, q["activityTypes"])
	assert.Equal(t, []string{"1"}, q["agentIds"])
	assert.Equal(t, []string{"2025-03-01T12:00:00.000000Z"}, q["createdAt__gt"])
	assert.Equal(t, "/web/api/v2.1/activities", rec.all()[0].Path)

	c, _ = newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, page(act("1", `{"taskDescription":"run [m1]"}`, `null`)))
	})
	_, found, err = c.FindRemoteScriptTask(ctx, "1", "[m1]", since)
	assert.False(t, found)
	require.ErrorIs(t, err, ErrBadResponse, "ran but untrackable: never 'not found'")
	assert.Contains(t, err.Error(), "parentTaskId")
}

func TestRemoteScriptClientChecks(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) })
	ctx := context.Background()
	ok := forensics("1", "2", "[m]")
	for name, mutate := range map[string]func(*RemoteScriptRequest){
		"no agent":       func(r *RemoteScriptRequest) { r.AgentID = "" },
		"no script":      func(r *RemoteScriptRequest) { r.ScriptID = " " },
		"no description": func(r *RemoteScriptRequest) { r.TaskDescription = "" },
		"bad output":     func(r *RemoteScriptRequest) { r.OutputDestination = "S3" },
		"no output":      func(r *RemoteScriptRequest) { r.OutputDestination = "" },
		"negative time":  func(r *RemoteScriptRequest) { r.TimeoutSeconds = -1 },
	} {
		req := ok
		mutate(&req)
		_, err := c.ExecuteRemoteScript(ctx, req)
		assert.ErrorIs(t, err, ErrValidation, name)
	}
	_, _, err := c.FetchRemoteScriptFiles(ctx, nil)
	assert.ErrorIs(t, err, ErrValidation)
	_, _, err = c.FindRemoteScriptTask(ctx, "", "[m]", time.Time{})
	assert.ErrorIs(t, err, ErrValidation)
	assert.Empty(t, rec.all(), "nothing sent")

	for status, done := range map[string]bool{
		"created": false, "scheduled": false, "pending": false, "pending_user_action": false, "in_progress": false,
		"completed": true, "failed": true, "expired": true, "canceled": true, "partially_completed": true, "new_state": false,
	} {
		assert.Equal(t, done, RemoteScriptDone(status), status)
	}
}

func TestExecuteRemoteScriptBody(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":{"affected":1,"parentTaskId":1234567890123456789,"pending":"False","pendingExecutionId":null}}`)
	})
	req := forensics("1", "2", "[m]")
	req.InputParams, req.TimeoutSeconds = "-Days 3", 900
	ex, err := c.ExecuteRemoteScript(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, RemoteScriptExecution{ParentTaskID: "1234567890123456789", Affected: 1}, ex)
	r := rec.all()[0]
	assert.Equal(t, "/web/api/v2.1/remote-scripts/execute", r.Path)
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body))
	assert.Equal(t, map[string]any{
		"filter": map[string]any{"ids": []any{"1"}},
		"data": map[string]any{
			"scriptId": "2", "taskDescription": "s1copilot forensic collection [m]", "outputDestination": "SentinelCloud",
			"inputParams": "-Days 3", "scriptRuntimeTimeoutSeconds": float64(900),
		},
	}, body)

	// Optional fields are left out when unset.
	req.InputParams, req.TimeoutSeconds = "", 0
	_, err = c.ExecuteRemoteScript(context.Background(), req)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rec.all()[1].Body, &body))
	assert.NotContains(t, body["data"], "inputParams")
	assert.NotContains(t, body["data"], "scriptRuntimeTimeoutSeconds")
}

func TestFetchRemoteScriptFilesShapes(t *testing.T) {
	for name, answer := range map[string]string{
		"documented": `{"data":{"data":{"downloadLinks":[{"taskId":"1","fileName":"a.zip","downloadUrl":"https://x/a"}],"errors":[{"taskId":2,"errorString":"nope"}]}}}`,
		"flatter":    `{"data":{"downloadLinks":[{"taskId":"1","fileName":"a.zip","downloadUrl":"https://x/a"}],"errors":[{"taskId":"2","errorString":"nope"}]}}`,
	} {
		c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, answer) })
		files, errs, err := c.FetchRemoteScriptFiles(context.Background(), []string{"1", "2"})
		require.NoError(t, err, name)
		assert.Equal(t, []RemoteScriptFile{{TaskID: "1", FileName: "a.zip", DownloadURL: "https://x/a"}}, files, name)
		assert.Equal(t, []RemoteScriptFileError{{TaskID: "2", Error: "nope"}}, errs, name)
		assert.JSONEq(t, `{"data":{"taskIds":["1","2"]}}`, string(rec.all()[0].Body), name)
	}
}

// The simulator enforces the class the client limits itself to, with the same numbers.
func TestRemoteScriptsRateLimitClass(t *testing.T) {
	doc := DocumentedRateLimits()[ClassRemoteScripts]
	sim := simulator.DefaultRateLimits()[simulator.ClassRemoteScripts]
	assert.Equal(t, Limit{RPS: 1, Burst: 30}, doc)
	assert.Equal(t, doc.RPS, sim.RPS)
	assert.Equal(t, doc.Burst, sim.Burst)

	// Without local limits, the 31st call in the same instant is refused by the console.
	sc := newScriptConsole(t, simulator.Options{EnforceRateLimits: true})
	ctx := context.Background()
	for i := range doc.Burst {
		_, err := sc.c.RemoteScripts(ctx)
		require.NoError(t, err, "call %d", i+1)
	}
	_, err := sc.c.RemoteScriptTasks(ctx, "1990000000000000001")
	require.ErrorIs(t, err, ErrRateLimited)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Positive(t, apiErr.RetryDelay())
	assert.Equal(t, 1, sc.sim.Counters().RateLimitViolations[simulator.ClassRemoteScripts])
}

// With its default limits the client spaces /remote-scripts calls so that a console
// enforcing 1 rps / burst 30 (on the real clock) refuses none: 32 calls, two beyond the burst.
func TestRemoteScriptsClientStaysUnderTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 2.5 s")
	}
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: testToken, EnforceRateLimits: true})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken) // default limits
	require.NoError(t, err)
	ctx := context.Background()
	start := time.Now()
	for i := range 32 {
		_, err := c.RemoteScriptTasks(ctx, "1990000000000000001")
		if err != nil && !errors.Is(err, ErrNotFound) {
			require.NoError(t, err, "call %d", i+1)
		}
	}
	assert.Empty(t, sim.Counters().RateLimitViolations)
	assert.Equal(t, 32, sim.Counters().Requests["GET /web/api/v2.1/remote-scripts/status"])
	// Two calls beyond the burst at 0.8 rps (SafetyMargin): at least 2.5 s minus scheduling slack.
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second)
}

func TestRemoteScriptTaskLenientDecode(t *testing.T) {
	var task RemoteScriptTask
	require.NoError(t, decodeJSON([]byte(`{"id":1234567890123456789,"parentTaskId":"5","status":"failed","statusCode":3,`+
		`"statusDescription":{"readable":"Failed","code":3},"agentIsActive":"True","agentIsDecommissioned":null,`+
		`"createdAt":"2024-07-30T06:43:22Z","updatedAt":null,"unknownField":[1]}`), &task))
	assert.Equal(t, "1234567890123456789", task.ID)
	assert.Equal(t, "3", task.StatusCode)
	assert.Equal(t, `{"readable":"Failed","code":3}`, task.StatusDescription, "an object is kept as its JSON")
	assert.True(t, task.AgentIsActive)
	assert.True(t, task.UpdatedAt.IsZero())
	assert.True(t, task.Done())

	var s RemoteScript
	require.NoError(t, decodeJSON([]byte(`{"id":42,"scriptName":"x","osTypes":["windows","linux"],"requiresApproval":"true","scriptRuntimeTimeoutSeconds":"60"}`), &s))
	assert.Equal(t, RemoteScript{ID: "42", ScriptName: "x", OSTypes: []string{"windows", "linux"}, RequiresApproval: true, TimeoutSeconds: 60}, s)
}
