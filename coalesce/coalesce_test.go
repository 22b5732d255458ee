package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/coalesce"
)

// recorder is a do function that doubles its inputs and records each request.
type recorder struct {
	mu       sync.Mutex
	requests [][]int
	keys     []string
	hold     chan struct{} // when set, each request waits for it
	fail     error
}

func (r *recorder) do(ctx context.Context, key string, ins []int) []coalesce.Outcome[int] {
	r.mu.Lock()
	r.requests = append(r.requests, slices.Clone(ins))
	r.keys = append(r.keys, key)
	r.mu.Unlock()
	if r.hold != nil {
		<-r.hold
	}
	out := make([]coalesce.Outcome[int], len(ins))
	for i, in := range ins {
		out[i] = coalesce.Outcome[int]{Value: 2 * in, Err: r.fail}
	}
	return out
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []int
	for _, q := range r.requests {
		s = append(s, len(q))
	}
	return s
}

type result struct {
	in, out int
	batch   coalesce.Batch
	err     error
}

func callAll(t *testing.T, g *coalesce.Group[string, int, int], key string, ins []int) []result {
	t.Helper()
	res := make([]result, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			out, b, err := g.Do(context.Background(), key, in)
			res[i] = result{in: in, out: out, batch: b, err: err}
		})
	}
	wg.Wait()
	return res
}

func TestConcurrentCallsShareOneRequestAndGetTheirOwnResults(t *testing.T) {
	r := &recorder{}
	g := coalesce.New("double", coalesce.Options{Window: 50 * time.Millisecond, MaxSize: 100}, r.do)
	ins := []int{1, 2, 3, 4, 5, 6, 7, 8}
	res := callAll(t, g, "k", ins)

	assert.Equal(t, []int{8}, r.sizes(), "one request for the eight calls")
	for _, x := range res {
		require.NoError(t, x.err)
		assert.Equal(t, 2*x.in, x.out, "each caller gets the result of its own input")
		assert.Equal(t, 8, x.batch.Size)
		assert.Equal(t, res[0].batch.ID, x.batch.ID, "the same batch")
		assert.True(t, strings.HasPrefix(x.batch.ID, "double/"), x.batch.ID)
	}
}

func TestKeysAreBatchedApart(t *testing.T) {
	r := &recorder{}
	g := coalesce.New("double", coalesce.Options{Window: 50 * time.Millisecond, MaxSize: 100}, r.do)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			_, _, err := g.Do(context.Background(), fmt.Sprint("k", i%2), i)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, []int{3, 3}, r.sizes())
	for i, q := range r.requests {
		for _, in := range q {
			assert.Equal(t, r.keys[i], fmt.Sprint("k", in%2), "a request carries one key's calls only")
		}
	}
}

func TestAFullBatchGoesAtOnceAndTheRestFollow(t *testing.T) {
	r := &recorder{}
	// A window far longer than the test: only fullness can send the first batch early.
	g := coalesce.New("double", coalesce.Options{Window: 300 * time.Millisecond, MaxSize: 4}, r.do)
	start := time.Now()
	res := callAll(t, g, "k", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	sizes := r.sizes()
	slices.Sort(sizes)
	assert.Equal(t, []int{2, 4, 4}, sizes, "no request carries more than MaxSize")
	ids := map[string]int{}
	for _, x := range res {
		require.NoError(t, x.err)
		ids[x.batch.ID]++
	}
	assert.Len(t, ids, 3)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestWithoutAWindowEveryCallIsItsOwnRequest(t *testing.T) {
	r := &recorder{}
	g := coalesce.New("double", coalesce.Options{MaxSize: 100}, r.do)
	res := callAll(t, g, "k", []int{1, 2, 3})
	assert.Equal(t, []int{1, 1, 1}, r.sizes())
	for _, x := range res {
		assert.Equal(t, 1, x.batch.Size)
		assert.Equal(t, 2*x.in, x.out)
	}
}

func TestCallsWaitingForABusyKeyJoinOneNextBatch(t *testing.T) {
	r := &recorder{hold: make(chan struct{})}
	g := coalesce.New("double", coalesce.Options{Window: 10 * time.Millisecond, MaxSize: 100, MaxInFlight: 1}, r.do)
	first := make(chan result, 1)
	go func() {
		out, b, err := g.Do(context.Background(), "k", 1)
		first <- result{in: 1, out: out, batch: b, err: err}
	}()
	require.Eventually(t, func() bool { return len(r.sizes()) == 1 }, 2*time.Second, time.Millisecond)
	// The first request is held (a rate limit, a slow console): twenty more calls, each
	// long after the window, wait for its slot together.
	var later []result
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			out, b, err := g.Do(context.Background(), "k", 100+i)
			mu.Lock()
			later = append(later, result{in: 100 + i, out: out, batch: b, err: err})
			mu.Unlock()
		})
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	close(r.hold)
	wg.Wait()
	<-first
	assert.Equal(t, []int{1, 20}, r.sizes(), "the calls that arrived while the key was busy went out as one request")
	for _, x := range later {
		assert.Equal(t, 2*x.in, x.out)
		assert.Equal(t, 20, x.batch.Size)
	}
}

func TestACallerThatGaveUpIsLeftOutOfTheRequest(t *testing.T) {
	r := &recorder{}
	g := coalesce.New("double", coalesce.Options{Window: 100 * time.Millisecond, MaxSize: 100}, r.do)
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, _, err := g.Do(ctx, "k", 7)
		gaveUp <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-gaveUp, context.Canceled)
	out, b, err := g.Do(context.Background(), "k", 8)
	require.NoError(t, err)
	assert.Equal(t, 16, out)
	assert.Equal(t, 1, b.Size)
	assert.Equal(t, [][]int{{8}}, r.requests, "the cancelled call was not sent")
}

func TestAFailedRequestFailsEachCall(t *testing.T) {
	boom := errors.New("console down")
	r := &recorder{fail: boom}
	g := coalesce.New("double", coalesce.Options{Window: 20 * time.Millisecond, MaxSize: 100}, r.do)
	for _, x := range callAll(t, g, "k", []int{1, 2, 3}) {
		assert.ErrorIs(t, x.err, boom)
	}
	assert.Equal(t, []int{3}, r.sizes())
}

// Calls spread out (one every 20 ms, longer than the short window) go one per request
// while they are few; once they come in a burst the batches wait the burst window and
// carry many.
func TestABurstWaitsTheBurstWindow(t *testing.T) {
	r := &recorder{}
	g := coalesce.New("double", coalesce.Options{Window: 5 * time.Millisecond, MaxSize: 100, BurstWindow: 200 * time.Millisecond, BurstCalls: 3}, r.do)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, _, err := g.Do(context.Background(), "k", i)
			assert.NoError(t, err)
		})
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	sizes := r.sizes()
	assert.Equal(t, []int{1, 1}, sizes[:2], "the first two calls are no burst")
	assert.LessOrEqual(t, len(sizes), 6, "the burst's calls share requests: %v", sizes)
}

// With a burst window, a call that finds its group idle goes at once: a lone threat in
// a quiet hour pays no window. A second call while the first is in flight waits the
// short window for company.
func TestAnIdleGroupSendsAtOnce(t *testing.T) {
	r := &recorder{hold: make(chan struct{})}
	g := coalesce.New("double", coalesce.Options{Window: 300 * time.Millisecond, MaxSize: 100, BurstWindow: time.Second, BurstCalls: 3}, r.do)
	start := time.Now()
	done := make(chan struct{})
	go func() {
		_, _, err := g.Do(context.Background(), "k", 1)
		assert.NoError(t, err)
		close(done)
	}()
	require.Eventually(t, func() bool { return len(r.sizes()) == 1 }, 2*time.Second, time.Millisecond)
	assert.Less(t, time.Since(start), 150*time.Millisecond, "idle: sent without waiting the 300 ms window")

	second := make(chan time.Duration, 1)
	go func() {
		at := time.Now()
		_, _, err := g.Do(context.Background(), "k", 2)
		assert.NoError(t, err)
		second <- time.Since(at)
	}()
	time.Sleep(50 * time.Millisecond)
	close(r.hold)
	<-done
	assert.GreaterOrEqual(t, <-second, 300*time.Millisecond, "not idle (a batch in flight): it waits the window")
}

// With subjects, one subject called often (an investigation polling its own threat) is
// no burst; three subjects within the burst window are.
func TestABurstCountsSubjects(t *testing.T) {
	r := &recorder{}
	g := coalesce.New("double", coalesce.Options{Window: time.Millisecond, MaxSize: 100, BurstWindow: 300 * time.Millisecond, BurstCalls: 3}, r.do).
		WithSubject(func(in int) string { return fmt.Sprint(in % 10) })
	for range 5 {
		start := time.Now()
		_, _, err := g.Do(context.Background(), "k", 7)
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 200*time.Millisecond, "the same subject again and again: no burst")
		time.Sleep(20 * time.Millisecond)
	}
	_, _, err := g.Do(context.Background(), "k", 1)
	require.NoError(t, err)
	start := time.Now()
	_, _, err = g.Do(context.Background(), "k", 2)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "a third subject (after 7 and 1) within the window: a burst")
}
