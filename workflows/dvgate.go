package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// DVGateInput starts (or continues) the DV query gate.
type DVGateInput struct {
	// Spacing is the least time between the end of one turn's init-query and the next
	// turn; at least 61 s in production (the console's one a minute per token).
	Spacing time.Duration `json:"spacing"`
	// TurnTimeout frees a turn whose hunt never says it is done (its worker died);
	// 0 means DefaultDVTurnTimeout.
	TurnTimeout time.Duration `json:"turnTimeout,omitempty"`
	// MaxGrants is how many turns a run grants before continuing as new, keeping its
	// history short; 0 means DefaultDVGateGrants.
	MaxGrants int `json:"maxGrants,omitempty"`
	// State is carried across continue-as-new.
	State DVGateState `json:"state"`
}

// DVGateState is the gate's queue, shown by DVGateStatusQuery.
type DVGateState struct {
	// Waiting are the queued hunts' workflow IDs, first come first served.
	Waiting []string `json:"waiting,omitempty"`
	// Holder is the hunt holding the turn (granted, init-query not yet done).
	Holder      string    `json:"holder,omitempty"`
	HolderSince time.Time `json:"holderSince,omitempty"`
	// NextTurn is the earliest time of the next grant.
	NextTurn time.Time `json:"nextTurn,omitempty"`
	// Granted counts the turns granted since the gate first started.
	Granted int `json:"granted"`
}

// Defaults of DVGateInput.
const (
	DefaultDVTurnTimeout = 5 * time.Minute
	DefaultDVGateGrants  = 200
	// MinDVSpacing is the spacing a gate keeps when none is given.
	MinDVSpacing = 61 * time.Second
)

// DVQueryGate grants hunts their turn at init-query one at a time, first come first
// served, no closer than Spacing apart, and tells each waiting hunt its position.
// Temporal's durable timers and signals make the queue survive restarts; hunts that
// leave (cancelled, timed out) or vanish are dropped. It runs for good, continuing as
// new every MaxGrants turns.
func DVQueryGate(ctx workflow.Context, in DVGateInput) error {
	g := &gate{ctx: ctx, in: in, st: in.State, log: workflow.GetLogger(ctx)}
	if g.in.Spacing <= 0 {
		g.in.Spacing = MinDVSpacing
	}
	if g.in.TurnTimeout <= 0 {
		g.in.TurnTimeout = DefaultDVTurnTimeout
	}
	if g.in.MaxGrants <= 0 {
		g.in.MaxGrants = DefaultDVGateGrants
	}
	if err := workflow.SetQueryHandler(ctx, DVGateStatusQuery, func() (DVGateState, error) { return g.st, nil }); err != nil {
		return err
	}
	g.join = workflow.GetSignalChannel(ctx, DVGateJoinSignal)
	g.leave = workflow.GetSignalChannel(ctx, DVGateLeaveSignal)
	g.done = workflow.GetSignalChannel(ctx, DVGateDoneSignal)
	return g.run()
}

type gate struct {
	ctx               workflow.Context
	in                DVGateInput
	st                DVGateState
	log               log.Logger
	join, leave, done workflow.ReceiveChannel
	grantedThisRun    int
}

func (g *gate) run() error {
	for {
		if err := g.ctx.Err(); err != nil {
			return err // cancelled: the queued hunts time out or join a new gate
		}
		g.drain()
		now := workflow.Now(g.ctx)
		switch {
		case g.st.Holder != "":
			g.waitFor(g.st.HolderSince.Add(g.in.TurnTimeout))
			if g.st.Holder != "" && !workflow.Now(g.ctx).Before(g.st.HolderSince.Add(g.in.TurnTimeout)) {
				g.log.Warn("A hunt held its turn too long; freeing it.", "Hunt", g.st.Holder)
				g.release()
			}
		case len(g.st.Waiting) == 0:
			if g.grantedThisRun >= g.in.MaxGrants || workflow.GetInfo(g.ctx).GetContinueAsNewSuggested() {
				g.drain()
				if len(g.st.Waiting) == 0 && g.st.Holder == "" {
					next := g.in
					next.State = g.st
					return workflow.NewContinueAsNewError(g.ctx, DVGateWorkflow, next)
				}
				continue
			}
			g.waitFor(time.Time{})
		case now.Before(g.st.NextTurn):
			g.waitFor(g.st.NextTurn)
		default:
			g.grant()
		}
	}
}

// drain handles every signal already received, without blocking.
func (g *gate) drain() {
	for g.receive() {
	}
}

// waitFor blocks until a signal arrives or until (zero: no deadline).
func (g *gate) waitFor(until time.Time) {
	sel := workflow.NewSelector(g.ctx)
	for _, c := range []workflow.ReceiveChannel{g.join, g.leave, g.done} {
		sel.AddReceive(c, func(workflow.ReceiveChannel, bool) { g.receive() })
	}
	sel.AddReceive(g.ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	timerCtx, cancel := workflow.WithCancel(g.ctx)
	defer cancel()
	if !until.IsZero() {
		if d := until.Sub(workflow.Now(g.ctx)); d > 0 {
			sel.AddFuture(workflow.NewTimer(timerCtx, d), func(workflow.Future) {})
		} else {
			return
		}
	}
	sel.Select(g.ctx)
}

// receive handles one signal (the first channel with one); it reports whether there
// was one.
func (g *gate) receive() bool {
	var wid string
	switch {
	case g.join.ReceiveAsync(&wid):
		g.onJoin(wid)
	case g.leave.ReceiveAsync(&wid):
		g.onLeave(wid)
	case g.done.ReceiveAsync(&wid):
		if wid == g.st.Holder {
			g.release()
		}
	default:
		return false
	}
	return true
}

// onJoin queues a hunt (a repeated join only repeats its position).
func (g *gate) onJoin(wid string) {
	if wid == g.st.Holder {
		return
	}
	i := slices.Index(g.st.Waiting, wid)
	if i < 0 {
		g.st.Waiting = append(g.st.Waiting, wid)
		i = len(g.st.Waiting) - 1
	}
	g.tellPositions(i, i+1)
}

// onLeave drops a hunt from the queue; the holder leaving frees the turn (the spacing
// set at its grant still applies: it may have called init-query).
func (g *gate) onLeave(wid string) {
	if wid == g.st.Holder {
		g.st.Holder = ""
		g.tellPositions(0, len(g.st.Waiting))
		return
	}
	if i := slices.Index(g.st.Waiting, wid); i >= 0 {
		g.st.Waiting = slices.Delete(g.st.Waiting, i, i+1)
		g.tellPositions(i, len(g.st.Waiting))
	}
}

// release frees the turn after its init-query: the next comes a spacing later.
func (g *gate) release() {
	g.st.Holder = ""
	if next := workflow.Now(g.ctx).Add(g.in.Spacing); next.After(g.st.NextTurn) {
		g.st.NextTurn = next
	}
	g.tellPositions(0, len(g.st.Waiting))
}

// grant gives the first waiting hunt its turn. A hunt that is gone is dropped
// without spending the turn.
func (g *gate) grant() {
	wid := g.st.Waiting[0]
	g.st.Waiting = g.st.Waiting[1:]
	err := workflow.SignalExternalWorkflow(g.ctx, wid, "", HuntTurnSignal, true).Get(g.ctx, nil)
	if err != nil {
		g.log.Info("A queued hunt is gone; skipping it.", "Hunt", wid, "Error", err)
		g.tellPositions(0, len(g.st.Waiting))
		return
	}
	now := workflow.Now(g.ctx)
	g.st.Holder, g.st.HolderSince = wid, now
	g.st.NextTurn = now.Add(g.in.Spacing)
	g.st.Granted++
	g.grantedThisRun++
	// The others keep their positions: the holder still counts ahead of them.
}

// position is the place in line of the hunt at index i of the queue: the hunt holding
// the turn counts ahead until its init-query is done.
func (g *gate) position(i int) int {
	if g.st.Holder != "" {
		return i + 2
	}
	return i + 1
}

// tellPositions signals the hunts at indexes [from, to) of the queue their
// positions; one that is gone leaves the queue.
func (g *gate) tellPositions(from, to int) {
	type told struct {
		wid string
		f   workflow.Future
	}
	var sent []told
	for i := from; i < to && i < len(g.st.Waiting); i++ {
		wid := g.st.Waiting[i]
		sent = append(sent, told{wid, workflow.SignalExternalWorkflow(g.ctx, wid, "", HuntQueuePositionSignal, g.position(i))})
	}
	var gone []string
	for _, t := range sent {
		if err := t.f.Get(g.ctx, nil); err != nil {
			gone = append(gone, t.wid)
		}
	}
	for _, wid := range gone {
		g.onLeave(wid)
	}
}
