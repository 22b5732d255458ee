package llm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// countingAnalyzer counts inner calls and answers with fn (or a valid analysis).
type countingAnalyzer struct {
	calls atomic.Int64
	fn    func(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error)
}

func (a *countingAnalyzer) Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	n := a.calls.Add(1)
	if a.fn != nil {
		return a.fn(ctx, ev)
	}
	return validAnalysis(fmt.Sprintf("call %d", n)), nil
}

func validAnalysis(summary string) investigation.Analysis {
	return investigation.Analysis{
		Verdict: investigation.VerdictTruePositive, Confidence: 0.9, Priority: investigation.PriorityCritical,
		Summary:            summary,
		RecommendedActions: []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine},
		MITRETechniques:    []string{"T1486"},
		Analyzer:           "fake",
	}
}

// fakeClock is a settable clock for TTL tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// outbreakOn is the same lockbit sample seen on host i, run by a different user.
func outbreakOn(i int) investigation.Evidence {
	ev := investigationtest.RansomwareServer()
	f := &ev.Facts
	f.SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	f.ThreatID = fmt.Sprintf("18500000000000%05d", i)
	f.AgentID = fmt.Sprintf("17000000000000%05d", i)
	f.AgentName = fmt.Sprintf("WS-%03d", i)
	f.ProcessUser = fmt.Sprintf(`CORP\user%d`, i)
	f.FilePath = fmt.Sprintf(`\Device\HarddiskVolume%d\Users\user%d\AppData\Local\Temp\lockbit3.exe`, 2+i%3, i)
	f.CommandLine = fmt.Sprintf(`"C:\Users\user%d\AppData\Local\Temp\lockbit3.exe" -k LocalServiceNetworkRestricted`, i)
	f.SiteID, f.SiteName = fmt.Sprintf("site-%d", i%4), fmt.Sprintf("Site %d", i%4)
	f.NetworkStatus = []string{"connected", "disconnected"}[i%2]
	f.MitigationStatus = []string{"not_mitigated", "mitigated"}[i%2]
	f.Storyline = fmt.Sprintf("story-%d", i)
	f.Tags = []string{fmt.Sprintf("owner=user%d", i)}
	f.CreatedAt = investigationtest.Detected.Add(time.Duration(i) * time.Minute)
	ev.Timeline = []investigation.TimelineItem{{At: f.CreatedAt, ActivityType: 19, Description: "Threat detected on " + f.AgentName}}
	return ev
}

func TestFingerprint(t *testing.T) {
	base := Fingerprint(outbreakOn(1))
	assert.Len(t, base, 64)

	t.Run("different hosts and users, same hash and behaviour: same fingerprint", func(t *testing.T) {
		for i := 2; i < 10; i++ {
			assert.Equal(t, base, Fingerprint(outbreakOn(i)), "host %d", i)
		}
		reordered := outbreakOn(3)
		reordered.Facts.Indicators = []string{reordered.Facts.Indicators[1], reordered.Facts.Indicators[0]}
		reordered.Facts.SHA256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
		assert.Equal(t, base, Fingerprint(reordered), "indicator order and hash case do not matter")
	})

	different := map[string]func(*investigation.ThreatFacts){
		"hash":                func(f *investigation.ThreatFacts) { f.SHA256 = "0000" + f.SHA256[4:] },
		"command line":        func(f *investigation.ThreatFacts) { f.CommandLine += " --encrypt-network-shares" },
		"file name":           func(f *investigation.ThreatFacts) { f.FilePath += ".bak" },
		"threat name":         func(f *investigation.ThreatFacts) { f.ThreatName = "other.exe" },
		"classification":      func(f *investigation.ThreatFacts) { f.Classification = "Trojan" },
		"S1 confidence level": func(f *investigation.ThreatFacts) { f.ConfidenceLevel = "suspicious" },
		"originator process":  func(f *investigation.ThreatFacts) { f.OriginatorProcess = "winword.exe" },
		"engines":             func(f *investigation.ThreatFacts) { f.Engines = f.Engines[:1] },
		"indicators":          func(f *investigation.ThreatFacts) { f.Indicators = append(f.Indicators, "Persistence: Run key") },
		"techniques":          func(f *investigation.ThreatFacts) { f.Techniques = []string{"T1059"} },
		"OS type":             func(f *investigation.ThreatFacts) { f.OSType = "linux" },
	}
	for name, change := range different {
		t.Run("different "+name+": different fingerprint", func(t *testing.T) {
			ev := outbreakOn(1)
			change(&ev.Facts)
			assert.NotEqual(t, base, Fingerprint(ev))
		})
	}

	t.Run("SHA1 when there is no SHA256", func(t *testing.T) {
		a, b := outbreakOn(1), outbreakOn(2)
		a.Facts.SHA256, b.Facts.SHA256 = "", ""
		assert.Equal(t, Fingerprint(a), Fingerprint(b))
		b.Facts.SHA1 = "0000" + b.Facts.SHA1[4:]
		assert.NotEqual(t, Fingerprint(a), Fingerprint(b))
	})
}

func TestNormaliseUserPaths(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\alice\AppData\x.exe`:                     `C:\Users\*\AppData\x.exe`,
		`c:\users\Bob Smith\Desktop\x.exe -a`:              `c:\users\*\Desktop\x.exe -a`,
		`\Device\HarddiskVolume3\Users\carol\x.exe`:        `\Device\HarddiskVolume*\Users\*\x.exe`,
		`C:\Documents and Settings\dave\x.exe`:             `C:\Documents and Settings\*\x.exe`,
		`/home/erin/.cache/x.sh --flag /home/frank/y`:      `/home/*/.cache/x.sh --flag /home/*/y`,
		`/Users/grace/Library/x`:                           `/Users/*/Library/x`,
		`C:\Windows\System32\cmd.exe /c whoami`:            `C:\Windows\System32\cmd.exe /c whoami`,
		`"C:\Users\h\a.exe" "C:\Users\i\b.txt" C:\Users\j`: `"C:\Users\*\a.exe" "C:\Users\*\b.txt" C:\Users\j`,
	} {
		assert.Equal(t, want, normaliseUserPaths(in), in)
	}
}

// The test issue 5 asks for.
func TestCache_ConcurrentIdenticalFingerprintsProduceOneModelCall(t *testing.T) {
	const n = 50
	release := make(chan struct{})
	inner := &countingAnalyzer{fn: func(ctx context.Context, _ investigation.Evidence) (investigation.Analysis, error) {
		select {
		case <-release:
			return validAnalysis("LockBit 3.0 encrypting files"), nil
		case <-ctx.Done():
			return investigation.Analysis{}, ctx.Err()
		}
	}}
	cache := NewCache(inner, time.Hour, 100, nil)

	results := make([]investigation.Analysis, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = cache.AnalyzeFor(t.Context(), fmt.Sprintf("inv-%d", i), outbreakOn(i))
		})
	}
	// The inner call blocks until every other caller has joined it.
	require.Eventually(t, func() bool { return cache.Stats().InFlightJoins == n-1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()

	assert.EqualValues(t, 1, inner.calls.Load(), "one model call for 50 identical fingerprints")
	payer := ""
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, "LockBit 3.0 encrypting files", results[i].Summary)
		if results[i].ReusedFrom == "" {
			require.Empty(t, payer, "only one caller pays")
			payer = fmt.Sprintf("inv-%d", i)
		}
	}
	require.NotEmpty(t, payer)
	for i := range n {
		if id := fmt.Sprintf("inv-%d", i); id != payer {
			assert.Equal(t, payer, results[i].ReusedFrom, id)
		}
	}
	assert.Equal(t, CacheStats{Misses: 1, InFlightJoins: n - 1, Entries: 1}, cache.Stats())

	// And the 51st, later, is a plain hit.
	an, err := cache.AnalyzeFor(t.Context(), "inv-late", outbreakOn(n))
	require.NoError(t, err)
	assert.Equal(t, payer, an.ReusedFrom)
	assert.EqualValues(t, 1, inner.calls.Load())
	assert.EqualValues(t, 1, cache.Stats().Hits)
}

func TestCache_ReusedFrom(t *testing.T) {
	inner := &countingAnalyzer{}
	cache := NewCache(inner, time.Hour, 10, nil)

	first, err := cache.AnalyzeFor(t.Context(), "inv-A", outbreakOn(1))
	require.NoError(t, err)
	assert.Empty(t, first.ReusedFrom, "the first caller paid for its own analysis")

	second, err := cache.AnalyzeFor(t.Context(), "inv-B", outbreakOn(2))
	require.NoError(t, err)
	assert.Equal(t, "inv-A", second.ReusedFrom)
	second.ReusedFrom = ""
	assert.Equal(t, first, second, "the same analysis otherwise")

	retry, err := cache.AnalyzeFor(t.Context(), "inv-A", outbreakOn(1))
	require.NoError(t, err)
	assert.Empty(t, retry.ReusedFrom, "a retry of the paying investigation is not a reuse")

	// Readers get their own copy: changing one does not change the cache.
	second.RecommendedActions[0] = investigation.ActionIsolate
	third, err := cache.AnalyzeFor(t.Context(), "inv-C", outbreakOn(3))
	require.NoError(t, err)
	assert.Equal(t, investigation.ActionKill, third.RecommendedActions[0])

	other := outbreakOn(4)
	other.Facts.SHA256 = "0000" + other.Facts.SHA256[4:]
	fresh, err := cache.AnalyzeFor(t.Context(), "inv-D", other)
	require.NoError(t, err)
	assert.Empty(t, fresh.ReusedFrom, "another hash is another analysis")
	assert.EqualValues(t, 2, inner.calls.Load())
}

func TestCache_TTL(t *testing.T) {
	clock := &fakeClock{t: investigationtest.Detected}
	inner := &countingAnalyzer{}
	cache := NewCache(inner, 30*time.Minute, 10, clock.Now)

	_, err := cache.AnalyzeFor(t.Context(), "inv-A", outbreakOn(1))
	require.NoError(t, err)
	clock.Advance(30*time.Minute - time.Second)
	an, err := cache.AnalyzeFor(t.Context(), "inv-B", outbreakOn(2))
	require.NoError(t, err)
	assert.Equal(t, "inv-A", an.ReusedFrom, "still fresh")
	assert.EqualValues(t, 1, inner.calls.Load())

	clock.Advance(time.Second)
	assert.Zero(t, cache.Stats().Entries, "expired entries are swept")
	an, err = cache.AnalyzeFor(t.Context(), "inv-C", outbreakOn(3))
	require.NoError(t, err)
	assert.Empty(t, an.ReusedFrom, "an expired analysis is not reused")
	assert.EqualValues(t, 2, inner.calls.Load())

	an, err = cache.AnalyzeFor(t.Context(), "inv-D", outbreakOn(4))
	require.NoError(t, err)
	assert.Equal(t, "inv-C", an.ReusedFrom, "the new analysis is reused in turn")
	assert.EqualValues(t, 2, inner.calls.Load())
}

func TestCache_ZeroTTLStoresNothing(t *testing.T) {
	inner := &countingAnalyzer{}
	cache := NewCache(inner, 0, 10, nil)
	for i := range 3 {
		an, err := cache.AnalyzeFor(t.Context(), fmt.Sprintf("inv-%d", i), outbreakOn(i))
		require.NoError(t, err)
		assert.Empty(t, an.ReusedFrom)
	}
	assert.EqualValues(t, 3, inner.calls.Load())
}

func TestCache_ErrorsAreNotCached(t *testing.T) {
	boom := &ProviderError{StatusCode: 503, Message: "overloaded"}
	release := make(chan struct{})
	var fail atomic.Bool
	fail.Store(true)
	inner := &countingAnalyzer{fn: func(context.Context, investigation.Evidence) (investigation.Analysis, error) {
		<-release
		if fail.Load() {
			return investigation.Analysis{}, boom
		}
		return validAnalysis("ok"), nil
	}}
	cache := NewCache(inner, time.Hour, 10, nil)

	// Every waiter of a failing call gets its error.
	const n = 5
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = cache.AnalyzeFor(t.Context(), fmt.Sprintf("inv-%d", i), outbreakOn(i)) })
	}
	require.Eventually(t, func() bool { return cache.Stats().InFlightJoins == n-1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	for i := range n {
		var pe *ProviderError
		require.ErrorAs(t, errs[i], &pe, "caller %d", i)
		assert.Equal(t, 503, pe.StatusCode)
	}
	assert.EqualValues(t, 1, inner.calls.Load())
	assert.Zero(t, cache.Stats().Entries)

	// The next call retries, and its success is cached.
	fail.Store(false)
	an, err := cache.AnalyzeFor(t.Context(), "inv-retry", outbreakOn(9))
	require.NoError(t, err)
	assert.Empty(t, an.ReusedFrom)
	an, err = cache.AnalyzeFor(t.Context(), "inv-after", outbreakOn(10))
	require.NoError(t, err)
	assert.Equal(t, "inv-retry", an.ReusedFrom)
	assert.EqualValues(t, 2, inner.calls.Load())
}

func TestCache_InvalidAnalysisIsNotCached(t *testing.T) {
	inner := &countingAnalyzer{fn: func(context.Context, investigation.Evidence) (investigation.Analysis, error) {
		return investigation.Analysis{Verdict: "maybe", Summary: "?"}, nil
	}}
	cache := NewCache(inner, time.Hour, 10, nil)
	for i := range 2 {
		an, err := cache.AnalyzeFor(t.Context(), fmt.Sprintf("inv-%d", i), outbreakOn(i))
		require.NoError(t, err, "the caller validates, as it does without a cache")
		assert.Equal(t, investigation.Verdict("maybe"), an.Verdict)
	}
	assert.EqualValues(t, 2, inner.calls.Load())
}

func TestCache_EvictsOldest(t *testing.T) {
	clock := &fakeClock{t: investigationtest.Detected}
	inner := &countingAnalyzer{}
	cache := NewCache(inner, time.Hour, 2, clock.Now)
	sample := func(b byte) investigation.Evidence {
		ev := outbreakOn(int(b))
		ev.Facts.SHA256 = string([]byte{b}) + ev.Facts.SHA256[1:]
		return ev
	}
	for _, b := range []byte("abc") {
		_, err := cache.AnalyzeFor(t.Context(), "inv-"+string(b), sample(b))
		require.NoError(t, err)
		clock.Advance(time.Second)
	}
	assert.Equal(t, 2, cache.Stats().Entries)
	assert.EqualValues(t, 3, inner.calls.Load())

	for _, b := range []byte("bc") {
		an, err := cache.AnalyzeFor(t.Context(), "inv-x", sample(b))
		require.NoError(t, err)
		assert.Equal(t, "inv-"+string(b), an.ReusedFrom, "the newest two stay")
	}
	assert.EqualValues(t, 3, inner.calls.Load())

	an, err := cache.AnalyzeFor(t.Context(), "inv-y", sample('a'))
	require.NoError(t, err)
	assert.Empty(t, an.ReusedFrom, "the oldest was dropped")
	assert.EqualValues(t, 4, inner.calls.Load())
	assert.Equal(t, 2, cache.Stats().Entries)
}

func TestCache_CancelledWaiter(t *testing.T) {
	release := make(chan struct{})
	var innerCtxErr atomic.Value
	inner := &countingAnalyzer{fn: func(ctx context.Context, _ investigation.Evidence) (investigation.Analysis, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			innerCtxErr.Store(err)
			return investigation.Analysis{}, err
		}
		return validAnalysis("shared"), nil
	}}
	cache := NewCache(inner, time.Hour, 10, nil)

	type result struct {
		an  investigation.Analysis
		err error
	}
	payer := make(chan result, 1)
	go func() {
		an, err := cache.AnalyzeFor(t.Context(), "inv-A", outbreakOn(1))
		payer <- result{an, err}
	}()
	require.Eventually(t, func() bool { return cache.Stats().Misses == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithCancel(t.Context())
	waiter := make(chan error, 1)
	go func() {
		_, err := cache.AnalyzeFor(ctx, "inv-B", outbreakOn(2))
		waiter <- err
	}()
	require.Eventually(t, func() bool { return cache.Stats().InFlightJoins == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-waiter:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled waiter did not return")
	}

	close(release)
	r := <-payer
	require.NoError(t, r.err, "the shared call was not cancelled with the waiter")
	assert.Equal(t, "shared", r.an.Summary)
	assert.Nil(t, innerCtxErr.Load())
	assert.EqualValues(t, 1, inner.calls.Load())
}

func TestCache_CallAbandonedByEveryoneIsCancelledAndRetried(t *testing.T) {
	started := make(chan struct{}, 2)
	var blocking atomic.Bool
	blocking.Store(true)
	inner := &countingAnalyzer{fn: func(ctx context.Context, _ investigation.Evidence) (investigation.Analysis, error) {
		if blocking.Load() {
			started <- struct{}{}
			<-ctx.Done()
			return investigation.Analysis{}, ctx.Err()
		}
		return validAnalysis("second try"), nil
	}}
	cache := NewCache(inner, time.Hour, 10, nil)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := cache.AnalyzeFor(ctx, "inv-A", outbreakOn(1))
		done <- err
	}()
	<-started
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	blocking.Store(false)
	an, err := cache.AnalyzeFor(t.Context(), "inv-B", outbreakOn(2))
	require.NoError(t, err, "a call nobody waits for any more is not joined")
	assert.Equal(t, "second try", an.Summary)
	assert.Empty(t, an.ReusedFrom)
	assert.EqualValues(t, 2, inner.calls.Load())
}

func TestCache_UncacheableEvidenceIsNotShared(t *testing.T) {
	inner := &countingAnalyzer{}
	cache := NewCache(inner, time.Hour, 10, nil)
	bare := investigation.Evidence{Facts: investigation.ThreatFacts{ThreatName: "Suspicious activity", OSType: "windows"}}
	for i := range 2 {
		an, err := cache.AnalyzeFor(t.Context(), fmt.Sprintf("inv-%d", i), bare)
		require.NoError(t, err)
		assert.Empty(t, an.ReusedFrom)
	}
	assert.EqualValues(t, 2, inner.calls.Load())
	assert.EqualValues(t, 2, cache.Stats().Uncacheable)
}

func TestCache_PanicBecomesError(t *testing.T) {
	inner := &countingAnalyzer{fn: func(context.Context, investigation.Evidence) (investigation.Analysis, error) {
		panic("bad analyzer")
	}}
	cache := NewCache(inner, time.Hour, 10, nil)
	_, err := cache.AnalyzeFor(t.Context(), "inv-A", outbreakOn(1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad analyzer")
	assert.False(t, errors.Is(err, ErrInvalidOutput))
}

var _ Analyzer = (*Cache)(nil)
