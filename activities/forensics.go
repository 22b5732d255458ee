package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/s1client"
)

// collectForensics starts the policy's collection script on the threat's agent, unless
// the activity log shows an execution this investigation already started (a retried
// attempt whose answer was lost, or a reset run): a host never runs the script twice
// for one investigation.
func (a *Activities) collectForensics(ctx context.Context, in MitigateInput) (MitigateResult, error) {
	fr := in.Forensics
	switch {
	case in.AgentID == "":
		return MitigateResult{}, temporal.NewNonRetryableApplicationError("forensic collection needs the agent ID", ErrTypeBadInput, nil)
	case fr == nil || fr.ScriptID == "" || fr.Marker == "":
		return MitigateResult{}, temporal.NewNonRetryableApplicationError("forensic collection needs the policy's script and the investigation's marker", ErrTypeBadInput, nil)
	}
	since := fr.Since
	if since.IsZero() {
		since = a.now().Add(-30 * 24 * time.Hour)
	}
	parent, found, err := a.S1.FindRemoteScriptTask(ctx, in.AgentID, fr.Marker, since.Add(-time.Minute))
	if err != nil {
		return MitigateResult{}, S1Error("look for an earlier forensic collection on agent "+in.AgentID, err)
	}
	if found {
		activity.GetLogger(ctx).Info("Forensic collection already started; not starting it again.", "ParentTaskID", parent)
		return MitigateResult{AlreadyRequested: true, ParentTaskID: parent}, nil
	}
	ex, err := a.S1.ExecuteRemoteScript(ctx, s1client.RemoteScriptRequest{
		AgentID:           in.AgentID,
		ScriptID:          fr.ScriptID,
		TaskDescription:   forensicsDescription(in.ThreatID, fr.Marker),
		OutputDestination: "SentinelCloud",
		InputParams:       fr.InputParams,
		TimeoutSeconds:    int(fr.Timeout / time.Second),
	})
	if err != nil {
		return MitigateResult{}, S1Error("run forensic script "+fr.ScriptID+" on agent "+in.AgentID, err)
	}
	if ex.ParentTaskID == "" && !ex.Pending {
		return MitigateResult{Refused: "SentinelOne ran the forensic script on no agent (is the agent decommissioned, or outside the API token's scope?)"}, nil
	}
	// A console that holds the execution for a user's approval may give no task until
	// someone approves it; the verification then finds it by the marker.
	return MitigateResult{ParentTaskID: ex.ParentTaskID}, nil
}

// forensicsDescription is the task's description in the console: what it is for, and
// the marker a retry looks for.
func forensicsDescription(threatID, marker string) string {
	return fmt.Sprintf("s1copilot forensic collection for threat %s [%s]", threatID, marker)
}

// verifyForensics reads the collection task once. Until it is final it returns the
// benign "not settled" error (the retry policy is the polling loop, as for mitigations),
// saying when the console holds the script for a user's approval; once completed it
// fetches the package's link.
func (a *Activities) verifyForensics(ctx context.Context, in VerifyInput) (VerifyResult, error) {
	parent := in.ParentTaskID
	if parent == "" {
		if in.Forensics == nil || in.Forensics.Marker == "" {
			return VerifyResult{}, temporal.NewNonRetryableApplicationError("verifying a forensic collection needs its parent task ID or its marker", ErrTypeBadInput, nil)
		}
		p, found, err := a.S1.FindRemoteScriptTask(ctx, in.AgentID, in.Forensics.Marker, in.Forensics.Since.Add(-time.Minute))
		if err != nil {
			return VerifyResult{}, S1Error("look for the forensic collection on agent "+in.AgentID, err)
		}
		if !found {
			return VerifyResult{}, a.notSettled("collect_forensics: pending_user_action: the console holds the script for a user's approval (Automation → Remote Ops → pending executions); no task until it is approved")
		}
		parent = p
	}
	tasks, err := a.S1.RemoteScriptTasks(ctx, parent)
	if err != nil {
		return VerifyResult{}, S1Error("read forensic collection task "+parent, err)
	}
	task, ok := taskOnAgent(tasks, in.AgentID)
	if !ok {
		return VerifyResult{}, a.notSettled("collect_forensics: the console lists no task yet")
	}
	f := &Forensics{ParentTaskID: parent, TaskID: task.ID, Status: task.Status, StatusDescription: clip(task.StatusDescription, 200)}
	if !s1client.RemoteScriptDone(task.Status) {
		return VerifyResult{}, a.notSettled("collect_forensics: " + pendingReason(task))
	}
	if task.Status != "completed" {
		f.NoFile = "the task ended " + task.Status
		return VerifyResult{State: s1client.MitigationStatusFailed, Detail: taskDetail(task), Forensics: f}, nil
	}
	links, errs, err := a.S1.FetchRemoteScriptFiles(ctx, []string{task.ID})
	if err != nil {
		return VerifyResult{}, S1Error("fetch the package link of task "+task.ID, err)
	}
	for _, l := range links {
		if l.TaskID == task.ID {
			f.FileName, f.DownloadURL = l.FileName, l.DownloadURL
		}
	}
	if f.DownloadURL == "" {
		f.NoFile = "SentinelOne gave no download link"
		for _, e := range errs {
			if e.TaskID == task.ID {
				f.NoFile += ": " + clip(e.Error, 200)
			}
		}
	}
	return VerifyResult{State: s1client.MitigationStatusSuccess, Detail: taskDetail(task), Forensics: f}, nil
}

// taskOnAgent picks the agent's task of an execution (one per agent).
func taskOnAgent(tasks []s1client.RemoteScriptTask, agentID string) (s1client.RemoteScriptTask, bool) {
	for _, t := range tasks {
		if t.AgentID == agentID || agentID == "" {
			return t, true
		}
	}
	if len(tasks) == 1 {
		return tasks[0], true
	}
	return s1client.RemoteScriptTask{}, false
}

// pendingReason says why a task is not final yet, in words an analyst acts on.
func pendingReason(t s1client.RemoteScriptTask) string {
	switch t.Status {
	case "pending_user_action":
		return "pending_user_action: the console holds the script for a user's approval (Automation → Remote Ops → pending executions)"
	case "pending", "created", "scheduled":
		if !t.AgentIsActive {
			return t.Status + ": the agent is offline; the task runs when it reconnects"
		}
	}
	return t.Status
}

func taskDetail(t s1client.RemoteScriptTask) string {
	d := "task " + t.Status
	if s := strings.TrimSpace(t.StatusDescription); s != "" {
		d += ": " + clip(s, 200)
	}
	if !t.UpdatedAt.IsZero() {
		d += " at " + t.UpdatedAt.UTC().Format(time.RFC3339)
	}
	return d
}
