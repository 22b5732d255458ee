// Package control is s1copilot's one fleet-wide control point: a singleton workflow per
// deployment that holds the kill switch and counts the actions taken, so that
// blast-radius caps hold across every worker and survive restarts. It is a workflow,
// not a database, because Temporal already gives it what that needs: one instance
// (its ID), serialised updates, durable state and an audit trail in its history.
package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// Names of the control workflow and its messages. Its ID and task queue belong to a
// deployment (config.Temporal.ControlWorkflowID, ControlTaskQueue).
const (
	// WorkflowName is its workflow type.
	WorkflowName = "S1CopilotControl"
	// KillSwitchUpdate turns the kill switch on or off (KillSwitchRequest → State).
	KillSwitchUpdate = "kill-switch"
	// ReserveUpdate counts actions and, for automatic ones, checks the caps
	// (ReserveRequest → ReserveResult).
	ReserveUpdate = "reserve"
	// StateQuery returns the State.
	StateQuery = "state"
	// maxUpdatesPerRun bounds the history of one run; then it continues as new.
	maxUpdatesPerRun = 1000
)

// State is the control state, carried across continue-as-new.
type State struct {
	KillSwitch       bool      `json:"killSwitch"`
	KillSwitchBy     string    `json:"killSwitchBy,omitempty"`
	KillSwitchReason string    `json:"killSwitchReason,omitempty"`
	KillSwitchAt     time.Time `json:"killSwitchAt,omitempty"`
	// Isolations and AutoActions are the times of the actions counted, pruned to the
	// longest window a cap looks at.
	Isolations  []time.Time `json:"isolations,omitempty"`
	AutoActions []time.Time `json:"autoActions,omitempty"`
}

// KillSwitchRequest turns the kill switch on or off; who and why are required.
type KillSwitchRequest struct {
	On     bool   `json:"on"`
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// ReserveRequest asks to count actions. Automatic actions are checked against the caps
// first; approved ones (a human decided) are only counted.
type ReserveRequest struct {
	InvestigationID string                 `json:"investigationId"`
	Actions         []investigation.Action `json:"actions"`
	Auto            bool                   `json:"auto"`
	Caps            policy.Caps            `json:"caps"`
}

// ReserveResult says which actions may go ahead; Denied maps the others to the reason.
type ReserveResult struct {
	Granted []investigation.Action          `json:"granted,omitempty"`
	Denied  map[investigation.Action]string `json:"denied,omitempty"`
	// KillSwitch is on: no automatic action was granted.
	KillSwitch bool         `json:"killSwitch,omitempty"`
	Usage      policy.Usage `json:"usage"`
}

// Workflow is the control workflow.
func Workflow(ctx workflow.Context, st State) error {
	updates := 0
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (State, error) { return st, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, KillSwitchUpdate,
		func(ctx workflow.Context, r KillSwitchRequest) (State, error) {
			updates++
			st.KillSwitch, st.KillSwitchBy, st.KillSwitchReason, st.KillSwitchAt = r.On, r.Actor, r.Reason, workflow.Now(ctx)
			workflow.GetLogger(ctx).Warn("Kill switch changed.", "On", r.On, "Actor", r.Actor, "Reason", r.Reason)
			return st, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r KillSwitchRequest) error {
			if strings.TrimSpace(r.Actor) == "" || strings.TrimSpace(r.Reason) == "" {
				return errors.New("the kill switch needs who (actor) and why (reason)")
			}
			return nil
		}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, ReserveUpdate,
		func(ctx workflow.Context, r ReserveRequest) (ReserveResult, error) {
			updates++
			return st.reserve(workflow.Now(ctx), r), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r ReserveRequest) error {
			for _, a := range r.Actions {
				if !a.Valid() {
					return fmt.Errorf("unknown action %q", a)
				}
			}
			return nil
		}})
	if err != nil {
		return err
	}
	_ = workflow.Await(ctx, func() bool {
		return updates >= maxUpdatesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
	})
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return workflow.NewContinueAsNewError(ctx, Workflow, st)
}

func (st *State) killSwitchReason() string {
	return fmt.Sprintf("the kill switch is on (%s: %s)", st.KillSwitchBy, st.KillSwitchReason)
}

// Uncapped answers a reservation under a policy without caps, from a state read by
// Query: with no cap there is nothing to count, so the singleton need not serialise
// an Update for every investigation of the fleet; only the kill switch applies.
func Uncapped(st State, r ReserveRequest) ReserveResult {
	res := ReserveResult{}
	for _, a := range r.Actions {
		if r.Auto && st.KillSwitch {
			res.KillSwitch = true
			if res.Denied == nil {
				res.Denied = map[investigation.Action]string{}
			}
			res.Denied[a] = st.killSwitchReason()
			continue
		}
		res.Granted = append(res.Granted, a)
	}
	return res
}

// reserve is the caps logic: pure, so it is table-tested without Temporal.
func (st *State) reserve(now time.Time, r ReserveRequest) ReserveResult {
	st.prune(now)
	res := ReserveResult{Denied: map[investigation.Action]string{}}
	for _, a := range r.Actions {
		u := st.usage(now)
		if r.Auto {
			if st.KillSwitch {
				res.KillSwitch = true
				res.Denied[a] = st.killSwitchReason()
				continue
			}
			if reason := policy.CapReached(r.Caps, u, a, 0); reason != "" {
				res.Denied[a] = reason
				continue
			}
			st.AutoActions = append(st.AutoActions, now)
		}
		if a == investigation.ActionIsolate {
			st.Isolations = append(st.Isolations, now)
		}
		res.Granted = append(res.Granted, a)
	}
	res.Usage = st.usage(now)
	if len(res.Denied) == 0 {
		res.Denied = nil
	}
	return res
}

func (st *State) usage(now time.Time) policy.Usage {
	return policy.Usage{
		IsolationsLastHour:    countSince(st.Isolations, now.Add(-time.Hour)),
		IsolationsLastDay:     countSince(st.Isolations, now.Add(-24*time.Hour)),
		AutoActionsLastMinute: countSince(st.AutoActions, now.Add(-time.Minute)),
	}
}

func (st *State) prune(now time.Time) {
	st.Isolations = keepSince(st.Isolations, now.Add(-24*time.Hour))
	st.AutoActions = keepSince(st.AutoActions, now.Add(-time.Minute))
}

func countSince(ts []time.Time, from time.Time) int {
	n := 0
	for _, t := range ts {
		if t.After(from) {
			n++
		}
	}
	return n
}

func keepSince(ts []time.Time, from time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if t.After(from) {
			out = append(out, t)
		}
	}
	return out
}

// Client reaches one deployment's control workflow.
type Client struct {
	C client.Client
	// WorkflowID is the deployment's control workflow (config.Temporal.ControlWorkflowID).
	WorkflowID string
	// TaskQueue is where Ensure starts it (config.Temporal.ControlTaskQueue); only Ensure
	// needs it.
	TaskQueue string
}

// Ensure starts the control workflow unless it runs already; every worker calls it at
// start, so the first one creates it.
func (c Client) Ensure(ctx context.Context) error {
	_, err := c.C.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       c.WorkflowID,
		TaskQueue:                c.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "s1copilot control: kill switch and blast-radius caps",
	}, WorkflowName, State{})
	if err != nil && !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return fmt.Errorf("starting the control workflow %s: %w", c.WorkflowID, err)
	}
	return nil
}

// SetKillSwitch turns the kill switch on or off and returns the new state.
func (c Client) SetKillSwitch(ctx context.Context, r KillSwitchRequest) (State, error) {
	h, err := c.C.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: c.WorkflowID, UpdateName: KillSwitchUpdate, Args: []any{r}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return State{}, fmt.Errorf("kill switch: %w", err)
	}
	var st State
	if err := h.Get(ctx, &st); err != nil {
		return State{}, fmt.Errorf("kill switch: %w", err)
	}
	return st, nil
}

// Reserve counts actions for an investigation. updateID makes a retried call count once.
func (c Client) Reserve(ctx context.Context, updateID string, r ReserveRequest) (ReserveResult, error) {
	h, err := c.C.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: c.WorkflowID, UpdateID: updateID, UpdateName: ReserveUpdate, Args: []any{r}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return ReserveResult{}, fmt.Errorf("reserving actions: %w", err)
	}
	var res ReserveResult
	if err := h.Get(ctx, &res); err != nil {
		return ReserveResult{}, fmt.Errorf("reserving actions: %w", err)
	}
	return res, nil
}

// Current returns the control state.
func (c Client) Current(ctx context.Context) (State, error) {
	v, err := c.C.QueryWorkflow(ctx, c.WorkflowID, "", StateQuery)
	if err != nil {
		return State{}, fmt.Errorf("reading the control state: %w", err)
	}
	var st State
	if err := v.Get(&st); err != nil {
		return State{}, fmt.Errorf("reading the control state: %w", err)
	}
	return st, nil
}
