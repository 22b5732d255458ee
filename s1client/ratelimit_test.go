package s1client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestClassOf(t *testing.T) {
	for path, want := range map[string]EndpointClass{
		"/threats":                      ClassThreats,
		"/threats/":                     ClassThreats,
		"/threats/123/timeline":         ClassThreatsSub,
		"/threats/123/notes":            ClassThreatsSub,
		"/threats/123/explore/events":   ClassThreatsSub,
		"/threats/notes":                ClassThreatsSub,
		"/threats/mitigate/kill":        ClassThreatsSub,
		"/threats/incident":             ClassThreatsSub,
		"/threats/analyst-verdict":      ClassThreatsSub,
		"/threats/add-to-blacklist":     ClassThreatsSub,
		"/threatsx":                     ClassOther,
		"/agents":                       ClassAgents,
		"/agents/actions/disconnect":    ClassAgents,
		"/activities":                   ClassActivities,
		"/dv/init-query":                ClassDVInitQuery,
		"/dv/query-status":              ClassDVQueryStatus,
		"/dv/events":                    ClassDVEvents,
		"/dv/events/Process%20Creation": ClassDVEvents,
		"/dv/cancel-query":              ClassOther,
		"/remote-scripts":               ClassRemoteScripts,
		"/remote-scripts/status":        ClassRemoteScripts,
		"/remote-scripts/execute":       ClassRemoteScripts,
		"/remote-scripts/fetch-files":   ClassRemoteScripts,
		"/remote-scriptsx":              ClassOther,
	} {
		assert.Equal(t, want, classOf(path), path)
	}
}

func TestDefaultRateLimitsKeepAMarginUnderTheDocumentedOnes(t *testing.T) {
	doc, def := DocumentedRateLimits(), DefaultRateLimits()
	require.Equal(t, len(doc), len(def))
	for class, l := range doc {
		margin := SafetyMargin
		if l.Burst <= 1 {
			margin = BurstOneMargin
		}
		assert.InDelta(t, l.RPS*margin, def[class].RPS, 1e-12, class)
		assert.Less(t, def[class].RPS, l.RPS, class)
		assert.Equal(t, l.Burst, def[class].Burst, class)
	}
}

func TestDocumentedRateLimits(t *testing.T) {
	d := DocumentedRateLimits()
	assert.Equal(t, Limit{RPS: 10, Burst: 50}, d[ClassThreats])
	assert.Equal(t, Limit{RPS: 100, Burst: 1000}, d[ClassThreatsSub])
	assert.Equal(t, Limit{RPS: 25, Burst: 1}, d[ClassAgents])
	assert.Equal(t, Limit{RPS: 10, Burst: 30}, d[ClassActivities])
	assert.InDelta(t, 1.0/60, d[ClassDVInitQuery].RPS, 1e-12)
	assert.Equal(t, 1, d[ClassDVInitQuery].Burst)
	assert.Equal(t, Limit{RPS: 1, Burst: 1}, d[ClassDVQueryStatus])
	assert.Equal(t, Limit{RPS: 10, Burst: 10}, d[ClassDVEvents])
	assert.Equal(t, Limit{RPS: 1, Burst: 30}, d[ClassRemoteScripts])

	// Every class has a default, and New builds a limiter for each, with the margin.
	c, err := New("https://usea1.sentinelone.net", "t")
	require.NoError(t, err)
	d = DefaultRateLimits()
	for _, class := range []EndpointClass{ClassThreats, ClassThreatsSub, ClassAgents, ClassActivities, ClassDVInitQuery, ClassDVQueryStatus, ClassDVEvents, ClassRemoteScripts, ClassOther} {
		l := c.limiters[class]
		require.NotNil(t, l, class)
		assert.Equal(t, rate.Limit(d[class].RPS), l.Limit(), class)
		assert.Equal(t, d[class].Burst, l.Burst(), class)
	}
	d[ClassThreats] = Limit{RPS: 1}
	assert.Equal(t, Limit{RPS: 10 * SafetyMargin, Burst: 50}, DefaultRateLimits()[ClassThreats], "a fresh copy each call")
}

// rateServer counts requests and answers every list with an empty page.
func rateServer(t *testing.T, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			writeJSON(w, 200, `{"data":{"affected":1}}`)
			return
		}
		writeJSON(w, 200, `{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken, opts...)
	require.NoError(t, err)
	return c
}

func TestRateLimitWaits(t *testing.T) {
	c := rateServer(t, WithRateLimits(map[EndpointClass]Limit{ClassThreats: {RPS: 2, Burst: 1}}))
	ctx := context.Background()
	start := time.Now()
	for range 3 {
		_, err := c.ListThreats(ctx, ListThreatsParams{})
		require.NoError(t, err)
	}
	// Token 1 at once, token 2 after 0.5 s, token 3 after 1 s.
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)
}

func TestRateLimitClassesIndependent(t *testing.T) {
	// /threats gets one token per minute; the other classes must not feel it.
	c := rateServer(t, WithRateLimits(map[EndpointClass]Limit{ClassThreats: {RPS: 1.0 / 60, Burst: 1}}))
	ctx := context.Background()
	_, err := c.ListThreats(ctx, ListThreatsParams{}) // uses the only /threats token
	require.NoError(t, err)

	start := time.Now()
	_, err = c.ThreatNotes(ctx, "1") // /threats/… class
	require.NoError(t, err)
	_, err = c.ListAgents(ctx, ListAgentsParams{})
	require.NoError(t, err)
	_, err = c.ListActivities(ctx, ListActivitiesParams{})
	require.NoError(t, err)
	_, err = c.AddThreatNote(ctx, []string{"1"}, "x")
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 300*time.Millisecond)

	// …while /threats itself now waits, and gives up with the context, without a request.
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.GetThreat(ctx2, "1")
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), err)
	assert.Contains(t, err.Error(), "class /threats")
	assert.Less(t, time.Since(start), 40*time.Millisecond, "a wait that cannot fit the deadline fails at once")

	ctx3, cancel3 := context.WithCancel(ctx)
	cancel3()
	_, err = c.ListThreats(ctx3, ListThreatsParams{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRateLimitOptions(t *testing.T) {
	ctx := context.Background()
	for name, opt := range map[string]Option{
		"WithoutRateLimits":   WithoutRateLimits(),
		"WithRateLimiter nil": WithRateLimiter(nil),
		"RPS 0":               WithRateLimits(map[EndpointClass]Limit{ClassDVQueryStatus: {RPS: 0}}),
	} {
		t.Run(name, func(t *testing.T) {
			// The DV status class allows 1/s by default: 5 calls would take 4 s.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, `{"data":{"responseState":"RUNNING"}}`)
			}))
			defer srv.Close()
			c, err := New(srv.URL, testToken, opt)
			require.NoError(t, err)
			start := time.Now()
			for range 5 {
				_, err := c.DVQueryStatus(ctx, "q1")
				require.NoError(t, err)
			}
			assert.Less(t, time.Since(start), 500*time.Millisecond)
		})
	}

	// The legacy single limiter is shared by all classes.
	shared := rate.NewLimiter(rate.Every(time.Minute), 1)
	c := rateServer(t, WithRateLimiter(shared))
	_, err := c.ListAgents(ctx, ListAgentsParams{})
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = c.ListActivities(short, ListActivitiesParams{})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the agents call used the shared token")

	// Burst 0 is taken as 1 rather than blocking forever.
	c = rateServer(t, WithRateLimits(map[EndpointClass]Limit{ClassAgents: {RPS: 100, Burst: 0}}))
	_, err = c.ListAgents(ctx, ListAgentsParams{})
	assert.NoError(t, err)
}

func TestScaledRateLimits(t *testing.T) {
	def := DefaultRateLimits()
	for _, scale := range []float64{0, -1, 1} {
		assert.Equal(t, def, ScaledRateLimits(scale), "scale %g keeps the defaults", scale)
	}
	raised := ScaledRateLimits(4)
	for class, l := range def {
		assert.InDelta(t, 4*l.RPS, raised[class].RPS, 1e-9, "%s rate", class)
		assert.Equal(t, l.Burst, raised[class].Burst, "%s burst is the console's, not scaled", class)
	}
}

// slowFirst is a transport whose first request waits before it is sent, as one that
// waited for a connection does.
type slowFirst struct {
	next  http.RoundTripper
	delay time.Duration
	n     atomic.Int32
}

func (s *slowFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.n.Add(1) == 1 {
		time.Sleep(s.delay)
	}
	return s.next.RoundTrip(r)
}

// /agents allows a burst of 1: the console counts requests on arrival, so two requests
// must arrive a period apart even when the first was held up on its way. Sending on the
// token bucket's schedule alone let them arrive closer.
func TestBurstOneRequestsArriveAPeriodApart(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[{"id":"1"}],"pagination":{"nextCursor":null,"totalItems":1}}`))
	}))
	t.Cleanup(srv.Close)
	period := time.Second / time.Duration(DocumentedRateLimits()[ClassAgents].RPS) // 40 ms
	c, err := New(srv.URL, "tok", WithHTTPClient(&http.Client{Transport: &slowFirst{next: http.DefaultTransport, delay: 3 * period}}))
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.GetAgent(context.Background(), "1")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Len(t, arrivals, 3)
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(arrivals); i++ {
		assert.GreaterOrEqual(t, arrivals[i].Sub(arrivals[i-1]), period, "arrival %d came %s after the one before", i, arrivals[i].Sub(arrivals[i-1]))
	}
}
