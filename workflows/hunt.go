package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/s1client"
)

// Hunt runs an analyst's question as a Deep Visibility query. The runbook: translate →
// check → confirm → wait for a turn at init-query → run → fetch → follow-ups → audit.
// Every ending is an outcome in the returned status, not an error: only a malformed
// input fails the workflow.
func Hunt(ctx workflow.Context, in HuntInput) (HuntStatus, error) {
	if err := validHuntInput(in); err != nil {
		return HuntStatus{}, temporal.NewNonRetryableApplicationError(err.Error(), activities.ErrTypeBadInput, nil)
	}
	h := &hunter{
		ctx: ctx, in: in,
		log:    log.With(workflow.GetLogger(ctx), "HuntID", in.ID),
		status: HuntStatus{ID: in.ID, Question: in.Question, Actor: in.Actor, Stage: HuntTranslating},
	}
	if err := h.registerHandlers(); err != nil {
		return HuntStatus{}, err
	}
	h.run()
	return h.status, nil
}

func validHuntInput(in HuntInput) error {
	var problems []string
	if strings.TrimSpace(in.ID) == "" {
		problems = append(problems, "a hunt needs an ID")
	}
	if strings.TrimSpace(in.Question) == "" {
		problems = append(problems, "a hunt needs a question")
	}
	if strings.TrimSpace(in.Actor) == "" {
		problems = append(problems, "a hunt needs who asked (Actor)")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// run is the runbook; each step returns false when the hunt ends there.
func (h *hunter) run() {
	defer h.audit()
	if !h.loadSettings() || !h.translate() || !h.check() || !h.confirm() {
		return
	}
	if !h.takeTurn() {
		return
	}
	queryID, ok := h.startQuery()
	if !ok || !h.awaitQuery(queryID) || !h.fetch(queryID) {
		return
	}
	h.suggestFollowUps()
	h.end(HuntFinished, "")
}

// hunter is the state of one hunt, shared by the steps and the handlers.
type hunter struct {
	ctx      workflow.Context
	in       HuntInput
	log      log.Logger
	settings activities.HuntSettings
	status   HuntStatus
	// now is the workflow's clock when the hunt began: the anchor of "last 24 hours".
	now time.Time
	// confirmation is the analyst's answer, once given.
	confirmation *HuntConfirmation
	// queryStarted: init-query was called (for the audit record and cancellation).
	queryStarted bool
}

func (h *hunter) wid() string { return HuntWorkflowID(h.in.ID) }

// loadSettings reads the deployment's hunting settings once, so history records them.
func (h *hunter) loadSettings() bool {
	h.now = workflow.Now(h.ctx).UTC()
	err := workflow.ExecuteActivity(h.short("read hunt settings"), a.GetHuntSettings).Get(h.ctx, &h.settings)
	return h.failed("reading the hunt settings", err)
}

// translate asks the model (or the library) for the query.
func (h *hunter) translate() bool {
	h.setStage(HuntTranslating)
	ctx := workflow.WithActivityOptions(h.ctx, workflow.ActivityOptions{
		// A model call and its one correction; a failure falls back to the library inside.
		StartToCloseTimeout: 3 * time.Minute, ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:     "translate the question",
	})
	in := activities.TranslateHuntInput{Request: hunt.Request{Question: h.in.Question, Now: h.now}, Since: h.in.Since}
	err := workflow.ExecuteActivity(ctx, a.TranslateHunt, in).Get(h.ctx, &h.status.Translation)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == activities.ErrTypeNoTranslation {
		h.end(HuntNoTranslation, app.Message())
		return false
	}
	return h.failed("translating the question", err)
}

// check runs the validator: a refused query ends the hunt with the reason.
func (h *hunter) check() bool {
	h.setStage(HuntChecking)
	var res activities.CheckHuntResult
	err := workflow.ExecuteActivity(h.short("check the query"), a.CheckHunt, h.status.Translation, h.now).Get(h.ctx, &res)
	if !h.failed("checking the query", err) {
		return false
	}
	if res.Refusal != "" {
		h.end(HuntRefused, res.Refusal)
		return false
	}
	return true
}

// confirm waits for the analyst to run the proposed query (skipped with --yes).
func (h *hunter) confirm() bool {
	if h.in.Confirmed {
		return true
	}
	h.setStage(HuntAwaitingRun)
	timeout := h.in.ConfirmTimeout
	if timeout <= 0 {
		timeout = DefaultHuntConfirmTimeout
	}
	ok, err := workflow.AwaitWithTimeout(h.ctx, timeout, func() bool { return h.confirmation != nil })
	switch {
	case err != nil:
		h.end(HuntCancelled, "cancelled while awaiting confirmation")
		return false
	case !ok:
		h.end(HuntNotConfirmed, fmt.Sprintf("nobody confirmed the query within %s", timeout))
		return false
	case !h.confirmation.Run:
		h.end(HuntDeclined, "declined by "+h.confirmation.By)
		return false
	}
	h.status.ConfirmedBy = h.confirmation.By
	return true
}

// takeTurn queues the hunt on the DV gate and waits for its turn, showing its
// position. A hunt cancelled or timed out in the queue leaves it.
func (h *hunter) takeTurn() bool {
	h.setStage(HuntQueued)
	turnCh := workflow.GetSignalChannel(h.ctx, HuntTurnSignal)
	posCh := workflow.GetSignalChannel(h.ctx, HuntQueuePositionSignal)
	if !h.joinGate() {
		return false
	}
	timeout := h.in.QueueTimeout
	if timeout <= 0 {
		timeout = DefaultHuntQueueTimeout
	}
	timerCtx, cancelTimer := workflow.WithCancel(h.ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, timeout)
	for {
		var turn, timedOut bool
		var timerErr error
		sel := workflow.NewSelector(h.ctx)
		sel.AddReceive(turnCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(h.ctx, nil); turn = true })
		sel.AddReceive(posCh, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(h.ctx, &h.status.QueuePosition)
			if h.status.JoinedAt == 0 {
				h.status.JoinedAt = h.status.QueuePosition
			}
			h.updateDetails()
		})
		sel.AddFuture(timer, func(f workflow.Future) { timerErr = f.Get(h.ctx, nil); timedOut = true })
		sel.Select(h.ctx)
		switch {
		case turn:
			h.status.QueuePosition = 0
			return true
		case timedOut && timerErr != nil: // the timer was cancelled with the hunt
			h.leaveGate()
			h.end(HuntCancelled, "cancelled while queued for init-query")
			return false
		case timedOut:
			h.leaveGate()
			h.end(HuntQueueTimedOut, fmt.Sprintf("no turn at init-query within %s (position %d)", timeout, h.status.QueuePosition))
			return false
		}
	}
}

// joinGate signals the gate; when it is not running, an activity starts it with the
// signal (signal-with-start).
func (h *hunter) joinGate() bool {
	err := workflow.SignalExternalWorkflow(h.ctx, h.settings.GateWorkflowID, "", DVGateJoinSignal, h.wid()).Get(h.ctx, nil)
	if err == nil {
		return true
	}
	in := activities.JoinGateInput{
		GateWorkflowID: h.settings.GateWorkflowID, GateTaskQueue: h.settings.GateTaskQueue, Spacing: h.settings.GateSpacing,
		SignalName: DVGateJoinSignal, HuntWorkflowID: h.wid(), GateWorkflow: DVGateWorkflow,
		GateInput: DVGateInput{Spacing: h.settings.GateSpacing},
	}
	return h.failed("joining the init-query queue", workflow.ExecuteActivity(h.short("join the init-query queue"), a.JoinDVGate, in).Get(h.ctx, nil))
}

// leaveGate tells the gate the hunt no longer waits, even when the hunt is cancelled.
func (h *hunter) leaveGate() { h.tellGate(DVGateLeaveSignal) }

func (h *hunter) tellGate(signal string) {
	ctx, _ := workflow.NewDisconnectedContext(h.ctx)
	if err := workflow.SignalExternalWorkflow(ctx, h.settings.GateWorkflowID, "", signal, h.wid()).Get(ctx, nil); err != nil {
		h.log.Warn("Telling the DV gate failed; it frees the turn after its timeout.", "Signal", signal, "Error", err)
	}
}

// startQuery makes the init-query call of the hunt's turn, then frees the turn.
func (h *hunter) startQuery() (string, bool) {
	h.setStage(HuntRunning)
	ctx := workflow.WithActivityOptions(h.ctx, workflow.ActivityOptions{
		TaskQueue:           h.settings.S1TaskQueue,
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 10 * time.Minute,
		// A retry is another init-query call: no sooner than the console's minute.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: h.settings.GateSpacing, BackoffCoefficient: 1, MaximumAttempts: 4},
		Summary:     "init-query",
	})
	in := activities.HuntQueryInput{HuntID: h.in.ID, Query: h.status.Translation.Query, From: h.status.Translation.From, To: h.status.Translation.To, Limit: h.settings.MaxEvents}
	var queryID string
	h.queryStarted = true
	err := workflow.ExecuteActivity(ctx, a.InitHuntQuery, in).Get(h.ctx, &queryID)
	h.tellGate(DVGateDoneSignal)
	if h.ctx.Err() != nil {
		h.end(HuntCancelled, "cancelled while starting the query")
		return "", false
	}
	return queryID, h.failed("starting the Deep Visibility query", err)
}

// awaitQuery waits for SentinelOne to finish the query; its failed, expired or
// cancelled states end the hunt as such.
func (h *hunter) awaitQuery(queryID string) bool {
	ctx := workflow.WithActivityOptions(h.ctx, workflow.ActivityOptions{
		TaskQueue:           h.settings.S1TaskQueue,
		StartToCloseTimeout: 2 * time.Hour, HeartbeatTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10},
		Summary:     "await the query",
	})
	var st activities.HuntQueryState
	err := workflow.ExecuteActivity(ctx, a.AwaitHuntQuery, activities.AwaitHuntQueryInput{QueryID: queryID, HuntWorkflowID: h.wid()}).Get(h.ctx, &st)
	if h.ctx.Err() != nil {
		h.cancelQuery(queryID)
		h.end(HuntCancelled, "cancelled while the query ran")
		return false
	}
	if !h.failed("waiting for the Deep Visibility query", err) {
		return false
	}
	h.status.QueryState, h.status.Progress = st.State, st.Progress
	why := func(s string) string { return strings.TrimSpace(s + " " + st.Error) }
	switch s1client.DVState(st.State) {
	case s1client.DVFinished, s1client.DVFinishedEmpty:
		return true
	case s1client.DVExpired:
		h.end(HuntQueryExpired, why("SentinelOne timed the query out; narrow the time range or the query."))
	case s1client.DVCancelled:
		h.end(HuntQueryCanceled, why("SentinelOne reports the query cancelled."))
	default:
		h.end(HuntQueryFailed, why("SentinelOne reports the query "+st.State+"."))
	}
	return false
}

// cancelQuery asks SentinelOne to stop the query of a cancelled hunt (best effort).
func (h *hunter) cancelQuery(queryID string) {
	ctx, _ := workflow.NewDisconnectedContext(h.ctx)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: h.settings.S1TaskQueue, StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: 2 * time.Minute,
		Summary: "cancel the query",
	})
	if err := workflow.ExecuteActivity(ctx, a.CancelHuntQuery, queryID).Get(ctx, nil); err != nil {
		h.log.Warn("Cancelling the DV query failed.", "Error", err)
	}
}

// fetch reads the events into the result files; only their summary enters history.
func (h *hunter) fetch(queryID string) bool {
	h.setStage(HuntFetching)
	if h.status.QueryState == string(s1client.DVFinishedEmpty) {
		h.status.Summary = &activities.HuntSummary{}
		return true
	}
	ctx := workflow.WithActivityOptions(h.ctx, workflow.ActivityOptions{
		TaskQueue:           h.settings.S1TaskQueue,
		StartToCloseTimeout: 30 * time.Minute, HeartbeatTimeout: 2 * time.Minute, ScheduleToCloseTimeout: time.Hour,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:     "fetch the events",
	})
	var sum activities.HuntSummary
	err := workflow.ExecuteActivity(ctx, a.FetchHuntEvents, activities.FetchHuntInput{HuntID: h.in.ID, QueryID: queryID, MaxEvents: h.settings.MaxEvents}).Get(h.ctx, &sum)
	if !h.failed("fetching the events", err) {
		return false
	}
	h.status.Summary = &sum
	return true
}

// suggestFollowUps asks for three next questions; none is no failure.
func (h *hunter) suggestFollowUps() {
	h.setStage(HuntFollowingUp)
	in := activities.FollowUpsInput{Question: h.in.Question, Translation: h.status.Translation, Summary: *h.status.Summary}
	ctx := workflow.WithActivityOptions(h.ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute, ScheduleToCloseTimeout: 5 * time.Minute, Summary: "propose follow-ups",
	})
	if err := workflow.ExecuteActivity(ctx, a.SuggestFollowUps, in).Get(h.ctx, &h.status.FollowUps); err != nil {
		h.log.Warn("No follow-ups.", "Error", err)
	}
}

// end records the outcome; the hunt stops after it.
func (h *hunter) end(o HuntOutcome, reason string) {
	h.status.Outcome, h.status.Reason = o, reason
	h.setStage(HuntDone)
}

// failed ends the hunt when err is set (reporting a cancelled hunt as such), and
// reports whether the hunt goes on.
func (h *hunter) failed(what string, err error) bool {
	switch {
	case err == nil:
		return true
	case h.ctx.Err() != nil || temporal.IsCanceledError(err):
		h.end(HuntCancelled, "cancelled while "+what)
	default:
		h.end(HuntFailed, what+": "+rootMessage(err))
	}
	return false
}

// audit writes the hunt's records: the query that ran (when one did) and the
// outcome. IDs are the workflow ID and a step, so a retry writes the same ones.
func (h *hunter) audit() {
	t := h.status.Translation
	base := audit.Record{
		Time: workflow.Now(h.ctx).UTC(), Kind: audit.KindHunt, InvestigationID: h.wid(), RunID: workflow.GetInfo(h.ctx).WorkflowExecution.RunID,
		Actor: h.in.Actor, Channel: h.in.Channel, Action: clipRunes(h.in.Question, 500), Reason: clipRunes(t.Query, 2000), Analyzer: t.Translator,
	}
	var records []audit.Record
	if h.queryStarted {
		r := base
		r.ID, r.Decision = audit.RecordID(h.wid(), "query"), "run"
		if h.status.ConfirmedBy != "" {
			r.Identity = "confirmed by " + h.status.ConfirmedBy
		}
		records = append(records, r)
	}
	r := base
	r.ID, r.Decision = audit.RecordID(h.wid(), "outcome"), string(h.status.Outcome)
	if h.status.Reason != "" && !h.queryStarted {
		r.Reason = clipRunes(h.status.Reason, 2000)
	}
	if s := h.status.Summary; s != nil {
		n := s.Events
		r.HuntEvents = &n
	}
	records = append(records, r)
	ctx, _ := workflow.NewDisconnectedContext(h.ctx) // a cancelled hunt is audited too
	if err := workflow.ExecuteActivity(h.shortOn(ctx, "audit"), a.RecordAudit, records).Get(ctx, nil); err != nil {
		h.log.Error("Writing the hunt's audit records failed.", "Error", err)
	}
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// short is the option set for quick activities on the hunt's own task queue.
func (h *hunter) short(summary string) workflow.Context { return h.shortOn(h.ctx, summary) }

func (h *hunter) shortOn(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:                summary,
	})
}

// s1 is short on the SentinelOne task queue.
func (h *hunter) s1(summary string) workflow.Context {
	ctx := h.short(summary)
	if q := h.settings.S1TaskQueue; q != "" {
		o := workflow.GetActivityOptions(ctx)
		o.TaskQueue = q
		ctx = workflow.WithActivityOptions(ctx, o)
	}
	return ctx
}

func (h *hunter) setStage(s HuntStage) {
	h.status.Stage = s
	h.updateDetails()
}

func (h *hunter) updateDetails() {
	st := h.status
	var b strings.Builder
	fmt.Fprintf(&b, "**Hunt:** %s\n\n**Stage:** %s", st.ID, st.Stage)
	if st.Outcome != "" {
		fmt.Fprintf(&b, " (%s)", st.Outcome)
	}
	if st.QueuePosition > 0 {
		fmt.Fprintf(&b, "\n\n**Queue position:** %d", st.QueuePosition)
	}
	if st.Translation.Query != "" {
		fmt.Fprintf(&b, "\n\n**Translator:** %s", st.Translation.Translator)
	}
	workflow.SetCurrentDetails(h.ctx, b.String())
}

// registerHandlers answers the status query, the analyst's confirmation (update and
// signal) and the query's progress.
func (h *hunter) registerHandlers() error {
	if err := workflow.SetQueryHandler(h.ctx, HuntStatusQuery, func() (HuntStatus, error) { return h.status, nil }); err != nil {
		return err
	}
	accept := func(c HuntConfirmation) {
		if h.confirmation == nil {
			h.confirmation = &c
		}
	}
	err := workflow.SetUpdateHandlerWithOptions(h.ctx, RunHuntUpdate,
		func(_ workflow.Context, c HuntConfirmation) (string, error) {
			accept(c)
			if c.Run {
				return "the query runs: " + h.status.Translation.Query, nil
			}
			return "the hunt is declined", nil
		},
		workflow.UpdateHandlerOptions{Validator: func(c HuntConfirmation) error {
			switch {
			case h.status.Stage != HuntAwaitingRun:
				return fmt.Errorf("the hunt is %s, not awaiting confirmation", h.status.Stage)
			case h.confirmation != nil:
				return errors.New("the hunt is already confirmed or declined")
			}
			return nil
		}})
	if err != nil {
		return err
	}
	confirmCh := workflow.GetSignalChannel(h.ctx, RunHuntSignal)
	progressCh := workflow.GetSignalChannel(h.ctx, HuntProgressSignal)
	workflow.Go(h.ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(confirmCh, func(c workflow.ReceiveChannel, _ bool) {
				var conf HuntConfirmation
				c.Receive(ctx, &conf)
				if h.status.Stage == HuntAwaitingRun {
					accept(conf)
				}
			})
			sel.AddReceive(progressCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &h.status.Progress) })
			sel.Select(ctx)
			if ctx.Err() != nil {
				return
			}
		}
	})
	return nil
}
