package llm

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

// DefaultCacheEntries bounds a Cache built with maxEntries <= 0.
const DefaultCacheEntries = 10000

// fingerprintVersion is hashed first, so changing what Fingerprint covers
// changes every fingerprint instead of silently mixing old and new meanings.
const fingerprintVersion = "s1copilot-evidence-fingerprint-v1"

var (
	// \Users\<name>\ and \Documents and Settings\<name>\, after any prefix
	// (C:, \Device\HarddiskVolume3, ...). The name stops at a character Windows
	// forbids in file names, so a command line is not swallowed past it.
	windowsProfile = regexp.MustCompile(`(?i)\\(users|documents and settings)\\[^\\/:*?"<>|\r\n]+\\`)
	// /home/<name>/ and /Users/<name>/ (macOS, or a Windows path with forward slashes).
	unixProfile = regexp.MustCompile(`/(home|Users)/[^/\s"':]+/`)
	// S1 reports NT device paths; the same file sits on different volume numbers on different hosts.
	windowsVolume = regexp.MustCompile(`(?i)\\device\\harddiskvolume[0-9]+\\`)
)

// normaliseUserPaths replaces the user-profile segment of the paths in s by "*",
// so the same file under two users' profiles reads the same.
func normaliseUserPaths(s string) string {
	s = windowsVolume.ReplaceAllString(s, `\Device\HarddiskVolume*\`)
	s = windowsProfile.ReplaceAllString(s, `\$1\*\`)
	return unixProfile.ReplaceAllString(s, `/$1/*/`)
}

// Fingerprint is the evidence fingerprint: same threat behaviour (hash + the
// behaviour the analyzer sees), whatever the host. It is the hex SHA-256 over
// the file's SHA256 (else SHA1, lower-cased), the threat name, classification,
// S1 confidence level, file path and command line with the user-profile segment
// normalised (C:\Users\<name>\ → C:\Users\*\, /home/<name>/ → /home/*/, also
// /Users/<name>/ and \Device\HarddiskVolumeN\), originator process, engines,
// indicators (normalised the same way), techniques (each list sorted, as a set)
// and OS type.
//
// It deliberately leaves out what differs per host or per detection: agent name
// and ID, site, group, account, users, storyline, timestamps, network and
// mitigation status, tags and the timeline (whose entries are per-host events).
// Those facts belong in each investigation's own note, not in the shared analysis.
func Fingerprint(ev investigation.Evidence) string {
	f := ev.Facts
	h := sha256.New()
	write := func(name, value string) {
		// Length-prefixed, so no two different field lists hash the same.
		fmt.Fprintf(h, "%s:%d:%s\n", name, len(value), value)
	}
	fileHash := strings.ToLower(strings.TrimSpace(f.SHA256))
	if fileHash == "" {
		fileHash = "sha1:" + strings.ToLower(strings.TrimSpace(f.SHA1))
	}
	write("version", fingerprintVersion)
	write("hash", fileHash)
	write("threatName", strings.TrimSpace(f.ThreatName))
	write("classification", strings.TrimSpace(f.Classification))
	write("confidenceLevel", strings.ToLower(strings.TrimSpace(f.ConfidenceLevel)))
	write("filePath", normaliseUserPaths(strings.TrimSpace(f.FilePath)))
	write("commandLine", normaliseUserPaths(strings.TrimSpace(f.CommandLine)))
	write("originatorProcess", strings.TrimSpace(f.OriginatorProcess))
	writeSet(h, "engines", f.Engines, nil)
	writeSet(h, "indicators", f.Indicators, normaliseUserPaths)
	writeSet(h, "techniques", f.Techniques, nil)
	write("osType", strings.ToLower(strings.TrimSpace(f.OSType)))
	return hex.EncodeToString(h.Sum(nil))
}

// writeSet hashes a list as a set: trimmed, optionally normalised, sorted, de-duplicated.
func writeSet(h hash.Hash, name string, list []string, norm func(string) string) {
	items := make([]string, 0, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if norm != nil {
			s = norm(s)
		}
		items = append(items, s)
	}
	slices.Sort(items)
	items = slices.Compact(items)
	fmt.Fprintf(h, "%s:%d\n", name, len(items))
	for _, s := range items {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
}

// cacheable reports whether ev says enough to be shared: a file hash or a
// command line. Without either, the remaining fields (name, classification,
// engines) are too generic to prove two threats behave alike.
func cacheable(ev investigation.Evidence) bool {
	f := ev.Facts
	return strings.TrimSpace(f.SHA256) != "" || strings.TrimSpace(f.SHA1) != "" || strings.TrimSpace(f.CommandLine) != ""
}

// CacheStats counts what a Cache did since it was built.
type CacheStats struct {
	Hits          int64 // answered from a stored analysis
	Misses        int64 // inner calls started
	InFlightJoins int64 // callers that waited for another caller's inner call
	Uncacheable   int64 // evidence without hash or command line, passed straight to the inner analyzer
	Entries       int   // analyses stored now (expired ones swept)
}

// Cache is the "outbreak economy" of issue 5: it remembers analyses by evidence
// Fingerprint for a TTL, so an outbreak of one sha256 on 500 endpoints costs a
// handful of model calls instead of 500. A reused analysis carries ReusedFrom,
// the investigation that paid for it; per-host facts are not in the fingerprint
// and the caller renders them from each investigation's own evidence.
//
// Concurrent callers with the same fingerprint share one inner call. Errors,
// and analyses that fail Validate, are never stored: the next caller retries.
//
// The cache is in memory and per process: each worker pays once per fingerprint
// per TTL, so with N workers an outbreak costs at most N calls per TTL. That is
// the "handful" issue 5 asks for; a fleet-wide cache would need shared storage
// (and its failure modes) and is not worth it for that saving.
//
// It is bounded: past maxEntries the oldest entry is dropped. A Cache is safe
// for concurrent use.
type Cache struct {
	inner Analyzer
	ttl   time.Duration
	max   int
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // of *cacheEntry
	order   *list.List               // oldest first
	calls   map[string]*inflight
	stats   CacheStats
}

type cacheEntry struct {
	key      string
	payer    string // the investigation whose call produced the analysis
	analysis []byte // JSON, decoded afresh for every reader so no slice is shared
	expires  time.Time
}

// inflight is one inner call that callers with the same fingerprint wait for.
type inflight struct {
	payer   string
	done    chan struct{} // closed once the fields below are set
	waiters int           // callers still waiting; guarded by Cache.mu
	cancel  context.CancelFunc

	analysis investigation.Analysis
	encoded  []byte
	err      error
}

// NewCache wraps inner. ttl is how long an analysis is reused (ttl <= 0 stores
// nothing, but concurrent identical calls are still shared); maxEntries bounds
// the cache (<= 0 means DefaultCacheEntries); now is the clock (nil means time.Now).
func NewCache(inner Analyzer, ttl time.Duration, maxEntries int, now func() time.Time) *Cache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{
		inner: inner, ttl: ttl, max: maxEntries, now: now,
		entries: map[string]*list.Element{},
		order:   list.New(),
		calls:   map[string]*inflight{},
	}
}

// CacheOutcome says how a Cache answered one call, for metrics.
type CacheOutcome string

const (
	CacheHit         CacheOutcome = "hit"         // a stored analysis was reused
	CacheMiss        CacheOutcome = "miss"        // this caller paid for the inner call
	CacheShared      CacheOutcome = "shared"      // this caller waited for another caller's in-flight call
	CacheUncacheable CacheOutcome = "uncacheable" // evidence without hash or command line: the inner analyzer was asked directly
)

// Analyze implements Analyzer for callers that have no investigation ID; the
// analyses it pays for are then reused with an empty ReusedFrom.
func (c *Cache) Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	return c.AnalyzeFor(ctx, "", ev)
}

// AnalyzeFor analyses ev for the investigation investigationID; a cached or
// in-flight analysis with the same fingerprint is reused, and the returned
// Analysis then has ReusedFrom = the investigation that paid for it (the first
// caller), unless that is investigationID itself (a retry of the same
// investigation). Errors are never cached; concurrent callers with the same
// fingerprint wait for one inner call (if it fails, each waiter gets the error
// and the next call retries).
//
// A caller whose ctx ends returns ctx.Err() without cancelling the shared call,
// which runs on the first caller's context values without its cancellation; the
// shared call is cancelled only once every caller waiting for it has given up.
func (c *Cache) AnalyzeFor(ctx context.Context, investigationID string, ev investigation.Evidence) (investigation.Analysis, error) {
	an, _, err := c.AnalyzeOutcome(ctx, investigationID, ev)
	return an, err
}

// AnalyzeOutcome is AnalyzeFor that also says how the cache answered. Only a
// CacheMiss or CacheUncacheable caller's Analysis carries Usage: a reused
// analysis cost this caller nothing, so its Usage is removed.
func (c *Cache) AnalyzeOutcome(ctx context.Context, investigationID string, ev investigation.Evidence) (investigation.Analysis, CacheOutcome, error) {
	if !cacheable(ev) {
		c.mu.Lock()
		c.stats.Uncacheable++
		c.mu.Unlock()
		an, err := c.inner.Analyze(ctx, ev)
		return an, CacheUncacheable, err
	}
	if err := ctx.Err(); err != nil {
		return investigation.Analysis{}, CacheMiss, err
	}
	key := Fingerprint(ev)

	c.mu.Lock()
	if e := c.lookup(key); e != nil {
		c.stats.Hits++
		payer, blob := e.payer, e.analysis
		c.mu.Unlock()
		an, err := reused(blob, payer, investigationID)
		return an, CacheHit, err
	}
	call, joined := c.calls[key]
	outcome := CacheMiss
	if joined {
		outcome = CacheShared
		c.stats.InFlightJoins++
		call.waiters++
	} else {
		c.stats.Misses++
		callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		call = &inflight{payer: investigationID, done: make(chan struct{}), waiters: 1, cancel: cancel}
		c.calls[key] = call
		go c.run(callCtx, key, call, ev)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
	case <-ctx.Done():
		select {
		case <-call.done: // finished meanwhile: the answer is there, use it
		default:
			c.abandon(key, call)
			return investigation.Analysis{}, outcome, ctx.Err()
		}
	}
	if !joined {
		return call.analysis, outcome, call.err // the payer gets the inner analyzer's own value
	}
	if call.encoded == nil { // only when encoding failed, which call.err says
		return investigation.Analysis{}, outcome, call.err
	}
	an, err := reused(call.encoded, call.payer, investigationID)
	if err != nil {
		return an, outcome, err
	}
	return an, outcome, call.err
}

// Holds reports whether an analysis for ev's fingerprint is stored or being made, so
// a caller can skip work that only a fresh analysis needs (gathering context for
// the model). It counts nothing in Stats.
func (c *Cache) Holds(ev investigation.Evidence) bool {
	if !cacheable(ev) {
		return false
	}
	key := Fingerprint(ev)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, inflight := c.calls[key]
	return inflight || c.lookup(key) != nil
}

// run makes the inner call, publishes its outcome to the waiters and stores a
// usable analysis.
func (c *Cache) run(ctx context.Context, key string, call *inflight, ev investigation.Evidence) {
	defer call.cancel()
	an, err := c.callInner(ctx, ev)
	encoded, encErr := json.Marshal(an)
	if encErr != nil && err == nil {
		err = fmt.Errorf("llm cache: encode analysis: %w", encErr)
	}

	c.mu.Lock()
	call.analysis, call.encoded, call.err = an, encoded, err
	if c.calls[key] == call {
		delete(c.calls, key)
	}
	if err == nil && c.ttl > 0 && an.Validate() == nil {
		c.store(&cacheEntry{key: key, payer: call.payer, analysis: encoded, expires: c.now().Add(c.ttl)})
	}
	c.mu.Unlock()
	close(call.done)
}

// callInner runs the inner analyzer, turning a panic into an error: it runs on
// its own goroutine, where a panic would otherwise take the worker down.
func (c *Cache) callInner(ctx context.Context, ev investigation.Evidence) (an investigation.Analysis, err error) {
	defer func() {
		if r := recover(); r != nil {
			an, err = investigation.Analysis{}, fmt.Errorf("llm cache: analyzer panicked: %v", r)
		}
	}()
	return c.inner.Analyze(ctx, ev)
}

// abandon records that one caller stopped waiting for call; when none is left
// the call is cancelled and forgotten, so the next caller starts afresh rather
// than joining a call that is being cancelled.
func (c *Cache) abandon(key string, call *inflight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	call.waiters--
	if call.waiters > 0 {
		return
	}
	call.cancel()
	if c.calls[key] == call {
		delete(c.calls, key)
	}
}

// reused decodes a fresh copy of a shared analysis and says whose it was. Its
// Usage is dropped: the reader paid nothing, and counting the tokens again would
// inflate the cost of an outbreak by the number of threats in it.
func reused(encoded []byte, payer, investigationID string) (investigation.Analysis, error) {
	var an investigation.Analysis
	if err := json.Unmarshal(encoded, &an); err != nil {
		return investigation.Analysis{}, fmt.Errorf("llm cache: decode analysis: %w", err)
	}
	an.Usage = nil
	if payer != investigationID {
		an.ReusedFrom = payer
	}
	return an, nil
}

// lookup returns the live entry for key, or nil. Callers hold c.mu.
func (c *Cache) lookup(key string) *cacheEntry {
	c.sweep()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return nil
	}
	return e
}

// store adds e, replacing any entry for the same key and dropping the oldest
// entries past the bound. Callers hold c.mu.
func (c *Cache) store(e *cacheEntry) {
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.order.PushBack(e)
	for c.order.Len() > c.max {
		c.remove(c.order.Front())
	}
	c.sweep()
}

// sweep drops expired entries from the front. Entries are appended with the
// same TTL, so the oldest expire first. Callers hold c.mu.
func (c *Cache) sweep() {
	now := c.now()
	for el := c.order.Front(); el != nil; el = c.order.Front() {
		if now.Before(el.Value.(*cacheEntry).expires) {
			return
		}
		c.remove(el)
	}
}

func (c *Cache) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.entries, el.Value.(*cacheEntry).key)
}

// Stats returns the counters and the number of live entries.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep()
	s := c.stats
	s.Entries = c.order.Len()
	return s
}

// String is for logs: "hits=3 misses=1 joins=2 uncacheable=0 entries=1".
func (s CacheStats) String() string {
	return "hits=" + strconv.FormatInt(s.Hits, 10) +
		" misses=" + strconv.FormatInt(s.Misses, 10) +
		" joins=" + strconv.FormatInt(s.InFlightJoins, 10) +
		" uncacheable=" + strconv.FormatInt(s.Uncacheable, 10) +
		" entries=" + strconv.Itoa(s.Entries)
}
