package ingest

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/config"
)

// The poller is one long-running workflow per deployment (config.Temporal.PollerWorkflowID),
// not a Schedule: a Schedule starts one workflow per poll, and those runs (2,880 a day
// at the default interval) buried the investigations in the Web UI's list. This one
// polls in a loop and continues as new every pollsPerRun polls, so the list shows it
// once (plus a few closed runs a day) and its history stays short.
const (
	// PollWorkflow is the poller's workflow type.
	PollWorkflow = "PollThreats"
	// ConfigureSignal carries new Settings to the running poller (`starter poll` sends
	// them each time it starts).
	ConfigureSignal = "configure"
	// StatusQuery returns the poller's PollerStatus.
	StatusQuery = "status"

	// pollsPerRun bounds one run's history: about 11 events a poll.
	pollsPerRun = 500
	// maxRunHistoryBytes continues as new earlier when polls carry a large cursor (an
	// outbreak inside the overlap window).
	maxRunHistoryBytes = 4 << 20
)

// Settings are the poller's configuration.
type Settings struct {
	// Interval is the time from the start of one poll to the start of the next.
	Interval time.Duration `json:"interval"`
	// Lookback is how far back the very first poll reads.
	Lookback time.Duration `json:"lookback"`
	// Overlap is how far before the cursors each poll re-reads.
	Overlap time.Duration `json:"overlap"`
	// Scope limits ingestion to some accounts, sites or groups.
	Scope Scope `json:"scope"`
}

// SettingsOf are the poller settings of a configuration.
func SettingsOf(cfg config.Config) Settings {
	return Settings{Interval: cfg.PollInterval, Lookback: cfg.PollLookback, Overlap: cfg.PollOverlap,
		Scope: Scope{AccountIDs: cfg.ScopeAccountIDs, SiteIDs: cfg.ScopeSiteIDs, GroupIDs: cfg.ScopeGroupIDs}}
}

// PollerInput starts a run of the poller: the settings, and the cursors and totals a
// previous run continued with (zero on the very first).
type PollerInput struct {
	Settings Settings  `json:"settings"`
	State    PollState `json:"state"`
	Totals   Totals    `json:"totals"`
}

// Totals count what the poller did since it first started, across continue-as-new.
type Totals struct {
	Polls          int `json:"polls"`
	FailedPolls    int `json:"failedPolls"`
	Listed         int `json:"listed"`
	Started        int `json:"started"`
	AlreadyStarted int `json:"alreadyStarted"`
	Notified       int `json:"notified"`
	Closed         int `json:"closed"`
	Feedback       int `json:"feedback"`
	// Requests: GET /threats requests of the polls. The overlap windows (PollResult): how
	// often the console's count showed nothing late, how often it differed and the
	// window was read on, the scheduled sweeps, and the threats and changes found there,
	// visible only after the cursor had passed them.
	Requests      int `json:"requests,omitempty"`
	WindowChecks  int `json:"windowChecks,omitempty"`
	WindowRelists int `json:"windowRelists,omitempty"`
	Sweeps        int `json:"sweeps,omitempty"`
	Late          int `json:"late,omitempty"`
}

func (t *Totals) add(r PollResult) {
	t.Polls++
	t.Listed += r.Listed
	t.Started += r.Started
	t.AlreadyStarted += r.AlreadyStarted
	t.Notified += r.Notified
	t.Closed += r.Closed
	t.Feedback += r.Feedback
	t.Requests += r.Requests
	t.WindowChecks += r.WindowChecks
	t.WindowRelists += r.WindowRelists
	t.Sweeps += r.Sweeps
	t.Late += r.Late
}

// PollerStatus answers StatusQuery.
type PollerStatus struct {
	Settings Settings `json:"settings"`
	// CreatedSince and UpdatedSince are the cursors of the two streams.
	CreatedSince time.Time `json:"createdSince"`
	UpdatedSince time.Time `json:"updatedSince"`
	LastPollAt   time.Time `json:"lastPollAt,omitzero"`
	// LastError is the last poll's error, empty when it succeeded.
	LastError string `json:"lastError,omitempty"`
	Totals    Totals `json:"totals"`
}

// p is only used for method references; Temporal calls the poller's real instance.
var p *Poller

// PollThreats is the poller: every Interval it lists SentinelOne's new and changed
// threats (the two streams, each with its cursor) and routes each to its one
// investigation. A poll that fails leaves the cursors where they were, so the next one
// covers what it missed; a restarted poller process resumes from the same cursors.
func PollThreats(ctx workflow.Context, in PollerInput) error {
	st := PollerStatus{Settings: in.Settings, Totals: in.Totals}
	state := in.State
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (PollerStatus, error) {
		st.CreatedSince, st.UpdatedSince = state.Created.Since, state.Updated.Since
		return st, nil
	}); err != nil {
		return fmt.Errorf("registering the %s query: %w", StatusQuery, err)
	}
	configure := workflow.GetSignalChannel(ctx, ConfigureSignal)
	if state.Created.Since.IsZero() && state.Updated.Since.IsZero() {
		// The very first poll backfills the lookback window.
		start := workflow.Now(ctx).Add(-in.Settings.Lookback)
		state.Created.Since, state.Updated.Since = start, start
	}
	for polls := 0; polls < pollsPerRun && !runIsLong(ctx); polls++ {
		began := workflow.Now(ctx)
		var res PollResult
		err := workflow.ExecuteActivity(pollOptions(ctx), p.ListAndStartThreats,
			PollInput{State: state, Overlap: st.Settings.Overlap, Scope: st.Settings.Scope}).Get(ctx, &res)
		st.LastPollAt = began
		if err != nil {
			st.LastError = err.Error()
			st.Totals.FailedPolls++
			workflow.GetLogger(ctx).Warn("Poll failed; the next poll retries from the same cursor.", "Error", err)
		} else {
			st.LastError = ""
			state = res.State
			st.Totals.add(res)
		}
		waitForNextPoll(ctx, configure, &st.Settings, began)
	}
	for configure.ReceiveAsync(&st.Settings) {
		// Settings sent during the last wait travel with the next run, not lost.
	}
	return workflow.NewContinueAsNewError(ctx, PollThreats, PollerInput{Settings: st.Settings, State: state, Totals: st.Totals})
}

// waitForNextPoll sleeps until Interval after the poll began; new settings take effect
// at once (a shorter interval ends the wait sooner).
func waitForNextPoll(ctx workflow.Context, configure workflow.ReceiveChannel, s *Settings, began time.Time) {
	for {
		wait := began.Add(s.Interval).Sub(workflow.Now(ctx))
		if wait <= 0 {
			return
		}
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, wait)
		fired := false
		workflow.NewSelector(ctx).
			AddFuture(timer, func(workflow.Future) { fired = true }).
			AddReceive(configure, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, s) }).
			Select(ctx)
		cancel()
		if fired {
			return
		}
	}
}

// runIsLong: the run should continue as new before its history grows further.
func runIsLong(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistorySize() > maxRunHistoryBytes
}

// pollOptions bound one poll: it heartbeats between pages, and a poll that keeps
// failing gives way to the next one rather than retrying forever.
func pollOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		Summary:             "list new and changed threats, route each to its investigation",
	})
}

// WorkerStopTimeout is how long a stopping poller process lets a poll in flight
// finish: a poll cut short is retried, and finds the threats it had started already
// started (counted as AlreadyStarted, never a second investigation).
const WorkerStopTimeout = 10 * time.Second

// Register registers the poller workflow and its activity.
func Register(r worker.Registry, poller *Poller) {
	r.RegisterWorkflowWithOptions(PollThreats, workflow.RegisterOptions{Name: PollWorkflow})
	r.RegisterActivity(poller)
}

// EnsurePoller starts the deployment's poller workflow, or hands the running one the
// current settings: several poller processes, or a restart, never start a second one.
// The cursors live in the workflow, so they survive any process.
func EnsurePoller(ctx context.Context, c client.Client, t config.Temporal, s Settings) error {
	_, err := c.SignalWithStartWorkflow(ctx, t.PollerWorkflowID(), ConfigureSignal, s, client.StartWorkflowOptions{
		ID:        t.PollerWorkflowID(),
		TaskQueue: t.PollerTaskQueue(),
		// A poller that was terminated or failed starts afresh (from the lookback).
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         "Poll SentinelOne for new and changed threats",
	}, PollWorkflow, PollerInput{Settings: s})
	if err != nil {
		return fmt.Errorf("starting the poller workflow %s: %w", t.PollerWorkflowID(), err)
	}
	return nil
}

// Status reads the poller's status.
func Status(ctx context.Context, c client.Client, t config.Temporal) (PollerStatus, error) {
	v, err := c.QueryWorkflow(ctx, t.PollerWorkflowID(), "", StatusQuery)
	if err != nil {
		return PollerStatus{}, fmt.Errorf("querying the poller %s: %w", t.PollerWorkflowID(), err)
	}
	var st PollerStatus
	if err := v.Get(&st); err != nil {
		return PollerStatus{}, fmt.Errorf("decoding the poller's status: %w", err)
	}
	return st, nil
}
