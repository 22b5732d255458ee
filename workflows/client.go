package workflows

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/investigation"
)

// Investigations is the client side of one deployment's investigations: what the
// poller, the push endpoint, the operator CLI and the Slack bot do with them. It only
// sends what the workflow validates again; it holds no state.
type Investigations struct {
	Client client.Client
	// TaskQueue is the deployment's investigation task queue (config.Temporal.TaskQueue):
	// where Start starts them and what Pending lists.
	TaskQueue string
	// PageSize bounds one visibility request of Pending; 0 means 1000.
	PageSize int
	// Encrypted: payloads are encrypted, so Start keeps the host name out of the search
	// attributes (stored in clear) and out of the summary's clear fields.
	Encrypted bool
}

// MaxInvestigation bounds an investigation, forgotten approvals included.
const MaxInvestigation = 7 * 24 * time.Hour

// StartHint is what the starter already knows about a threat, for the Web UI.
type StartHint struct {
	ThreatName string
	AgentName  string
	SiteID     string
	// Snapshot is the threat as the caller just read it (the poller's list): the
	// investigation's first enrichment uses it instead of reading the threat again.
	Snapshot *investigation.ThreatFacts
}

// Start starts the one investigation of a threat. It returns started=false and no
// error when the threat already has one, running or closed: the ID policies refuse a
// second run and the SDK is told to say so rather than silently returning the existing
// run.
func (i Investigations) Start(ctx context.Context, threatID string, hint StartHint) (started bool, err error) {
	sa := []temporal.SearchAttributeUpdate{ThreatIDKey.ValueSet(threatID)}
	if hint.AgentName != "" && !i.Encrypted {
		sa = append(sa, AgentNameKey.ValueSet(hint.AgentName))
	}
	if hint.SiteID != "" {
		sa = append(sa, SiteIDKey.ValueSet(hint.SiteID))
	}
	summary := "SentinelOne threat " + threatID
	if hint.ThreatName != "" {
		summary = fmt.Sprintf("%s on %s", hint.ThreatName, hint.AgentName)
	}
	_, err = i.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       WorkflowID(threatID),
		TaskQueue:                                i.TaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowExecutionTimeout:                 MaxInvestigation,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(sa...),
		StaticSummary:                            summary,
		StaticDetails:                            fmt.Sprintf("**SentinelOne threat:** %s\n\n**Agent:** %s", threatID, hint.AgentName),
	}, InvestigateWorkflow, Input{ThreatID: threatID, Snapshot: hint.Snapshot})
	switch {
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("starting investigation of threat %s: %w", threatID, err)
	}
	return true, nil
}

// Notify tells the threat's running investigation of its console state; running=false,
// without an error, when no investigation of it is running.
func (i Investigations) Notify(ctx context.Context, threatID string, cs ConsoleState) (running bool, err error) {
	err = i.Client.SignalWorkflow(ctx, WorkflowID(threatID), "", ThreatUpdatedSignal, cs)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return false, nil // no investigation, or it has finished
	case err != nil:
		return false, fmt.Errorf("signalling the investigation of threat %s: %w", threatID, err)
	}
	return true, nil
}

// DecideTimeout bounds how long Approve and Reject wait for a worker to answer.
const DecideTimeout = 15 * time.Second

// ErrNoWorkerAnswered: no worker answered a decision in time (workers down or busy).
// The decision was not recorded; retry, or send it with DecideOptions.Signal.
var ErrNoWorkerAnswered = errors.New("no worker answered in time; retry, or send the decision as a signal (starter --signal), which is delivered when a worker is back")

// RefusedError is the investigation's answer to a decision it does not accept: not
// awaiting approval, already decided, an approver the policy does not allow, an action
// it cannot take.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// DecideOptions says how a decision travels.
type DecideOptions struct {
	// Signal sends it as a signal: durable while workers are down, but without an
	// answer (a refusal shows in the audit log and the status).
	Signal bool
}

// Approve records an approval (of every pending action, or of d.Actions) and returns
// the investigation's answer. Its request ID (RequestKey when d.RequestID is empty)
// makes a retried or double-clicked approval one decision.
func (i Investigations) Approve(ctx context.Context, threatID string, d Decision, o DecideOptions) (string, error) {
	d.Approved = true
	return i.decide(ctx, threatID, d, o)
}

// Reject records a rejection: none of the pending actions is taken.
func (i Investigations) Reject(ctx context.Context, threatID string, d Decision, o DecideOptions) (string, error) {
	d.Approved, d.Actions = false, nil
	return i.decide(ctx, threatID, d, o)
}

func (i Investigations) decide(ctx context.Context, threatID string, d Decision, o DecideOptions) (string, error) {
	if strings.TrimSpace(d.Approver) == "" {
		return "", errors.New("a decision needs the approver's identity")
	}
	if d.RequestID == "" {
		d.RequestID = RequestKey(threatID, d)
	}
	wid := WorkflowID(threatID)
	if o.Signal {
		if err := i.Client.SignalWorkflow(ctx, wid, "", ApprovalSignal, d); err != nil {
			return "", fmt.Errorf("signalling %s: %w", wid, err)
		}
		return "signal sent", nil
	}
	ctx, cancel := context.WithTimeout(ctx, DecideTimeout)
	defer cancel()
	h, err := i.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: wid, UpdateID: d.RequestID, UpdateName: ApproveUpdate, Args: []any{d},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var out string
	if err == nil {
		err = h.Get(ctx, &out)
	}
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, context.DeadlineExceeded):
		return "", fmt.Errorf("%s: %w", wid, ErrNoWorkerAnswered)
	case errors.As(err, &app):
		return "", &RefusedError{Reason: app.Message()}
	}
	return "", fmt.Errorf("deciding %s: %w", wid, err)
}

// RequestKey is the idempotency key of a decision that carries none: the same person
// sending the same decision on the same threat again is the same decision.
func RequestKey(threatID string, d Decision) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%t\x00%s\x00%s\x00%v", threatID, d.Approved, d.Approver, d.Reason, d.Actions)
	return "decision-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// Status returns an investigation's status (running or finished).
func (i Investigations) Status(ctx context.Context, threatID string) (Status, error) {
	v, err := i.Client.QueryWorkflow(ctx, WorkflowID(threatID), "", StatusQuery)
	if err != nil {
		return Status{}, fmt.Errorf("querying %s: %w", WorkflowID(threatID), err)
	}
	var st Status
	if err := v.Get(&st); err != nil {
		return Status{}, fmt.Errorf("decoding the status of %s: %w", WorkflowID(threatID), err)
	}
	return st, nil
}

// PendingFilter narrows Pending; empty fields match everything.
type PendingFilter struct {
	Priority  string
	Verdict   string
	AgentName string
	SiteID    string
}

// PendingInvestigation is one investigation waiting for a human, from its search
// attributes (no query per investigation).
type PendingInvestigation struct {
	ThreatID  string    `json:"threatId"`
	AgentName string    `json:"agentName,omitempty"`
	SiteID    string    `json:"siteId,omitempty"`
	Verdict   string    `json:"verdict,omitempty"`
	Priority  string    `json:"priority,omitempty"`
	StartedAt time.Time `json:"startedAt"`
}

// Pending lists every investigation of this deployment waiting for a human, oldest
// first, reading all pages.
func (i Investigations) Pending(ctx context.Context, f PendingFilter) ([]PendingInvestigation, error) {
	q, err := PendingQuery(i.TaskQueue, f)
	if err != nil {
		return nil, err
	}
	var out []PendingInvestigation
	var token []byte
	for {
		resp, err := i.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: int32(cmp.Or(i.PageSize, 1000)), NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("listing investigations awaiting approval: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			threatID, ok := ThreatIDFromWorkflowID(e.GetExecution().GetWorkflowId())
			if !ok {
				continue
			}
			sa := e.GetSearchAttributes().GetIndexedFields()
			out = append(out, PendingInvestigation{
				ThreatID: threatID, AgentName: keyword(sa[AgentNameKey.GetName()]), SiteID: keyword(sa[SiteIDKey.GetName()]),
				Verdict: keyword(sa[VerdictKey.GetName()]), Priority: keyword(sa[PriorityKey.GetName()]), StartedAt: e.GetStartTime().AsTime(),
			})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	// SQL visibility stores (the dev server's) do not ORDER BY.
	slices.SortStableFunc(out, func(a, b PendingInvestigation) int { return a.StartedAt.Compare(b.StartedAt) })
	return out, nil
}

// oneOf is the value of valid that v names, whatever its case ("" stays "").
func oneOf[T ~string](what, v string, valid []T) (string, error) {
	if v == "" {
		return "", nil
	}
	for _, c := range valid {
		if strings.EqualFold(v, string(c)) {
			return string(c), nil
		}
	}
	return "", fmt.Errorf("%s %q is not one of %v", what, v, valid)
}

// keyword decodes a Keyword search attribute ("" when absent).
func keyword(p *commonpb.Payload) string {
	var s string
	if p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	}
	return s
}

// PendingQuery is the visibility query of Pending (also a saved view for the Web UI).
// Filter values are host names, IDs and enums; anything that could change the query's
// meaning is refused. Priority and verdict are matched without regard to case.
func PendingQuery(taskQueue string, f PendingFilter) (string, error) {
	var err error
	if f.Priority, err = oneOf("priority", f.Priority, investigation.Priorities); err != nil {
		return "", err
	}
	if f.Verdict, err = oneOf("verdict", f.Verdict, investigation.Verdicts); err != nil {
		return "", err
	}
	q := fmt.Sprintf(`WorkflowType = %q AND ExecutionStatus = "Running" AND %s = %q`, InvestigateWorkflow, StageKey.GetName(), StageAwaitingApproval)
	if taskQueue != "" {
		q += fmt.Sprintf(` AND TaskQueue = %q`, taskQueue)
	}
	for _, c := range []struct{ key, value string }{
		{PriorityKey.GetName(), f.Priority}, {VerdictKey.GetName(), f.Verdict},
		{AgentNameKey.GetName(), f.AgentName}, {SiteIDKey.GetName(), f.SiteID},
	} {
		if c.value == "" {
			continue
		}
		if strings.ContainsAny(c.value, "\"'`\\") || strings.IndexFunc(c.value, unicode.IsControl) >= 0 {
			return "", fmt.Errorf("filter %s %q: quotes, backslashes and control characters are not allowed", c.key, c.value)
		}
		q += fmt.Sprintf(` AND %s = "%s"`, c.key, c.value)
	}
	return q, nil
}
