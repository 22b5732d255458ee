package simulator

// RemoteOps scripts (API reference §7): a script library, executions on agents, their
// tasks' progress on the simulator clock, output links, approvals.
//
// Endpoints (all in the "remote-scripts" rate-limit class, 1 rps burst 30):
//
//	GET  /remote-scripts                                the library (osTypes, scriptType, ids, query; paging)
//	POST /remote-scripts/execute                        run a script on the agents of filter
//	GET  /remote-scripts/status                         tasks; parentTaskId or parentTaskId__in mandatory
//	POST /remote-scripts/fetch-files                    download links for tasks' output
//	GET  /remote-scripts/pending-executions             executions held for approval
//	PUT  /remote-scripts/pending-executions/{id}        {"data":{"action":"approve"|"decline"}}
//
// Task life (Options.ScriptDelay = D, Options.ScriptTaskExpiry = E), like mitigations it is
// computed lazily from the clock: created at execution; pending after D/4 (queued for the
// agent); in_progress after D/2; completed or failed after D. An offline agent holds its task
// in pending until it comes back (then in_progress after D/2 and done after D from that
// moment); a task its agent has not started within E of its creation ends expired. An
// execution that needs approval shows its tasks as pending_user_action until approved (then
// it runs as above, E counting from the approval) or declined (canceled); unapproved, it
// expires after E. The order and the durations are simulator choices: the reference gives
// the statuses, not their timing.
//
// Failures: a task fails ("failed", statusDescription saying why) when its agent's
// computerName contains ScriptFailMarker, or when a rule set with SetScriptFailure
// (POST /sim/remote-scripts/failures) matches its agent and/or script.

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
)

// IDs of the seeded script library (GET /remote-scripts). Console script IDs are decimal
// strings like every other ID.
const (
	// ScriptForensicsWindows collects forensic artifacts on Windows (artifactCollection).
	ScriptForensicsWindows = "1950000000000000001"
	// ScriptForensicsLinux collects forensic artifacts on Linux.
	ScriptForensicsLinux = "1950000000000000002"
	// ScriptForensicsMacOS collects forensic artifacts on macOS.
	ScriptForensicsMacOS = "1950000000000000003"
	// ScriptMemoryDumpWindows acquires full memory on Windows; it requires approval.
	ScriptMemoryDumpWindows = "1950000000000000004"
	// ScriptProcessList lists running processes on any OS.
	ScriptProcessList = "1950000000000000005"
)

// DefaultScriptTaskExpiry is the ScriptTaskExpiry used when Options leaves it 0.
const DefaultScriptTaskExpiry = 10 * time.Minute

// ScriptFailMarker: every script run on an agent whose computerName contains it (case
// insensitively) fails, so a scenario can stage a failed collection without code.
const ScriptFailMarker = "forensics-fail"

// Task statuses (DD TasksSchemasTaskSchemaMany200Data). created, pending,
// pending_user_action, in_progress and the final ones are produced; scheduled and
// partially_completed are accepted as filter values only.
const (
	taskCreated           = "created"
	taskScheduled         = "scheduled"
	taskPending           = "pending"
	taskPendingUserAction = "pending_user_action"
	taskInProgress        = "in_progress"
	taskCompleted         = "completed"
	taskFailed            = "failed"
	taskCanceled          = "canceled"
	taskExpired           = "expired"
	taskPartial           = "partially_completed"
)

var (
	taskStatuses = []string{taskCreated, taskScheduled, taskPending, taskPendingUserAction, taskInProgress,
		taskFailed, taskCompleted, taskCanceled, taskExpired, taskPartial}
	outputDestinations = []string{"SentinelCloud", "Local", "None", "SingularityXDR"}
)

// activityScriptInitiated is 3618 "Script Action Initiated" (SEKOIA dictionary).
const activityScriptInitiated = 3618

type remoteScript struct {
	id, name, scriptType, description, fileName string
	osTypes                                     []string
	// requiresApproval is our stand-in for the console's approval guardrails (whose
	// configuration the simulator does not serve): executions of such a script wait for
	// approval. It is rendered as a simulator-only field of the library item.
	requiresApproval bool
	timeout          int // scriptRuntimeTimeoutSeconds
	seq              uint64
}

// scriptLibrary is the seed of every simulator's library.
var scriptLibrary = []remoteScript{
	{id: ScriptForensicsWindows, name: "Collect forensic artifacts (Windows)", scriptType: "artifactCollection",
		description: "Collects prefetch, amcache, shimcache, event logs, scheduled tasks, services and autoruns.",
		fileName:    "s1c_forensics_windows.ps1", osTypes: []string{"windows"}, timeout: 3600},
	{id: ScriptForensicsLinux, name: "Collect forensic artifacts (Linux)", scriptType: "artifactCollection",
		description: "Collects shell histories, auth and syslog, crontabs, systemd units, running processes and open sockets.",
		fileName:    "s1c_forensics_linux.sh", osTypes: []string{"linux"}, timeout: 3600},
	{id: ScriptForensicsMacOS, name: "Collect forensic artifacts (macOS)", scriptType: "artifactCollection",
		description: "Collects unified logs, launch agents and daemons, quarantine events, shell histories and login items.",
		fileName:    "s1c_forensics_macos.sh", osTypes: []string{"macos"}, timeout: 3600},
	{id: ScriptMemoryDumpWindows, name: "Full memory acquisition (Windows)", scriptType: "artifactCollection",
		description: "Acquires a full physical memory image. Large and intrusive: requires approval.",
		fileName:    "s1c_memory_dump_windows.ps1", osTypes: []string{"windows"}, requiresApproval: true, timeout: 7200},
	{id: ScriptProcessList, name: "List running processes", scriptType: "dataCollection",
		description: "Lists running processes with their command lines, parents and hashes.",
		fileName:    "s1c_process_list.py", osTypes: []string{"windows", "macos", "linux"}, timeout: 600},
}

type scriptExecution struct {
	parentID    string
	pendingID   string // "" unless the execution needed approval
	seq         uint64
	script      *remoteScript
	description string
	destination string
	inputParams string
	timeout     int
	user        *consoleUser
	createdAt   time.Time
	approval    string // "" (none needed) | waiting | approved | declined | expired
	reviewer    *consoleUser
	// hidden: Options.StrictPendingExecutions and not approved yet, so no task is listed.
	hidden bool
	tasks  []*scriptTask
}

type scriptTask struct {
	id                   string
	seq                  uint64
	exec                 *scriptExecution
	agent                *agent
	status               string
	statusDesc, detailed string
	createdAt, updatedAt time.Time
	// pendingAt, runAt, doneAt are when it is queued, started and done; expiresAt is when
	// it expires unless started.
	pendingAt, runAt, doneAt, expiresAt time.Time
	awaitingApproval                    bool
	waiting                             bool   // agent offline: runAt/doneAt unknown until it returns
	fail                                string // why it will fail; "" = it completes
}

func (t *scriptTask) final() bool {
	switch t.status {
	case taskCompleted, taskFailed, taskCanceled, taskExpired, taskPartial:
		return true
	}
	return false
}

func (t *scriptTask) set(status string, at time.Time, desc, detailed string) {
	t.status, t.statusDesc, t.detailed = status, desc, detailed
	t.updatedAt = maxTime(t.updatedAt, at)
}

// failureKey is an agent/script pair of SetScriptFailure; "" matches any.
type failureKey struct{ agentID, scriptID string }

type remoteOps struct {
	library  []*remoteScript
	byID     map[string]*remoteScript
	execs    []*scriptExecution
	tasks    map[string]*scriptTask
	pending  map[string]*scriptExecution // by pendingExecutionId
	failures map[failureKey]string
}

// ops returns the RemoteOps state, seeding the library on first use. Callers hold mu.
func (s *Simulator) ops() *remoteOps {
	if s.ro == nil {
		ro := &remoteOps{byID: map[string]*remoteScript{}, tasks: map[string]*scriptTask{},
			pending: map[string]*scriptExecution{}, failures: map[failureKey]string{}}
		for _, tmpl := range scriptLibrary {
			sc := tmpl
			sc.seq = s.nextSeq()
			ro.library = append(ro.library, &sc)
			ro.byID[sc.id] = &sc
		}
		s.ro = ro
	}
	return s.ro
}

func (s *Simulator) scriptExpiry() time.Duration {
	if s.opts.ScriptTaskExpiry > 0 {
		return s.opts.ScriptTaskExpiry
	}
	return DefaultScriptTaskExpiry
}

// settle brings threats, agents and scripts up to now. Callers hold mu.
func (s *Simulator) settle() time.Time {
	now := s.clock()
	s.advance(now)
	s.advanceScripts(now)
	return now
}

// advanceScripts settles every task transition due at now. Callers hold mu.
func (s *Simulator) advanceScripts(now time.Time) {
	if s.ro == nil {
		return
	}
	for _, ex := range s.ro.execs {
		for _, t := range ex.tasks {
			s.advanceTask(t, now)
		}
		if ex.approval == "waiting" && !slices.ContainsFunc(ex.tasks, func(t *scriptTask) bool { return t.awaitingApproval }) {
			ex.approval = "expired"
		}
	}
}

func (s *Simulator) advanceTask(t *scriptTask, now time.Time) {
	if t.final() {
		return
	}
	if t.awaitingApproval {
		if !now.Before(t.expiresAt) {
			t.awaitingApproval = false
			t.set(taskExpired, t.expiresAt, "Expired", "The execution was not approved before it expired")
		}
		return
	}
	notStarted := t.status == taskCreated || t.status == taskPending
	if notStarted && !now.Before(t.expiresAt) && (t.waiting || !t.runAt.Before(t.expiresAt)) {
		t.set(taskExpired, t.expiresAt, "Expired", "The agent did not run the task before it expired")
		return
	}
	if t.status == taskCreated && !now.Before(t.pendingAt) {
		t.set(taskPending, t.pendingAt, "Pending", "Waiting for the agent to run the script")
	}
	if t.waiting {
		return
	}
	if t.status == taskPending && !now.Before(t.runAt) {
		t.set(taskInProgress, t.runAt, "In progress", "The script is running")
	}
	if t.status == taskInProgress && !now.Before(t.doneAt) {
		if t.fail != "" {
			t.set(taskFailed, t.doneAt, "Failed: "+t.fail, t.fail)
		} else {
			t.set(taskCompleted, t.doneAt, "Completed", "Execution completed successfully")
		}
	}
}

// startTask starts a task's life at start: created now, queued after D/4, run from D/2
// to D if its agent is online, held in pending otherwise.
func (s *Simulator) startTask(t *scriptTask, start time.Time) {
	t.awaitingApproval = false
	t.set(taskCreated, start, "Created", "The task was created")
	t.pendingAt = start.Add(s.opts.ScriptDelay / 4)
	t.expiresAt = start.Add(s.scriptExpiry())
	t.waiting = !t.agent.online
	if !t.waiting {
		s.scheduleTask(t, start)
	}
}

// scheduleTask (re)starts the agent side of a task at start. A task already running only
// waits for its end.
func (s *Simulator) scheduleTask(t *scriptTask, start time.Time) {
	t.waiting = false
	if t.status == taskInProgress {
		t.doneAt = start.Add(s.opts.ScriptDelay / 2)
		return
	}
	t.runAt, t.doneAt = start.Add(s.opts.ScriptDelay/2), start.Add(s.opts.ScriptDelay)
}

// scriptsAgentOnline freezes the agent's unfinished tasks when it goes offline and resumes
// them, from now, when it returns. Called by SetAgentOnline with mu held, after the
// agent's state changed.
func (s *Simulator) scriptsAgentOnline(a *agent, online bool, now time.Time) {
	if s.ro == nil {
		return
	}
	s.advanceScripts(now)
	for _, ex := range s.ro.execs {
		for _, t := range ex.tasks {
			if t.agent != a || t.final() || t.awaitingApproval {
				continue
			}
			switch {
			case !online:
				t.waiting = true
			case t.waiting:
				s.scheduleTask(t, now)
			}
		}
	}
}

// scriptFailure says why a run of script on a will fail, "" if it will not.
func (s *Simulator) scriptFailure(a *agent, script *remoteScript) string {
	ro := s.ops()
	for _, k := range []failureKey{{a.sc.ID, script.id}, {a.sc.ID, ""}, {"", script.id}} {
		if reason := ro.failures[k]; reason != "" {
			return reason
		}
	}
	if strings.Contains(strings.ToLower(a.sc.ComputerName), ScriptFailMarker) {
		return fmt.Sprintf("The script exited with code 1: artifact collection failed on %s (simulated: its name contains %q)", a.sc.ComputerName, ScriptFailMarker)
	}
	return ""
}

// recordScriptInitiated writes activity 3618 for one agent of an execution. The reference
// gives only the code; the data fields (parentTaskId, taskDescription, scriptName,
// computerName) and the descriptions are our inference of what the console records.
func (s *Simulator) recordScriptInitiated(ex *scriptExecution, a *agent, at time.Time) {
	s.record(&activity{
		code:      activityScriptInitiated,
		primary:   fmt.Sprintf("The management user %s initiated the script %q on %s.", ex.user.name, ex.script.name, a.sc.ComputerName),
		secondary: ex.description,
		createdAt: at, user: ex.user, agent: a,
		data: map[string]any{
			"parentTaskId": ex.parentID, "taskDescription": ex.description,
			"scriptName": ex.script.name, "computerName": a.sc.ComputerName,
		},
	})
}

// sameOS reports whether a script for osTypes runs on an agent of osType; windows_legacy
// agents run Windows scripts (inference).
func sameOS(osTypes []string, osType string) bool {
	if osType == "windows_legacy" {
		osType = "windows"
	}
	return slices.Contains(osTypes, osType)
}

// --- GET /remote-scripts -------------------------------------------------------------

func (s *Simulator) listRemoteScripts(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "remote-scripts", []string{"id", "scriptName"}, "id")
	ids := q.ids("ids")
	osTypes := q.enums("osTypes", scenario.OSTypes)
	scriptTypes := q.csv("scriptType")
	text, _ := q.str("query")
	ars := q.boolean("isAvailableForArs")
	// The library is global: scope filters are accepted and select every script.
	q.ids("siteIds")
	q.ids("accountIds")
	q.ids("groupIds")
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var rows []row
	for _, sc := range s.ops().library {
		if !in(ids, sc.id) || scriptTypes != nil && !slices.Contains(scriptTypes, sc.scriptType) {
			continue
		}
		if osTypes != nil && !slices.ContainsFunc(sc.osTypes, func(o string) bool { return osTypes[o] }) {
			continue
		}
		if text != "" && !strings.Contains(strings.ToLower(sc.name+" "+sc.description), strings.ToLower(text)) {
			continue
		}
		if ars != nil && *ars {
			continue // none of the seeded scripts is offered to Advanced Response Scripts
		}
		key := idKey(sc.id)
		if lp.sortBy == "scriptName" {
			key = strings.ToLower(sc.name)
		}
		rows = append(rows, row{key: key, id: idKey(sc.id), seq: sc.seq, obj: sc})
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderScript(o.(*remoteScript)) })
}

func (s *Simulator) renderScript(sc *remoteScript) map[string]any {
	at := s.tokenCreatedAt.Add(-30 * 24 * time.Hour)
	return map[string]any{
		"id": sc.id, "scriptName": sc.name, "scriptType": sc.scriptType, "scriptDescription": sc.description,
		"osTypes": sc.osTypes, "inputRequired": false, "inputInstructions": "", "inputExample": "",
		"scriptRuntimeTimeoutSeconds": sc.timeout, "supportedDestinations": outputDestinations,
		"fileName": "/scripts/" + sc.fileName, "shortFileName": sc.fileName, "fileSize": 4096 + len(sc.description),
		"signature": scenario.FakeHex(sc.id+"sig", 64), "signatureType": "SHA256", "version": "1",
		"scopeLevel": "global", "scopeId": nil, "scopeName": "Global", "scopePath": "Global",
		"creator": "SentinelOne", "creatorId": nil, "createdByUser": "SentinelOne", "createdByUserId": nil,
		"updater": nil, "updaterId": nil, "createdAt": ts(at), "updatedAt": ts(at),
		"isAvailableForArs": false, "isAvailableForLite": false, "outputFilePaths": []string{},
		"bucketName": nil, "mgmtId": nil,
		"requiresApproval": sc.requiresApproval, // simulator-only, see remoteScript
	}
}

// --- POST /remote-scripts/execute ----------------------------------------------------

// scriptExecuteData is data of the execute body: every field the vendor schema lists
// (DD CloudProxyRemoteScriptsExecuteScriptSchemaData) is accepted, so a client sending one
// the simulator ignores is not refused as "Unknown field".
type scriptExecuteData struct {
	ScriptID                    *string         `json:"scriptId"`
	TaskDescription             *string         `json:"taskDescription"`
	OutputDestination           *string         `json:"outputDestination"`
	OutputDirectory             string          `json:"outputDirectory"`
	InputParams                 string          `json:"inputParams"`
	ScriptRuntimeTimeoutSeconds *int            `json:"scriptRuntimeTimeoutSeconds"`
	RequiresApproval            *bool           `json:"requiresApproval"`
	OutputFilePaths             []string        `json:"outputFilePaths"`
	Password                    string          `json:"password"`
	PasswordFromScope           json.RawMessage `json:"passwordFromScope"`
	DestinationProfileID        string          `json:"destinationProfileId"`
	DestinationProfileKeyword   string          `json:"destinationProfileKeyword"`
	SingularityXDRKeyword       string          `json:"singularityxdrKeyword"`
	SingularityXDRURL           string          `json:"singularityxdrUrl"`
	APIKey                      string          `json:"apiKey"`
}

func (s *Simulator) postScriptExecute(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var data scriptExecuteData
	f, ok := readAction(w, r, []string{"ids", "siteIds", "accountIds", "groupIds"}, &data)
	if !ok {
		return
	}
	var errs []apiError
	required := func(field string, v *string) string {
		switch {
		case v == nil:
			errs = append(errs, validationError("data.%s: Missing data for required field.", field))
		case strings.TrimSpace(*v) == "":
			errs = append(errs, validationError("data.%s: Field may not be empty.", field))
		default:
			return *v
		}
		return ""
	}
	scriptID := required("scriptId", data.ScriptID)
	description := required("taskDescription", data.TaskDescription)
	destination := required("outputDestination", data.OutputDestination)
	if destination != "" && !slices.Contains(outputDestinations, destination) {
		errs = append(errs, validationError("data.outputDestination: Must be one of: %s.", strings.Join(outputDestinations, ", ")))
	}
	timeout := 0
	if data.ScriptRuntimeTimeoutSeconds != nil {
		// The bound is an inference: a run needs at least a second.
		if timeout = *data.ScriptRuntimeTimeoutSeconds; timeout < 1 {
			errs = append(errs, validationError("data.scriptRuntimeTimeoutSeconds: Must be greater than or equal to 1."))
		}
	}
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.settle()
	ro := s.ops()
	script := ro.byID[scriptID]
	if script == nil {
		writeErrors(w, http.StatusBadRequest, validationError("data.scriptId: no script with id %q in the script library (GET /remote-scripts lists them).", scriptID))
		return
	}
	var targets []*agent
	for _, a := range s.agents {
		if in(f.ids, a.sc.ID) && in(f.siteIDs, a.sc.SiteID) && in(f.accountIDs, a.sc.AccountID) && in(f.groupIDs, a.sc.GroupID) {
			targets = append(targets, a)
		}
	}
	slices.SortFunc(targets, func(x, y *agent) int { return cmp.Compare(idKey(x.sc.ID), idKey(y.sc.ID)) })
	// Refusing the whole request on an OS mismatch, rather than skipping the agent, is an
	// inference: it is what makes a wrong script choice visible to the caller.
	for _, a := range targets {
		if !sameOS(script.osTypes, a.sc.OSType) {
			errs = append(errs, validationError("data.scriptId: script %q (%s) runs on %s only; agent %s (%s) is %s.",
				script.name, script.id, strings.Join(script.osTypes, ", "), a.sc.ComputerName, a.sc.ID, a.sc.OSType))
		}
	}
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	if len(targets) == 0 {
		// Nothing matched: no execution (what a console answers here is unverified).
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"affected": 0, "parentTaskId": nil, "pending": false, "pendingExecutionId": nil}})
		return
	}
	timeoutSecs := script.timeout
	if timeout > 0 {
		timeoutSecs = timeout
	}
	ex := &scriptExecution{
		parentID: s.allocID(), seq: s.nextSeq(), script: script, description: description, destination: destination,
		inputParams: data.InputParams, timeout: timeoutSecs, user: apiUser, createdAt: now,
	}
	// data.requiresApproval can ask for approval, not waive the script's (inference).
	pending := script.requiresApproval || data.RequiresApproval != nil && *data.RequiresApproval
	if pending {
		ex.pendingID, ex.approval = s.allocID(), "waiting"
		ex.hidden = s.opts.StrictPendingExecutions
		ro.pending[ex.pendingID] = ex
	}
	for _, a := range targets {
		t := &scriptTask{id: s.allocID(), seq: s.nextSeq(), exec: ex, agent: a, createdAt: now, fail: s.scriptFailure(a, script)}
		if pending {
			t.awaitingApproval, t.expiresAt = true, now.Add(s.scriptExpiry())
			t.set(taskPendingUserAction, now, "Pending approval",
				fmt.Sprintf("The execution waits for a user's approval (pending execution %s)", ex.pendingID))
		} else {
			s.startTask(t, now)
		}
		ex.tasks = append(ex.tasks, t)
		ro.tasks[t.id] = t
		inc2(s.counters.ScriptExecutions, a.sc.ID, script.id)
		if !ex.hidden {
			s.recordScriptInitiated(ex, a, now)
		}
	}
	ro.execs = append(ro.execs, ex)
	// The vendor schema says parentTaskId is "null in case of pending execution"; by
	// default the simulator returns it anyway so that clients can watch the tasks wait in
	// pending_user_action (an inference about what that status is for).
	// Options.StrictPendingExecutions follows the schema.
	parent := any(ex.parentID)
	if ex.hidden {
		parent = nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"affected": len(ex.tasks), "parentTaskId": parent, "pending": pending, "pendingExecutionId": nilIfEmpty(ex.pendingID),
	}})
}

// --- GET /remote-scripts/status ------------------------------------------------------

// csvOneOf reads a CSV parameter whose values must be in allowed.
func (q *query) csvOneOf(name string, allowed []string) map[string]bool {
	parts := q.csv(name)
	if parts == nil {
		return nil
	}
	out := map[string]bool{}
	for i, p := range parts {
		if !slices.Contains(allowed, p) {
			q.errs = append(q.errs, validationError("%s: %d: Must be one of: %s.", name, i, strings.Join(allowed, ", ")))
			return nil
		}
		out[p] = true
	}
	return out
}

// containsAny reports whether v contains one of subs, case-insensitively; nil subs match.
func containsAny(subs []string, v string) bool {
	return subs == nil || slices.ContainsFunc(subs, func(sub string) bool {
		return strings.Contains(strings.ToLower(v), strings.ToLower(sub))
	})
}

func (s *Simulator) listScriptTasks(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "remote-script-tasks", []string{"createdAt", "updatedAt", "id", "status"}, "createdAt")
	_, hasParent := r.URL.Query()["parentTaskId"]
	_, hasParentIn := r.URL.Query()["parentTaskId__in"]
	parents := q.ids("parentTaskId")
	if more := q.ids("parentTaskId__in"); more != nil {
		if parents == nil {
			parents = map[string]bool{}
		}
		for id := range more {
			parents[id] = true
		}
	}
	if !hasParent && !hasParentIn {
		q.errs = append(q.errs, validationError("parentTaskId: Missing data for required field: "+
			"GET /remote-scripts/status needs parentTaskId or parentTaskId__in."))
	}
	ids := q.ids("ids")
	statuses := q.csvOneOf("status", taskStatuses)
	types := q.csvOneOf("type", []string{"script_execution"})
	if more := q.csvOneOf("types", []string{"script_execution"}); more != nil {
		types = more
	}
	names, descs, details := q.csv("computerName__contains"), q.csv("description__contains"), q.csv("detailedStatus__contains")
	initiators, uuids := q.csv("initiatedBy__contains"), q.csv("uuid__contains")
	created, updated := q.timeRange("createdAt"), q.timeRange("updatedAt")
	accountIDs, siteIDs, groupIDs := q.ids("accountIds"), q.ids("siteIds"), q.ids("groupIds")
	text, _ := q.str("query")
	q.boolean("tenant")
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var rows []row
	for _, ex := range s.ops().execs {
		if ex.hidden || !parents[ex.parentID] {
			continue
		}
		for _, t := range ex.tasks {
			a := t.agent.sc
			if !in(ids, t.id) || !in(statuses, t.status) || !in(types, "script_execution") ||
				!in(accountIDs, a.AccountID) || !in(siteIDs, a.SiteID) || !in(groupIDs, a.GroupID) ||
				!containsAny(names, a.ComputerName) || !containsAny(descs, ex.description) ||
				!containsAny(details, t.detailed) || !containsAny(initiators, "user") || !containsAny(uuids, a.UUID) ||
				!created(t.createdAt) || !updated(t.updatedAt) {
				continue
			}
			if text != "" && !containsAny([]string{text}, a.ComputerName+" "+ex.description+" "+t.detailed) {
				continue
			}
			key := timeKey(t.createdAt)
			switch lp.sortBy {
			case "updatedAt":
				key = timeKey(t.updatedAt)
			case "id":
				key = idKey(t.id)
			case "status":
				key = t.status
			}
			rows = append(rows, row{key: key, id: idKey(t.id), seq: t.seq, obj: t})
		}
	}
	s.writePage(w, rows, lp, func(o any) any { return renderScriptTask(o.(*scriptTask)) })
}

// renderScriptTask renders a task with the fields the reference lists (and the sample
// demisto_get_remote_script_task_status.json shows). statusCode stays null: what the
// console puts there is unknown.
func renderScriptTask(t *scriptTask) map[string]any {
	a, ex := t.agent.sc, t.exec
	out := map[string]any{
		"id": t.id, "parentTaskId": ex.parentID, "status": t.status, "statusCode": nil,
		"statusDescription": t.statusDesc, "detailedStatus": t.detailed,
		"type": "script_execution", "description": ex.description,
		"initiatedBy": "user", "initiatedById": ex.user.id,
		"agentId": a.ID, "agentUuid": a.UUID, "agentComputerName": a.ComputerName, "agentOsType": a.OSType,
		"agentMachineType": a.MachineType, "agentIsActive": t.agent.isActive && t.agent.online, "agentIsDecommissioned": false,
		"accountId": a.AccountID, "accountName": a.AccountName, "siteId": a.SiteID, "siteName": a.SiteName,
		"groupId": a.GroupID, "groupName": a.GroupName,
		"scriptResultsSignature": nil, "scriptResultsPath": nil, "scriptResultsBucket": nil,
		"createdAt": ts(t.createdAt), "updatedAt": ts(t.updatedAt),
	}
	if t.status == taskCompleted && ex.destination == "SentinelCloud" {
		out["scriptResultsSignature"] = scenario.FakeHex(t.id+"results", 32)
		out["scriptResultsPath"] = fmt.Sprintf("%s/%s/%s", a.AccountID, ex.parentID, resultFileName(t))
		out["scriptResultsBucket"] = "s1sim-remote-scripts"
	}
	return out
}

// resultFileName names a task's output archive (an inference: no real name is published).
func resultFileName(t *scriptTask) string {
	return fmt.Sprintf("%s_%s_%s.zip", t.agent.sc.ComputerName, t.exec.script.fileName[:strings.LastIndex(t.exec.script.fileName, ".")], t.id)
}

// --- POST /remote-scripts/fetch-files ------------------------------------------------

func (s *Simulator) postScriptFetchFiles(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var body struct {
		Data *struct {
			TaskIDs       []string `json:"taskIds"`
			ComputerNames []string `json:"computerNames"`
		} `json:"data"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if body.Data == nil {
		writeErrors(w, http.StatusBadRequest, validationError("data: Missing data for required field."))
		return
	}
	if len(body.Data.TaskIDs) == 0 && len(body.Data.ComputerNames) == 0 {
		writeErrors(w, http.StatusBadRequest, validationError("data: One of taskIds, computerNames is required."))
		return
	}
	var errs []apiError
	for i, id := range body.Data.TaskIDs {
		if !scenario.ValidID(id) {
			errs = append(errs, validationError("data.taskIds: %d: Not a valid integer.", i))
		}
	}
	for i, n := range body.Data.ComputerNames {
		if strings.TrimSpace(n) == "" {
			errs = append(errs, validationError("data.computerNames: %d: Field may not be empty.", i))
		}
	}
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	ro := s.ops()
	links, failures := []map[string]any{}, []map[string]any{}
	answer := func(id string, t *scriptTask) {
		switch {
		case t == nil || t.exec.hidden:
			failures = append(failures, map[string]any{"taskId": id, "errorString": "task not found"})
		case t.status != taskCompleted:
			failures = append(failures, map[string]any{"taskId": id, "errorString": "task is not completed (status " + t.status + ")"})
		case t.exec.destination != "SentinelCloud":
			failures = append(failures, map[string]any{"taskId": id, "errorString": "output was not sent to the cloud (outputDestination " + t.exec.destination + ")"})
		default:
			links = append(links, map[string]any{"taskId": id, "fileName": resultFileName(t), "downloadUrl": downloadURL(r, t)})
		}
	}
	seen := map[string]bool{}
	for _, id := range body.Data.TaskIDs {
		if !seen[id] {
			seen[id] = true
			answer(id, ro.tasks[id])
		}
	}
	if len(body.Data.ComputerNames) > 0 {
		for _, ex := range ro.execs {
			for _, t := range ex.tasks {
				if !seen[t.id] && !ex.hidden && containsAny(body.Data.ComputerNames, t.agent.sc.ComputerName) {
					seen[t.id] = true
					answer(t.id, t)
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"data": map[string]any{"downloadLinks": links, "errors": failures}}})
}

// downloadURL points at the simulator's own file server, shaped like the pre-signed
// storage URL a console hands out (it needs no API token).
func downloadURL(r *http.Request, t *scriptTask) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/sim/remote-scripts/files/%s/%s?X-Amz-Expires=3600&X-Amz-Signature=%s",
		scheme, r.Host, t.id, resultFileName(t), scenario.FakeHex(t.id+"url", 64))
}

// --- pending executions ----------------------------------------------------------------

func (s *Simulator) listPendingExecutions(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "remote-script-pending-executions", []string{"id", "createdAt"}, "createdAt")
	accountIDs, siteIDs, groupIDs := q.ids("accountIds"), q.ids("siteIds"), q.ids("groupIds")
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	var rows []row
	for _, ex := range s.ops().execs {
		if ex.pendingID == "" || !slices.ContainsFunc(ex.tasks, func(t *scriptTask) bool {
			a := t.agent.sc
			return in(accountIDs, a.AccountID) && in(siteIDs, a.SiteID) && in(groupIDs, a.GroupID)
		}) {
			continue
		}
		rows = append(rows, createdRow(lp.sortBy, ex.createdAt, ex.pendingID, ex.seq, ex))
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderPendingExecution(o.(*scriptExecution)) })
}

// renderPendingExecution follows DD V21RsoSchemasPendingExecutionsPaginatedResponseSchemaMany200Data;
// endpointsByScope's items are not described there, so it stays empty.
func (s *Simulator) renderPendingExecution(ex *scriptExecution) map[string]any {
	var reviewer, reviewerID, scheduled any
	if ex.reviewer != nil {
		reviewer, reviewerID = ex.reviewer.name, ex.reviewer.id
	}
	if ex.approval == "approved" {
		scheduled = ex.parentID
	}
	return map[string]any{
		"pendingExecutionId": ex.pendingID, "state": ex.approval, "createdAt": ts(ex.createdAt),
		"creator": ex.user.name, "creatorId": ex.user.id, "reviewer": reviewer, "reviewerId": reviewerID,
		"canApproveOrDecline": ex.approval == "waiting", "totalEndpoints": len(ex.tasks), "endpointsByScope": []any{},
		"scheduledTaskId": scheduled, "scriptData": s.renderScript(ex.script),
		"executionData": map[string]any{
			"scriptId": ex.script.id, "taskDescription": ex.description, "outputDestination": ex.destination,
			"inputParams": ex.inputParams, "scriptRuntimeTimeoutSeconds": ex.timeout, "requiresApproval": true,
		},
	}
}

// putPendingExecution serves PUT /remote-scripts/pending-executions/{id} with
// {"data":{"action":"approve"|"decline"}} (DD V21RsoSchemasApproveDeclinePendingExecutionRequestSchema)
// → {"data":{"success":true}} (DD V21RsoSchemasOperationResultStatusSchema200). The API
// token's own user may decide; whether a console lets the requester approve its own
// execution is unknown.
func (s *Simulator) putPendingExecution(w http.ResponseWriter, r *http.Request, params map[string]string) {
	var body struct {
		Data *struct {
			Action string `json:"action"`
		} `json:"data"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if body.Data == nil {
		writeErrors(w, http.StatusBadRequest, validationError("data: Missing data for required field."))
		return
	}
	if body.Data.Action != "approve" && body.Data.Action != "decline" {
		writeErrors(w, http.StatusBadRequest, validationError("data.action: Must be one of: approve, decline."))
		return
	}
	if !scenario.ValidID(params["id"]) {
		writeErrors(w, http.StatusBadRequest, validationError("pending_execution_id: Not a valid integer."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.decidePending(params["id"], body.Data.Action == "approve", apiUser); err != nil {
		writeAdminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"success": true}})
}

// decidePending approves or declines a pending execution as user. Callers hold mu.
func (s *Simulator) decidePending(id string, approve bool, user *consoleUser) error {
	now := s.settle()
	ex := s.ops().pending[id]
	if ex == nil {
		return fmt.Errorf("pending execution %s: %w", id, ErrNotFound)
	}
	if ex.approval != "waiting" {
		return fmt.Errorf("pending execution %s is already %s", id, ex.approval)
	}
	ex.reviewer = user
	if !approve {
		ex.approval = "declined"
		for _, t := range ex.tasks {
			t.awaitingApproval = false
			t.set(taskCanceled, now, "Canceled", fmt.Sprintf("The execution was declined by %s", user.name))
		}
		return nil
	}
	ex.approval = "approved"
	for _, t := range ex.tasks {
		if ex.hidden {
			t.createdAt = now // strict: the tasks come into being now
		}
		s.startTask(t, now)
		if ex.hidden {
			s.recordScriptInitiated(ex, t.agent, now)
		}
	}
	ex.hidden = false
	return nil
}

// --- Go admin methods and /sim endpoints ---------------------------------------------

// ApproveScriptExecution approves (or, with approve false, declines) a pending execution
// as a console analyst ("Dana Analyst"), as POST /sim/remote-scripts/pending-executions/{id}
// does. Unknown IDs return an error wrapping ErrNotFound.
func (s *Simulator) ApproveScriptExecution(pendingExecutionID string, approve bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decidePending(pendingExecutionID, approve, analystUser)
}

// SetScriptFailure makes later runs of scriptID on agentID fail with reason ("" for either
// ID matches any agent or any script; at least one is required). An empty reason removes the
// rule. Runs already started keep their fate.
func (s *Simulator) SetScriptFailure(agentID, scriptID, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if agentID == "" && scriptID == "" {
		return fmt.Errorf("script failure: agentId or scriptId is required")
	}
	if agentID != "" && s.agents[agentID] == nil {
		return fmt.Errorf("agent %s: %w", agentID, ErrNotFound)
	}
	ro := s.ops()
	if scriptID != "" && ro.byID[scriptID] == nil {
		return fmt.Errorf("script %s: %w", scriptID, ErrNotFound)
	}
	if reason == "" {
		delete(ro.failures, failureKey{agentID, scriptID})
		return nil
	}
	ro.failures[failureKey{agentID, scriptID}] = reason
	return nil
}

// serveScriptsAdmin serves /sim/remote-scripts/…:
//
//	POST /sim/remote-scripts/pending-executions/{id}  {"action":"approve"|"decline"} as "Dana Analyst"
//	POST /sim/remote-scripts/failures                 {"agentId"?, "scriptId"?, "reason"} ("" reason clears)
//	GET  /sim/remote-scripts/files/{taskId}/{name}    a completed task's output (what downloadUrl points at)
func (s *Simulator) serveScriptsAdmin(w http.ResponseWriter, r *http.Request, path string) {
	rest := strings.TrimPrefix(path, "/sim/remote-scripts/")
	switch {
	case strings.HasPrefix(rest, "pending-executions/"):
		if !requireMethod(w, r, "POST") {
			return
		}
		var body struct {
			Action string `json:"action"`
		}
		if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10), &body); err != nil {
			writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
			return
		}
		if body.Action != "approve" && body.Action != "decline" {
			writeErrors(w, http.StatusBadRequest, validationError("action: Must be one of: approve, decline."))
			return
		}
		id := strings.TrimPrefix(rest, "pending-executions/")
		if err := s.ApproveScriptExecution(id, body.Action == "approve"); err != nil {
			writeAdminError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"success": true}})
	case rest == "failures":
		if !requireMethod(w, r, "POST") {
			return
		}
		var body struct {
			AgentID  string `json:"agentId"`
			ScriptID string `json:"scriptId"`
			Reason   string `json:"reason"`
		}
		if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10), &body); err != nil {
			writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
			return
		}
		if err := s.SetScriptFailure(body.AgentID, body.ScriptID, body.Reason); err != nil {
			writeAdminError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": body})
	case strings.HasPrefix(rest, "files/"):
		if requireMethod(w, r, "GET") {
			s.serveScriptFile(w, strings.TrimPrefix(rest, "files/"))
		}
	default:
		writeErrors(w, http.StatusNotFound, detailed(codeNotFound, "Not Found", "no such endpoint: %s", r.URL.Path))
	}
}

// serveScriptFile answers a download link with a small zip holding the script's (made up)
// output.
func (s *Simulator) serveScriptFile(w http.ResponseWriter, rest string) {
	taskID, name, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	s.settle()
	t := s.ops().tasks[taskID]
	ok := t != nil && !t.exec.hidden && t.status == taskCompleted && t.exec.destination == "SentinelCloud" && name == resultFileName(t)
	var text string
	if ok {
		a := t.agent.sc
		text = fmt.Sprintf("script: %s (%s)\nagent: %s (%s, %s)\ntask: %s of %s\ndescription: %s\ncompleted: %s\n",
			t.exec.script.name, t.exec.script.id, a.ComputerName, a.ID, a.OSType, t.id, t.exec.parentID,
			t.exec.description, ts(t.updatedAt))
	}
	s.mu.Unlock()
	if !ok {
		writeErrors(w, http.StatusNotFound, detailed(codeNotFound, "Not Found", "no downloadable output for task %s", taskID))
		return
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.Create("output.txt")
	if err == nil {
		_, err = f.Write([]byte(text))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, detailed(codeInternal, "Internal Error", "zip: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
