package s1client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RemoteOps scripts (API reference §7): run a script from the console's script library on
// an agent, follow its task, fetch its output. Every endpoint here is in the /remote-scripts
// rate-limit class, 1 request/s with a burst of 30 (ClassRemoteScripts), so poll the status
// every few seconds, not in a tight loop.

// ActivityScriptActionInitiated is activity 3618, "Script Action Initiated" (SEKOIA
// dictionary, API reference §5): the console records it when a user runs a remote script.
const ActivityScriptActionInitiated ActivityType = 3618

// Output destinations of POST /remote-scripts/execute (data.outputDestination).
const (
	OutputDestinationSentinelCloud  = "SentinelCloud" // results uploaded; FetchRemoteScriptFiles links to them
	OutputDestinationLocal          = "Local"         // results stay on the endpoint
	OutputDestinationNone           = "None"
	OutputDestinationSingularityXDR = "SingularityXDR"
)

// Task statuses of GET /remote-scripts/status (DD TasksSchemasTaskSchemaMany200Data).
const (
	RemoteScriptStatusCreated            = "created"
	RemoteScriptStatusScheduled          = "scheduled"
	RemoteScriptStatusPending            = "pending"
	RemoteScriptStatusPendingUserAction  = "pending_user_action"
	RemoteScriptStatusInProgress         = "in_progress"
	RemoteScriptStatusCompleted          = "completed"
	RemoteScriptStatusFailed             = "failed"
	RemoteScriptStatusCanceled           = "canceled"
	RemoteScriptStatusExpired            = "expired"
	RemoteScriptStatusPartiallyCompleted = "partially_completed"
)

// RemoteScriptDone reports whether a task status is final: completed, failed, expired,
// canceled and partially_completed never change again. Every other status (including one
// this client does not know) means "keep polling".
func RemoteScriptDone(status string) bool {
	switch status {
	case RemoteScriptStatusCompleted, RemoteScriptStatusFailed, RemoteScriptStatusExpired,
		RemoteScriptStatusCanceled, RemoteScriptStatusPartiallyCompleted:
		return true
	}
	return false
}

func validOutputDestination(d string) bool {
	switch d {
	case OutputDestinationSentinelCloud, OutputDestinationLocal, OutputDestinationNone, OutputDestinationSingularityXDR:
		return true
	}
	return false
}

// RemoteScriptRequest is one script run on one agent (POST /remote-scripts/execute).
type RemoteScriptRequest struct {
	AgentID           string // filter.ids = [AgentID]
	ScriptID          string // data.scriptId (required)
	TaskDescription   string // data.taskDescription (required)
	OutputDestination string // data.outputDestination: SentinelCloud|Local|None|SingularityXDR (required)
	InputParams       string // data.inputParams, optional
	TimeoutSeconds    int    // data.scriptRuntimeTimeoutSeconds, optional (0 = omit)
}

// RemoteScriptExecution is the console's answer to an execute request.
type RemoteScriptExecution struct {
	// ParentTaskID names the execution in GET /remote-scripts/status. The vendor schema says
	// it is null for a pending execution (one held for approval): then it is "" here and
	// the execution is found again, once approved, with FindRemoteScriptTask. (s1sim
	// returns it for pending executions too unless told to be strict.)
	ParentTaskID string
	Affected     int
	Pending      bool // the console holds it for a user's approval (pending_user_action)
	// PendingExecutionID is the approval request's ID (PUT /remote-scripts/pending-executions/{id}).
	PendingExecutionID string
}

type remoteScriptExecuteData struct {
	ScriptID          string `json:"scriptId"`
	TaskDescription   string `json:"taskDescription"`
	OutputDestination string `json:"outputDestination"`
	InputParams       string `json:"inputParams,omitempty"`
	TimeoutSeconds    int    `json:"scriptRuntimeTimeoutSeconds,omitempty"`
}

// ExecuteRemoteScript runs a library script on one agent (POST /remote-scripts/execute with
// {"filter":{"ids":[agent]},"data":{…}}). Acceptance is not completion: poll
// RemoteScriptTasks(ParentTaskID) until RemoteScriptDone.
//
// It is not idempotent: a retry after a lost answer runs the script again. Put a unique
// marker in TaskDescription and, before retrying, look for the first run with
// FindRemoteScriptTask.
//
// An answer with no execution at all (affected 0, no parentTaskId, not pending) means the
// console matched no agent — unknown, decommissioned or outside the token's scope — and
// yields an error wrapping ErrNotFound.
func (c *Client) ExecuteRemoteScript(ctx context.Context, req RemoteScriptRequest) (RemoteScriptExecution, error) {
	const op = "execute remote script"
	if err := checkIDs(op, "agent", []string{req.AgentID}); err != nil {
		return RemoteScriptExecution{}, err
	}
	if strings.TrimSpace(req.ScriptID) == "" {
		return RemoteScriptExecution{}, invalidArg(op, "empty script ID")
	}
	if strings.TrimSpace(req.TaskDescription) == "" {
		return RemoteScriptExecution{}, invalidArg(op, "empty task description")
	}
	if !validOutputDestination(req.OutputDestination) {
		return RemoteScriptExecution{}, invalidArg(op, "output destination %q must be one of SentinelCloud, Local, None, SingularityXDR", req.OutputDestination)
	}
	if req.TimeoutSeconds < 0 {
		return RemoteScriptExecution{}, invalidArg(op, "negative timeout %d s", req.TimeoutSeconds)
	}
	body := map[string]any{
		"filter": idFilter{IDs: []string{req.AgentID}},
		"data": remoteScriptExecuteData{
			ScriptID: req.ScriptID, TaskDescription: req.TaskDescription, OutputDestination: req.OutputDestination,
			InputParams: req.InputParams, TimeoutSeconds: req.TimeoutSeconds,
		},
	}
	var env envelope[struct {
		Affected           FlexInt    `json:"affected"`
		ParentTaskID       FlexString `json:"parentTaskId"`
		Pending            FlexBool   `json:"pending"`
		PendingExecutionID FlexString `json:"pendingExecutionId"`
	}]
	const path = "/remote-scripts/execute"
	if err := c.do(ctx, request{method: http.MethodPost, path: path, tmpl: path, body: body}, &env); err != nil {
		return RemoteScriptExecution{}, err // already "s1: POST /remote-scripts/execute: …"
	}
	ex := RemoteScriptExecution{
		ParentTaskID: string(env.Data.ParentTaskID), Affected: int(env.Data.Affected),
		Pending: bool(env.Data.Pending), PendingExecutionID: string(env.Data.PendingExecutionID),
	}
	if ex.Affected == 0 && ex.ParentTaskID == "" && !ex.Pending {
		return ex, fmt.Errorf("s1: %s %s on agent %s: the console matched no agent (affected 0): %w", op, req.ScriptID, req.AgentID, ErrNotFound)
	}
	return ex, nil
}

// RemoteScriptTask is one item of GET /remote-scripts/status: the script's run on one
// agent. It decodes leniently (IDs as numbers, "True" booleans, statusCode null or a
// number, statusDescription a string or an object) and encodes back to the same field
// names, so it survives a round trip through JSON (Temporal payloads) unchanged.
type RemoteScriptTask struct {
	ID                string `json:"id"`
	ParentTaskID      string `json:"parentTaskId"`
	Status            string `json:"status"`     // RemoteScriptStatus* constants
	StatusCode        string `json:"statusCode"` // a number or null on the wire; "" when null
	StatusDescription string `json:"statusDescription"`
	DetailedStatus    string `json:"detailedStatus"`
	Description       string `json:"description"` // the execution's taskDescription

	AgentID           string `json:"agentId"`
	AgentComputerName string `json:"agentComputerName"`
	AgentOSType       string `json:"agentOsType"`
	AgentIsActive     bool   `json:"agentIsActive"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	Type                  string `json:"type"`        // e.g. script_execution
	InitiatedBy           string `json:"initiatedBy"` // e.g. user
	InitiatedByID         string `json:"initiatedById"`
	AgentUUID             string `json:"agentUuid"`
	AgentMachineType      string `json:"agentMachineType"`
	AgentIsDecommissioned bool   `json:"agentIsDecommissioned"`
	SiteID                string `json:"siteId"`
	GroupID               string `json:"groupId"`
}

// Done reports whether the task's status is final (RemoteScriptDone).
func (t RemoteScriptTask) Done() bool { return RemoteScriptDone(t.Status) }

// UnmarshalJSON implements json.Unmarshaler with the lenient types of flex.go.
func (t *RemoteScriptTask) UnmarshalJSON(b []byte) error {
	var w struct {
		ID                    FlexString      `json:"id"`
		ParentTaskID          FlexString      `json:"parentTaskId"`
		Status                FlexString      `json:"status"`
		StatusCode            FlexString      `json:"statusCode"`
		StatusDescription     json.RawMessage `json:"statusDescription"` // the spec says "Object"; samples send a string
		DetailedStatus        FlexString      `json:"detailedStatus"`
		Description           FlexString      `json:"description"`
		AgentID               FlexString      `json:"agentId"`
		AgentComputerName     FlexString      `json:"agentComputerName"`
		AgentOSType           FlexString      `json:"agentOsType"`
		AgentIsActive         FlexBool        `json:"agentIsActive"`
		CreatedAt             Time            `json:"createdAt"`
		UpdatedAt             Time            `json:"updatedAt"`
		Type                  FlexString      `json:"type"`
		InitiatedBy           FlexString      `json:"initiatedBy"`
		InitiatedByID         FlexString      `json:"initiatedById"`
		AgentUUID             FlexString      `json:"agentUuid"`
		AgentMachineType      FlexString      `json:"agentMachineType"`
		AgentIsDecommissioned FlexBool        `json:"agentIsDecommissioned"`
		SiteID                FlexString      `json:"siteId"`
		GroupID               FlexString      `json:"groupId"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("s1: remote script task: %w", err)
	}
	*t = RemoteScriptTask{
		ID: string(w.ID), ParentTaskID: string(w.ParentTaskID), Status: string(w.Status),
		StatusCode: string(w.StatusCode), StatusDescription: looseText(w.StatusDescription),
		DetailedStatus: string(w.DetailedStatus), Description: string(w.Description),
		AgentID: string(w.AgentID), AgentComputerName: string(w.AgentComputerName), AgentOSType: string(w.AgentOSType),
		AgentIsActive: bool(w.AgentIsActive), CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time,
		Type: string(w.Type), InitiatedBy: string(w.InitiatedBy), InitiatedByID: string(w.InitiatedByID),
		AgentUUID: string(w.AgentUUID), AgentMachineType: string(w.AgentMachineType),
		AgentIsDecommissioned: bool(w.AgentIsDecommissioned), SiteID: string(w.SiteID), GroupID: string(w.GroupID),
	}
	return nil
}

// looseText renders a field the console may send as a string, a scalar or an object: a
// string as itself, null as "", anything else as its compact JSON.
func looseText(raw json.RawMessage) string {
	if isNullish(raw) {
		return ""
	}
	if s, ok, err := unquote(raw); ok && err == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(bytes.TrimSpace(raw))
	}
	return buf.String()
}

// RemoteScriptTasks returns every task of one execution (GET /remote-scripts/status?
// parentTaskId=…, all pages): one per targeted agent. The console refuses the call without
// a parentTaskId, so an empty one is refused here, before any request. Tasks of another
// execution, should a console ignore the filter, are dropped.
func (c *Client) RemoteScriptTasks(ctx context.Context, parentTaskID string) ([]RemoteScriptTask, error) {
	if err := checkIDs("remote script tasks", "parent task", []string{parentTaskID}); err != nil {
		return nil, err
	}
	var (
		out    []RemoteScriptTask
		cursor string
		seen   = map[string]bool{}
	)
	for {
		q := url.Values{"parentTaskId": {parentTaskID}, "limit": {strconv.Itoa(DefaultLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := list[RemoteScriptTask](ctx, c, "/remote-scripts/status", "/remote-scripts/status", q)
		if err != nil {
			return nil, fmt.Errorf("s1: remote script tasks of %s: %w", parentTaskID, err)
		}
		for _, t := range page.Items {
			if t.ParentTaskID == "" || t.ParentTaskID == parentTaskID {
				out = append(out, t)
			}
		}
		if page.NextCursor == "" || len(page.Items) == 0 {
			return out, nil
		}
		if seen[page.NextCursor] {
			return nil, fmt.Errorf("s1: remote script tasks of %s: console returned cursor %.40q twice", parentTaskID, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
}

// RemoteScriptFile is a download link for a task's output. The URL is pre-authorised by
// the console (no API token: never send the token to it).
type RemoteScriptFile struct{ TaskID, FileName, DownloadURL string }

// RemoteScriptFileError is a task the console gave no link for, and why (errorString).
type RemoteScriptFileError struct{ TaskID, Error string }

type remoteScriptFilesData struct {
	DownloadLinks []struct {
		TaskID      FlexString `json:"taskId"`
		FileName    FlexString `json:"fileName"`
		DownloadURL FlexString `json:"downloadUrl"`
	} `json:"downloadLinks"`
	Errors []struct {
		TaskID      FlexString `json:"taskId"`
		ErrorString FlexString `json:"errorString"`
	} `json:"errors"`
}

// FetchRemoteScriptFiles asks for the output files of tasks (POST /remote-scripts/fetch-files
// with {"data":{"taskIds":[…]}}); the answer is {"data":{"data":{"downloadLinks":[…],
// "errors":[…]}}}. Only a completed task whose output went to SentinelCloud has a link; the
// others come back as errors, which are answers, not failures of the call.
func (c *Client) FetchRemoteScriptFiles(ctx context.Context, taskIDs []string) ([]RemoteScriptFile, []RemoteScriptFileError, error) {
	if err := checkIDs("fetch remote script files", "task", taskIDs); err != nil {
		return nil, nil, err
	}
	const path = "/remote-scripts/fetch-files"
	body := map[string]any{"data": map[string][]string{"taskIds": taskIDs}}
	var env envelope[struct {
		Data *remoteScriptFilesData `json:"data"`
		// A console that answers one level flatter ({"data":{"downloadLinks":…}}) is read too.
		remoteScriptFilesData
	}]
	if err := c.do(ctx, request{method: http.MethodPost, path: path, tmpl: path, body: body}, &env); err != nil {
		return nil, nil, err // already "s1: POST /remote-scripts/fetch-files: …"
	}
	d := env.Data.Data
	if d == nil {
		d = &env.Data.remoteScriptFilesData
	}
	var files []RemoteScriptFile
	for _, l := range d.DownloadLinks {
		files = append(files, RemoteScriptFile{TaskID: string(l.TaskID), FileName: string(l.FileName), DownloadURL: string(l.DownloadURL)})
	}
	var errs []RemoteScriptFileError
	for _, e := range d.Errors {
		errs = append(errs, RemoteScriptFileError{TaskID: string(e.TaskID), Error: string(e.ErrorString)})
	}
	return files, errs, nil
}

// RemoteScript is a script of the console's library (GET /remote-scripts).
type RemoteScript struct {
	ID         string   `json:"id"`
	ScriptName string   `json:"scriptName"`
	ScriptType string   `json:"scriptType"` // e.g. artifactCollection
	OSTypes    []string `json:"osTypes"`    // windows | macos | linux
	// RequiresApproval is not in the vendor's script schema (approval is a console
	// guardrail setting, and the execute answer's Pending is the authority); s1sim sets it
	// on the scripts it holds for approval, a real console leaves it false.
	RequiresApproval bool `json:"requiresApproval"`

	ScriptDescription string `json:"scriptDescription"`
	InputRequired     bool   `json:"inputRequired"`
	TimeoutSeconds    int    `json:"scriptRuntimeTimeoutSeconds"`
}

// UnmarshalJSON implements json.Unmarshaler with the lenient types of flex.go.
func (s *RemoteScript) UnmarshalJSON(b []byte) error {
	var w struct {
		ID                FlexString   `json:"id"`
		ScriptName        FlexString   `json:"scriptName"`
		ScriptType        FlexString   `json:"scriptType"`
		OSTypes           []FlexString `json:"osTypes"`
		RequiresApproval  FlexBool     `json:"requiresApproval"`
		ScriptDescription FlexString   `json:"scriptDescription"`
		InputRequired     FlexBool     `json:"inputRequired"`
		TimeoutSeconds    FlexInt      `json:"scriptRuntimeTimeoutSeconds"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("s1: remote script: %w", err)
	}
	*s = RemoteScript{
		ID: string(w.ID), ScriptName: string(w.ScriptName), ScriptType: string(w.ScriptType),
		RequiresApproval: bool(w.RequiresApproval), ScriptDescription: string(w.ScriptDescription),
		InputRequired: bool(w.InputRequired), TimeoutSeconds: int(w.TimeoutSeconds),
	}
	for _, o := range w.OSTypes {
		s.OSTypes = append(s.OSTypes, string(o))
	}
	return nil
}

// Supports reports whether the script runs on osType; windows_legacy agents run Windows
// scripts.
func (s RemoteScript) Supports(osType string) bool {
	if osType == "windows_legacy" {
		osType = "windows"
	}
	return slices.Contains(s.OSTypes, osType)
}

// RemoteScripts returns the whole script library (GET /remote-scripts, all pages).
func (c *Client) RemoteScripts(ctx context.Context) ([]RemoteScript, error) {
	var out []RemoteScript
	err := each("", "remote script", func(cursor string) (Page[RemoteScript], error) {
		q := url.Values{"limit": {strconv.Itoa(DefaultLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		return list[RemoteScript](ctx, c, "/remote-scripts", "/remote-scripts", q)
	}, func(s RemoteScript) error {
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, err // already "s1: each remote script: …"
	}
	return out, nil
}

// errStopIteration ends an EachActivity early once the answer is known.
var errStopIteration = errors.New("stop")

// FindRemoteScriptTask finds a script execution started on agentID since `since` whose task
// description contains marker, from the activity log (GET /activities?activityTypes=3618&
// agentIds=…&createdAt__gt=…): GET /remote-scripts/status requires a parentTaskId, so the
// activity log is the only documented place where an execution whose POST answer was lost
// can be found again. found=false when none.
//
// The data of activity 3618 is not documented. We read data.parentTaskId and match marker
// against data.taskDescription, falling back to primaryDescription and
// secondaryDescription; these field names are our inference (s1sim writes them). Pass a
// since a little before the execute call: console and caller clocks differ. With several
// matches the oldest wins (it is the first run; the others are duplicates). An activity that
// matches but carries no parentTaskId is an error wrapping ErrBadResponse, never
// found=false: the script did run, and reporting "not found" would make the caller run it
// again.
func (c *Client) FindRemoteScriptTask(ctx context.Context, agentID, marker string, since time.Time) (parentTaskID string, found bool, err error) {
	const op = "find remote script task"
	if err := checkIDs(op, "agent", []string{agentID}); err != nil {
		return "", false, err
	}
	if strings.TrimSpace(marker) == "" {
		return "", false, invalidArg(op, "empty marker (it would match every execution)")
	}
	p := ListActivitiesParams{
		AgentIDs:      []string{agentID},
		ActivityTypes: []int{int(ActivityScriptActionInitiated)},
		CreatedAtGt:   since,
		SortBy:        "createdAt",
		SortOrder:     "asc",
	}
	var untracked *Activity
	err = c.EachActivity(ctx, p, func(a Activity) error {
		// The answer is checked again: a console that ignored a filter must not hand back
		// another agent's execution.
		if int(a.ActivityType) != int(ActivityScriptActionInitiated) || (a.AgentID != "" && string(a.AgentID) != agentID) {
			return nil
		}
		if !activityMentions(a, marker) {
			return nil
		}
		if id := dataString(a.Data, "parentTaskId"); id != "" {
			parentTaskID, found = id, true
			return errStopIteration
		}
		if untracked == nil {
			untracked = &a
		}
		return nil
	})
	switch {
	case errors.Is(err, errStopIteration):
		return parentTaskID, true, nil
	case err != nil:
		return "", false, fmt.Errorf("s1: %s %q on agent %s: %w", op, marker, agentID, err)
	case untracked != nil:
		return "", false, fmt.Errorf("s1: %s %q on agent %s: activity %s records the execution but no data.parentTaskId "+
			"(the console's activity data differs from what this client expects): %w", op, marker, agentID, untracked.ID, ErrBadResponse)
	}
	return "", false, nil
}

// activityMentions reports whether a 3618 activity names marker in data.taskDescription or,
// should the console put it elsewhere, in its primary or secondary description.
func activityMentions(a Activity, marker string) bool {
	return strings.Contains(dataString(a.Data, "taskDescription"), marker) ||
		strings.Contains(a.PrimaryDescription, marker) || strings.Contains(a.SecondaryDescription, marker)
}

// dataString reads a scalar of an activity's free-form data as a string (IDs arrive as
// strings or as json.Number, see decodeJSON).
func dataString(data map[string]any, key string) string {
	switch v := data[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}
