package ingest

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/s1client"
)

// Scope limits ingestion to part of the tenant (empty: everything the token sees).
type Scope struct {
	AccountIDs []string `json:"accountIds,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty"`
	GroupIDs   []string `json:"groupIds,omitempty"`
}

// Poller lists new and changed threats and routes each to its one investigation.
type Poller struct {
	S1             *s1client.Client
	Investigations Investigations
	// PageSize is the list page size (SentinelOne allows up to 1000).
	PageSize int
	// Feedback, when set, records analysts' console changes to threats whose
	// investigation has finished.
	Feedback *ConsoleFeedback
	// Now is the poller's clock, which schedules the sweeps of the overlap windows
	// (nil: time.Now). Tests set the simulator's.
	Now func() time.Time
}

// PollInput is one poll's input.
type PollInput struct {
	State PollState `json:"state"`
	// Overlap is how far before each cursor a poll re-reads, for threats that become
	// visible in the list some time after their timestamps.
	Overlap time.Duration `json:"overlap"`
	Scope   Scope         `json:"scope"`
}

// PollResult is one poll's result and the next poll's cursor.
type PollResult struct {
	State PollState `json:"state"`
	// Listed threats (both streams); Started investigations; AlreadyStarted: threats new
	// to the cursor whose investigation existed anyway (counted, never silently merged);
	// Notified: running investigations told of a console change; Closed: changes to
	// threats whose investigation had already finished (nothing to do).
	Listed         int `json:"listed"`
	Started        int `json:"started"`
	AlreadyStarted int `json:"alreadyStarted"`
	Notified       int `json:"notified"`
	Closed         int `json:"closed"`
	// Feedback: analyst feedback records written for changes of finished investigations.
	Feedback int `json:"feedback,omitempty"`
	// Requests: GET /threats requests the poll made (both streams).
	Requests int `json:"requests,omitempty"`
	// How each stream's overlap window was read (one of three per stream and poll).
	// WindowChecks: the console's count of the window matched what the poller had seen,
	// so no page beyond the first one reaching into the window was read. WindowRelists:
	// the count differed (a late threat or change, or one gone), so the window was read
	// on. Sweeps: read whole on schedule, for what a count cannot see. Late: threats and
	// changes found in the window, i.e. listed by the console only after the cursor had
	// passed their timestamps.
	WindowChecks  int `json:"windowChecks,omitempty"`
	WindowRelists int `json:"windowRelists,omitempty"`
	Sweeps        int `json:"sweeps,omitempty"`
	Late          int `json:"late,omitempty"`
}

// maxSweepGap caps the updated stream's sweep interval, so a long overlap does not leave
// a late change unseen for long.
const maxSweepGap = 2 * time.Minute

// sweepEvery is how often a stream reads its whole overlap window although its count
// matched. On the updated stream a count cannot see a threat changed again inside the
// window (it is still counted once): sweeping every quarter of the overlap finds such a
// change if it became visible within three quarters of the overlap. The created stream's
// count misses a late threat only when another one left the window in the same poll
// interval (deleted, moved out of scope), so it sweeps half as often, as a backstop.
// Any poll that happens to read a whole window (a quiet console) counts as its sweep.
func sweepEvery(s stream, overlap time.Duration) time.Duration {
	every := min(overlap/4, maxSweepGap)
	if s == createdStream {
		every *= 2
	}
	return every
}

// stream is one of the poller's two listings.
type stream int

const (
	// createdStream lists new threats by createdAt and starts their investigations.
	createdStream stream = iota
	// updatedStream lists changed threats by updatedAt and routes each change.
	updatedStream
)

// poll is one run of ListAndStartThreats.
type poll struct {
	p     *Poller
	ctx   context.Context
	in    PollInput
	now   time.Time
	size  int
	res   PollResult
	batch []s1client.Threat // new threats waiting to be started
}

// ListAndStartThreats runs both streams once. New threats start their investigation;
// changed threats notify their running investigation, or start one if the threat was
// never investigated (it became visible after the created stream had moved on). Starting
// is idempotent (the workflow ID is derived from the threat ID), so a retried poll is
// harmless; on any error the cursor does not move and the next poll tries again.
func (p *Poller) ListAndStartThreats(ctx context.Context, in PollInput) (PollResult, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	r := &poll{p: p, ctx: ctx, in: in, now: now(), size: p.PageSize,
		res: PollResult{State: PollState{Created: in.State.Created.clone(), Updated: in.State.Updated.clone()}}}
	if r.size <= 0 {
		r.size = 200
	}
	if err := r.readStream(createdStream); err != nil {
		return PollResult{}, activities.S1Error("list new threats", err)
	}
	if err := r.readStream(updatedStream); err != nil {
		return PollResult{}, activities.S1Error("list changed threats", err)
	}
	res := r.res
	res.State.Created.forget(in.Overlap)
	res.State.Updated.forget(in.Overlap)
	if res.Started+res.AlreadyStarted+res.Notified+res.Late > 0 {
		activity.GetLogger(ctx).Info("Poll done.", "Listed", res.Listed, "Started", res.Started,
			"AlreadyStarted", res.AlreadyStarted, "Notified", res.Notified, "Closed", res.Closed,
			"Late", res.Late, "Requests", res.Requests, "WindowRelists", res.WindowRelists, "Sweeps", res.Sweeps)
	}
	return res, nil
}

// readStream reads one stream from Since-Overlap on, newest first: first the tail (at or
// after the cursor), then the overlap window [Since-Overlap, Since) behind it, which a
// burst fills with threats already handled. Re-reading all of the window every poll cost
// a page per PageSize threats in it; instead, the first page's totalItems, less the tail,
// is the console's count of the window, and when it equals the threats Seen holds there,
// nothing arrived late and the listing stops at that page. Otherwise what is missing is
// usually just behind the cursor, so reading on newest first finds it soon; the listing
// stops once it has found as many as the count said. A quiet console thus costs one
// request a stream, as before, and a burst one more than its new threats fill.
func (r *poll) readStream(s stream) error {
	st := r.state(s)
	lo, hi := st.window(r.in.Overlap) // the window behind the cursor the poll started from
	hasWindow := lo.Before(hi)
	sweep := hasWindow && (st.SweptAt.IsZero() || r.now.Before(st.SweptAt) || r.now.Sub(st.SweptAt) >= sweepEvery(s, r.in.Overlap))

	params := r.params(s, lo)
	var (
		counted  bool // the console counted the listing (its first page's totalItems)
		total    int  // that count
		tail     int  // threats listed at or after hi
		reached  bool // the listing has reached the window
		want     = -1 // threats in the window that Seen lacks; -1: unknown, or some left, so read it all
		found    int  // threats new to the stream found in the window
		complete bool // the listing was read to its end
		pages    int
		inWindow = map[string]bool{} // the window's threats as listed
		cursors  = map[string]bool{}
	)
	for {
		page, err := r.p.S1.ListThreats(r.ctx, params)
		r.res.Requests++
		if err != nil {
			return fmt.Errorf("listing from %s (page %d): %w", lo.Format(time.RFC3339Nano), pages+1, err)
		}
		if pages == 0 {
			counted, total = page.Counted, page.TotalItems
		}
		pages++
		for _, t := range page.Items {
			at := stamp(s, t)
			if !at.Before(hi) {
				tail++
			} else {
				if !reached {
					// Newest first: the whole tail has been listed, and handled.
					reached = true
					if counted && !sweep {
						want = max(total-tail-st.seenIn(lo, hi), -1)
					}
				}
				inWindow[string(t.ID)] = true
			}
			fresh, err := r.handle(s, t)
			if err != nil {
				return err
			}
			if fresh && at.Before(hi) {
				found++
			}
		}
		activity.RecordHeartbeat(r.ctx, r.res.Listed)
		if page.NextCursor == "" {
			complete = true
			break
		}
		if reached && want >= 0 && found >= want {
			break // the window holds nothing more that the poller has not seen
		}
		// A console bug returning the same cursor would otherwise loop forever.
		if cursors[page.NextCursor] {
			return fmt.Errorf("listing from %s: console returned cursor %.40q twice", lo.Format(time.RFC3339Nano), page.NextCursor)
		}
		cursors[page.NextCursor] = true
		params.Cursor = page.NextCursor
	}
	if err := r.flush(); err != nil {
		return err
	}
	if !hasWindow {
		return nil
	}
	if !reached && counted && !sweep {
		want = max(total-tail-st.seenIn(lo, hi), -1) // the console listed nothing in the window
	}
	r.res.Late += found
	switch {
	case sweep:
		r.res.Sweeps++
	case want == 0:
		r.res.WindowChecks++
	default:
		r.res.WindowRelists++
	}
	if complete {
		// The whole window was read just now: as good as a sweep. What Seen holds there
		// that the console no longer lists (deleted, out of scope) goes, or the counts
		// would differ at every poll until it left the window.
		st.SweptAt = r.now
		for id, at := range st.Seen {
			if !at.Before(lo) && at.Before(hi) && !inWindow[id] {
				delete(st.Seen, id)
			}
		}
	}
	return nil
}

// stamp is the timestamp a stream follows.
func stamp(s stream, t s1client.Threat) time.Time {
	if s == createdStream {
		return t.ThreatInfo.CreatedAt.Time
	}
	return t.ThreatInfo.UpdatedAt.Time
}

func (r *poll) state(s stream) *StreamState {
	if s == createdStream {
		return &r.res.State.Created
	}
	return &r.res.State.Updated
}

// params list the stream's threats from gte on, newest first, in the poller's scope.
func (r *poll) params(s stream, gte time.Time) s1client.ListThreatsParams {
	sc := r.in.Scope
	p := s1client.ListThreatsParams{AccountIDs: sc.AccountIDs, SiteIDs: sc.SiteIDs, GroupIDs: sc.GroupIDs, Limit: r.size, SortOrder: "desc"}
	if s == createdStream {
		p.SortBy, p.CreatedAtGte = "createdAt", gte
	} else {
		p.SortBy, p.UpdatedAtGte = "updatedAt", gte
	}
	return p
}

// handle takes one listed threat; fresh reports that it was new to the stream (a new
// threat, or a change not handled yet).
func (r *poll) handle(s stream, t s1client.Threat) (fresh bool, err error) {
	r.res.Listed++
	id := string(t.ID)
	if s == createdStream {
		st := &r.res.State.Created
		st.advance(t.ThreatInfo.CreatedAt.Time)
		if _, ok := st.Seen[id]; ok {
			return false, nil
		}
		// New threats are started in batches, concurrently within a batch: a burst of
		// 200 detections would otherwise wait on 200 sequential start calls.
		r.batch = append(r.batch, t)
		if len(r.batch) == startBatch {
			return true, r.flush()
		}
		return true, nil
	}
	st := &r.res.State.Updated
	at := t.ThreatInfo.UpdatedAt.Time
	st.advance(at)
	if seen, ok := st.Seen[id]; ok && !at.After(seen) {
		return false, nil
	}
	if err := r.p.routeChange(r.ctx, t, &r.res); err != nil {
		return false, err
	}
	st.Seen[id] = at
	activity.RecordHeartbeat(r.ctx, r.res.Listed)
	return true, nil
}

// flush starts the investigations of the batched new threats.
func (r *poll) flush() error {
	if len(r.batch) == 0 {
		return nil
	}
	started, err := r.p.startAll(r.ctx, r.batch)
	if err != nil {
		return err
	}
	res := &r.res
	for i, t := range r.batch {
		id := string(t.ID)
		res.State.Created.Seen[id] = t.ThreatInfo.CreatedAt.Time
		if started[i] {
			// The new investigation reads the threat itself, so the updated stream need
			// not report this version again. (Not so for an existing investigation: this
			// version may carry a console change it has not been told about.)
			res.State.Updated.markSeen(id, t.ThreatInfo.UpdatedAt.Time)
			res.Started++
		} else {
			res.AlreadyStarted++
			activity.GetLogger(r.ctx).Info("Threat already has an investigation.", "ThreatID", id)
		}
	}
	r.batch = r.batch[:0]
	activity.RecordHeartbeat(r.ctx, res.Listed)
	return nil
}

// startBatch bounds the threats started concurrently by one poll.
const startBatch = 16

// startAll starts the investigations of threats concurrently; started[i] reports
// whether threats[i]'s is new. Any error fails the whole batch: starts are idempotent,
// so the next poll simply tries them again.
func (p *Poller) startAll(ctx context.Context, threats []s1client.Threat) ([]bool, error) {
	started := make([]bool, len(threats))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range threats {
		g.Go(func() error {
			ok, err := p.Investigations.Start(gctx, t)
			started[i] = ok
			return err
		})
	}
	return started, g.Wait()
}

// routeChange delivers a changed threat (Route) and records an analyst's change to a
// threat whose investigation has finished.
func (p *Poller) routeChange(ctx context.Context, t s1client.Threat, res *PollResult) error {
	routed, err := Route(ctx, p.Investigations, t)
	if err != nil {
		return err
	}
	switch routed {
	case Notified:
		res.Notified++
	case Started:
		res.Started++
		// The created stream may list it at its next poll (it became visible between
		// the two listings): it is not new any more.
		res.State.Created.markSeen(string(t.ID), t.ThreatInfo.CreatedAt.Time)
		activity.GetLogger(ctx).Info("Changed threat had no investigation; started one.", "ThreatID", string(t.ID))
	case AlreadyInvestigated:
		res.Closed++
		p.observeFeedback(ctx, t, res)
	}
	return nil
}

// observeFeedback records an analyst's change of a finished investigation. A failure is
// logged, not returned: feedback must never hold up ingestion.
func (p *Poller) observeFeedback(ctx context.Context, t s1client.Threat, res *PollResult) {
	if p.Feedback == nil {
		return
	}
	recorded, err := p.Feedback.Observe(ctx, t)
	if err != nil {
		activity.GetLogger(ctx).Warn("Recording analyst feedback failed.", "ThreatID", string(t.ID), "Error", err)
	}
	if recorded {
		res.Feedback++
	}
}
