// Package coalesce merges concurrent calls of the same kind into one request: the
// SentinelOne write endpoints take many threat IDs in one filter, and GET /threats?ids=
// reads many threats at once, so an outbreak's thousand investigations need not send a
// thousand requests each.
//
// A Group collects the calls of one key for a short window, then sends them as one
// batch; each caller gets its own result. While a key's batches are all in flight (held
// by the console's rate limit, say), new calls keep joining the next batch instead of
// queueing as single requests: the busier the console, the larger the batches. In a
// burst (several calls of the group within the burst window) a batch waits the longer
// burst window, so calls that the engine spreads over a second still meet; a call that
// finds its group idle (no batch open or in flight, no burst) goes at once, so a lone
// threat in a quiet hour pays no window at all.
package coalesce

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is one call's result within a batch.
type Outcome[Out any] struct {
	Value Out
	Err   error
}

// Batch names the request a call went out in, for the audit record.
type Batch struct {
	// ID is unique across the worker's restarts: "<group>/<process>-<n>".
	ID string `json:"id"`
	// Size is the number of calls the request carried.
	Size int `json:"size"`
}

// Group coalesces the calls of each key. The zero value is not usable; use New.
type Group[K comparable, In, Out any] struct {
	name   string
	window time.Duration
	// maxSize bounds a batch (the API's page or filter limit); a full batch goes at once.
	maxSize int
	// maxInFlight bounds the batches of one key in flight at once.
	maxInFlight int
	// timeout bounds one batch's request: it runs for several callers, so no one
	// caller's context may cancel it.
	timeout time.Duration
	// burstWindow replaces window while the group is in a burst: burstCalls calls
	// arrived within burstWindow. recent holds the latest arrivals, oldest first.
	burstWindow time.Duration
	burstCalls  int
	recent      []arrival
	subject     func(In) string
	// active counts the batches open or in flight, of any key.
	active int
	do     func(ctx context.Context, key K, ins []In) []Outcome[Out]

	process string
	seq     atomic.Uint64
	mu      sync.Mutex
	open    map[K]*batch[In, Out]
	slots   map[K]chan struct{}
}

// Options configure a Group.
type Options struct {
	// Window is how long the first call of a batch waits for others. 0 disables
	// coalescing: every call is its own request, made on the caller's goroutine.
	Window time.Duration
	// MaxSize is the most calls one request may carry (at least 1).
	MaxSize int
	// MaxInFlight is how many requests of one key may be outstanding (default 4).
	MaxInFlight int
	// Timeout bounds one request (default 1 minute).
	Timeout time.Duration
	// BurstWindow, when longer than Window, is how long a batch waits while the group
	// is in a burst: BurstCalls (at least and by default 2) calls of any key within BurstWindow. It
	// also makes the group adaptive: a call that finds it idle (no burst, no batch open
	// or in flight) goes at once instead of waiting Window.
	BurstWindow time.Duration
	BurstCalls  int
}

// arrival is a call's time and subject, for telling a burst.
type arrival struct {
	at      time.Time
	subject string
}

// WithSubject makes a burst count calls about different subjects only (threats,
// agents): one investigation polling its own threat is no burst, however often it
// polls. Without it every call counts.
func (g *Group[K, In, Out]) WithSubject(subject func(In) string) *Group[K, In, Out] {
	g.subject = subject
	return g
}

// New returns a Group named name (it prefixes batch IDs). do sends one request for ins
// and returns one outcome per input, in order; an error of the whole request is each
// input's error.
func New[K comparable, In, Out any](name string, o Options, do func(ctx context.Context, key K, ins []In) []Outcome[Out]) *Group[K, In, Out] {
	if o.MaxSize < 1 {
		o.MaxSize = 1
	}
	if o.MaxInFlight < 1 {
		o.MaxInFlight = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.BurstCalls < 2 {
		o.BurstCalls = 2
	}
	if o.BurstWindow < o.Window {
		o.BurstWindow = o.Window
	}
	return &Group[K, In, Out]{
		name: name, window: o.Window, maxSize: o.MaxSize, maxInFlight: o.MaxInFlight, timeout: o.Timeout, do: do,
		burstWindow: o.BurstWindow, burstCalls: o.BurstCalls,
		process: processID(), open: map[K]*batch[In, Out]{}, slots: map[K]chan struct{}{},
	}
}

type call[In, Out any] struct {
	ctx  context.Context
	in   In
	out  Outcome[Out]
	b    Batch
	done chan struct{}
}

type batch[In, Out any] struct {
	calls []*call[In, Out]
	full  chan struct{} // closed when the batch reaches maxSize
}

// Do makes the call with key and input in, alone or with others of the same key, and
// returns its own outcome and the batch it went out in. A caller whose context ends
// before its batch is sent is left out of it; one whose context ends after may still
// have been acted on, which is why the callers' side effects check before they act.
func (g *Group[K, In, Out]) Do(ctx context.Context, key K, in In) (Out, Batch, error) {
	if g.window <= 0 {
		o := g.do(ctx, key, []In{in})[0]
		return o.Value, g.nextBatch(1), o.Err
	}
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan struct{})}
	g.mu.Lock()
	window := g.arrive(time.Now(), in)
	b := g.open[key]
	if b == nil {
		if g.burstWindow > g.window && window == g.window && g.active == 0 {
			window = 0 // idle: nobody to wait for
		}
		b = &batch[In, Out]{full: make(chan struct{})}
		g.open[key] = b
		g.active++
		go g.lead(key, b, window)
	}
	b.calls = append(b.calls, c)
	if len(b.calls) == g.maxSize {
		delete(g.open, key) // later calls start the next batch
		close(b.full)
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.out.Value, c.b, c.out.Err
	case <-ctx.Done():
		var zero Out
		return zero, Batch{}, ctx.Err()
	}
}

// arrive records a call at now and returns the window a batch opened now waits: the
// burst window when this call makes burstCalls (about different subjects) within it.
// Called with mu held.
func (g *Group[K, In, Out]) arrive(now time.Time, in In) time.Duration {
	if g.burstWindow <= g.window {
		return g.window
	}
	a := arrival{at: now}
	if g.subject != nil {
		a.subject = g.subject(in)
		// A subject already among the recent arrivals moves to the newest place.
		g.recent = slices.DeleteFunc(g.recent, func(r arrival) bool { return r.subject == a.subject })
	}
	if len(g.recent) == g.burstCalls {
		g.recent = slices.Delete(g.recent, 0, 1)
	}
	g.recent = append(g.recent, a)
	if len(g.recent) == g.burstCalls && now.Sub(g.recent[0].at) <= g.burstWindow {
		return g.burstWindow
	}
	return g.window
}

// lead sends batch b once its window has passed (or it is full) and a request slot of
// its key is free; calls keep joining it until then.
func (g *Group[K, In, Out]) lead(key K, b *batch[In, Out], window time.Duration) {
	t := time.NewTimer(window)
	select {
	case <-t.C:
	case <-b.full:
		t.Stop()
	}
	slot := g.slot(key)
	slot <- struct{}{}
	defer func() { <-slot }()
	defer func() {
		g.mu.Lock()
		g.active--
		g.mu.Unlock()
	}()

	g.mu.Lock()
	if g.open[key] == b {
		delete(g.open, key)
	}
	calls := b.calls
	g.mu.Unlock()

	live := calls[:0:0]
	for _, c := range calls {
		if c.ctx.Err() == nil {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return
	}
	ins := make([]In, len(live))
	for i, c := range live {
		ins[i] = c.in
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	outs := g.do(ctx, key, ins)
	id := g.nextBatch(len(live))
	for i, c := range live {
		if i < len(outs) {
			c.out = outs[i]
		} else {
			c.out.Err = fmt.Errorf("coalesce %s: the batch returned %d results for %d calls", g.name, len(outs), len(live))
		}
		c.b = id
		close(c.done)
	}
}

func (g *Group[K, In, Out]) slot(key K) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.slots[key]
	if s == nil {
		s = make(chan struct{}, g.maxInFlight)
		g.slots[key] = s
	}
	return s
}

func (g *Group[K, In, Out]) nextBatch(size int) Batch {
	return Batch{ID: fmt.Sprintf("%s/%s-%d", g.name, g.process, g.seq.Add(1)), Size: size}
}

// processID tells this process's batches from those of a worker that ran before it.
func processID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
