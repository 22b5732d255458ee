package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
)

var t0 = time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)

func rec(step string) audit.Record {
	return audit.Record{
		Time:            t0,
		ID:              audit.RecordID("inv-42", step),
		Kind:            audit.KindNote,
		InvestigationID: "inv-42",
		ThreatID:        "threat-1",
		Actor:           audit.SystemActor,
	}
}

func ptr(f float64) *float64 { return &f }

// lines splits b into lines, requiring it to end with a newline and every line to be a
// JSON object that decodes into a Record with no unknown fields.
func lines(t *testing.T, b []byte) []audit.Record {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	require.True(t, bytes.HasSuffix(b, []byte("\n")), "output must end with a newline")
	var out []audit.Record
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var r audit.Record
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&r), "line %d is not a record: %q", i+1, line)
		require.False(t, dec.More(), "line %d holds more than one JSON value", i+1)
		out = append(out, r)
	}
	return out
}

func TestWriterWritesOneLinePerRecordInOrder(t *testing.T) {
	var buf bytes.Buffer
	w := audit.NewWriter(&buf)
	ctx := context.Background()

	triage := rec("triage")
	triage.Kind = audit.KindTriage
	triage.Analyzer = "openai:gpt"
	triage.Verdict = "true_positive"
	triage.Confidence = ptr(0) // a zero confidence is information, not absence
	triage.Reason = "multi\nline <reason> & \"quotes\""
	decision := rec("decision/kill")
	decision.Kind = audit.KindDecision
	decision.Action = "kill"
	decision.Decision = "auto"
	approval := rec("approval/kill")
	approval.Kind = audit.KindApproval
	approval.Actor = "alice@example.com"
	approval.Channel = "slack"
	approval.Decision = "approved"
	approval.Time = t0.In(time.FixedZone("CEST", 2*3600))

	for _, r := range []audit.Record{triage, decision, approval} {
		require.NoError(t, w.Write(ctx, r))
	}

	assert.Equal(t, 3, bytes.Count(buf.Bytes(), []byte("\n")), "one line per record, even with a newline in a field")
	got := lines(t, buf.Bytes())
	require.Len(t, got, 3)
	assert.Equal(t, []string{"inv-42/triage", "inv-42/decision/kill", "inv-42/approval/kill"},
		[]string{got[0].ID, got[1].ID, got[2].ID}, "records in write order")
	assert.Equal(t, triage.Reason, got[0].Reason)
	require.NotNil(t, got[0].Confidence)
	assert.Equal(t, 0.0, *got[0].Confidence)
	assert.Equal(t, "alice@example.com", got[2].Actor)
	assert.True(t, got[2].Time.Equal(t0))

	raw := strings.Split(buf.String(), "\n")
	assert.Contains(t, raw[0], `"confidence":0`)
	assert.Contains(t, raw[0], `<reason> & `, "HTML characters stay readable")
	assert.NotContains(t, raw[1], `"runId"`, "empty optional fields are omitted")
	assert.NotContains(t, raw[1], `"confidence"`, "absent confidence is omitted")
	assert.Contains(t, raw[2], `"time":"2026-03-01T12:30:00.123456789Z"`, "time is written in UTC with full precision")
}

// The JSON field names are the SIEM's schema; renaming one silently breaks its parsers.
func TestRecordSchema(t *testing.T) {
	r := audit.Record{
		Time: t0, ID: "i/s", Kind: audit.KindTriage, InvestigationID: "i", RunID: "r", ThreatID: "t",
		AgentID: "a", PolicyVersion: "p", Actor: "x", Channel: "c", Action: "kill", Decision: "auto",
		Reason: "why", InputsDigest: "sha256:00", Analyzer: "rules", Verdict: "true_positive", Confidence: ptr(0.9),
	}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	assert.Equal(t, []string{
		"action", "actor", "agentId", "analyzer", "channel", "confidence", "decision", "id", "inputsDigest",
		"investigationId", "kind", "policyVersion", "reason", "runId", "threatId", "time", "verdict",
	}, keys)
}

// lineCheckingWriter fails the test if a Write call is not exactly one whole line, and is
// deliberately not safe for concurrent use so that -race catches a missing lock.
type lineCheckingWriter struct {
	buf   bytes.Buffer
	calls int
	bad   []string
}

func (l *lineCheckingWriter) Write(p []byte) (int, error) {
	l.calls++
	if bytes.Count(p, []byte("\n")) != 1 || p[len(p)-1] != '\n' {
		l.bad = append(l.bad, string(p))
	}
	return l.buf.Write(p)
}

func TestWriterConcurrentWritesNeverInterleave(t *testing.T) {
	const goroutines, perGoroutine = 50, 100
	var out lineCheckingWriter
	w := audit.NewWriter(&out)
	ctx := context.Background()

	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perGoroutine)
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				r := rec(fmt.Sprintf("g%d/%d", g, i))
				r.Reason = strings.Repeat(fmt.Sprintf("goroutine %d write %d ", g, i), 20) // long lines
				if err := w.Write(ctx, r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	assert.Empty(t, out.bad, "every Write call carries exactly one whole line")
	assert.Equal(t, goroutines*perGoroutine, out.calls)
	got := lines(t, out.buf.Bytes())
	require.Len(t, got, goroutines*perGoroutine)
	next := make([]int, goroutines) // per goroutine, records appear in the order it wrote them
	for _, r := range got {
		var g, i int
		_, err := fmt.Sscanf(r.ID, "inv-42/g%d/%d", &g, &i)
		require.NoError(t, err, r.ID)
		require.Equal(t, next[g], i, "goroutine %d out of order", g)
		assert.True(t, strings.HasPrefix(r.Reason, fmt.Sprintf("goroutine %d write %d ", g, i)), "line content matches its ID")
		next[g]++
	}
}

func TestWriterRefusesInvalidRecordAndWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	w := audit.NewWriter(&buf)
	r := rec("x")
	r.ThreatID = ""
	err := w.Write(context.Background(), r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "threatId")
	assert.Zero(t, buf.Len())
}

func TestWriterCancelledContextWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := audit.NewWriter(&buf).Write(ctx, rec("x"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, buf.Len())
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriterReportsShortWrite(t *testing.T) {
	err := audit.NewWriter(shortWriter{}).Write(context.Background(), rec("x"))
	assert.ErrorIs(t, err, io.ErrShortWrite)
}

func TestValidate(t *testing.T) {
	require.NoError(t, rec("ok").Validate())
	for _, k := range audit.Kinds {
		r := rec("ok")
		r.Kind = k
		assert.NoError(t, r.Validate(), k)
	}

	err := audit.Record{}.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing id, kind, investigationId, threatId, actor, time")

	r := rec("x")
	r.Actor, r.Time = "", time.Time{}
	err = r.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing actor, time")
	assert.NotContains(t, err.Error(), "threatId")
	assert.Contains(t, err.Error(), "inv-42/x", "the error names the record")

	r = rec("x")
	r.Kind = "deleted_everything"
	r.Actor = ""
	err = r.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown kind "deleted_everything"`)
	assert.Contains(t, err.Error(), "missing actor", "all problems are reported at once")

	r = rec("x")
	r.ID = "other-investigation/x"
	assert.ErrorContains(t, r.Validate(), `is not "inv-42" + "/" + step`)
	r.ID = "inv-42x/step" // a prefix of the ID is not enough; the separator is required
	assert.Error(t, r.Validate())

	for _, c := range []float64{-0.1, 1.01, math.NaN()} {
		r = rec("x")
		r.Confidence = ptr(c)
		assert.ErrorContains(t, r.Validate(), "confidence", c)
	}
	r.Confidence = ptr(1)
	assert.NoError(t, r.Validate())
}

func TestDigest(t *testing.T) {
	type inputs struct {
		ThreatID string
		Actions  []string
		Conf     float64
	}
	a1, err := audit.Digest(inputs{"t1", []string{"kill", "quarantine"}, 0.9})
	require.NoError(t, err)
	a2, err := audit.Digest(inputs{"t1", []string{"kill", "quarantine"}, 0.9})
	require.NoError(t, err)
	assert.Equal(t, a1, a2, "equal values, equal digests")
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, a1)

	for _, other := range []inputs{
		{"t2", []string{"kill", "quarantine"}, 0.9},
		{"t1", []string{"quarantine", "kill"}, 0.9},
		{"t1", []string{"kill", "quarantine"}, 0.91},
	} {
		d, err := audit.Digest(other)
		require.NoError(t, err)
		assert.NotEqual(t, a1, d, "%+v", other)
	}

	// Maps: independent of insertion order.
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%03d", i)
	}
	fwd, rev := map[string]int{}, map[string]int{}
	for i, k := range keys {
		fwd[k] = i
	}
	for i := len(keys) - 1; i >= 0; i-- {
		rev[keys[i]] = i
	}
	df, err := audit.Digest(fwd)
	require.NoError(t, err)
	dr, err := audit.Digest(rev)
	require.NoError(t, err)
	assert.Equal(t, df, dr)
	rev["k000"] = -1
	dr, err = audit.Digest(rev)
	require.NoError(t, err)
	assert.NotEqual(t, df, dr)

	// It is the sha256 of the canonical JSON, so a SIEM or auditor can recompute it.
	sum := sha256.Sum256([]byte(`{"a":2,"b":1}`))
	d, err := audit.Digest(map[string]int{"b": 1, "a": 2})
	require.NoError(t, err)
	assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), d)

	_, err = audit.Digest(make(chan int))
	assert.Error(t, err)
}

func TestWriterRefusesCredentials(t *testing.T) {
	const s1Token = "s1-secret-9f8e7d"
	const llmKey = "my-llm-key-abc123"
	for _, tc := range []struct {
		name, secret string
		set          func(*audit.Record, string)
	}{
		{"ApiToken header in reason", "ApiToken eyJraWQiOiJ0b2tlblNpZ25pbmciLCJhbGci", func(r *audit.Record, s string) { r.Reason = "request failed: Authorization: " + s }},
		{"lower-case apitoken", "apitoken abcdefghijklmnop1234", func(r *audit.Record, s string) { r.Reason = s }},
		{"Bearer token in action", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", func(r *audit.Record, s string) { r.Action = s }},
		{"sk- key in analyzer", "sk-proj-AbCdEf0123456789xyz", func(r *audit.Record, s string) { r.Analyzer = "openai with key " + s }},
		{"sk- key at start of a field", "sk-0123456789abcdef0123", func(r *audit.Record, s string) { r.Channel = s }},
		{"denied S1 token in channel", s1Token, func(r *audit.Record, s string) { r.Channel = "webhook?token=" + s }},
		{"denied LLM key in verdict", llmKey, func(r *audit.Record, s string) { r.Verdict = s }},
		{"secret in the ID", "sk-0123456789abcdef0123", func(r *audit.Record, s string) { r.ID = r.InvestigationID + "/" + s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := audit.NewWriter(&buf)
			w.Deny = []string{"", "  ", s1Token, llmKey}
			r := rec("triage")
			tc.set(&r, tc.secret)
			err := w.Write(context.Background(), r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refused")
			assert.NotContains(t, err.Error(), tc.secret, "the error must not leak the secret")
			assert.Zero(t, buf.Len(), "nothing written")
		})
	}
}

func TestWriterAllowsCredentialLookalikes(t *testing.T) {
	var buf bytes.Buffer
	w := audit.NewWriter(&buf)
	w.Deny = []string{"", "   "} // empty entries must not refuse everything
	for i, reason := range []string{
		"Bearer token found in the command line of powershell.exe",
		"the ApiToken header was rejected",
		"scheduled task-persistence-mechanism-detected", // "sk-…" inside a word
		"sk-short",
		"kill switch engaged",
	} {
		r := rec(fmt.Sprint("note/", i))
		r.Reason = reason
		require.NoError(t, w.Write(context.Background(), r), reason)
	}
	assert.Len(t, lines(t, buf.Bytes()), 5)
}

// Every string field of Record is guarded, including fields added after this test.
func TestWriterGuardsEveryStringField(t *testing.T) {
	const key = "sk-ABCDEFGHIJKLMNOPQRSTUVWX"
	typ := reflect.TypeFor[audit.Record]()
	checked := 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type.Kind() != reflect.String {
			continue
		}
		checked++
		t.Run(f.Name, func(t *testing.T) {
			var buf bytes.Buffer
			r := rec("x")
			v := reflect.ValueOf(&r).Elem().Field(i)
			v.SetString(v.String() + " " + key)
			err := audit.NewWriter(&buf).Write(context.Background(), r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refused")
			assert.Zero(t, buf.Len())
		})
	}
	assert.GreaterOrEqual(t, checked, 15)
}

func TestOpenFileAppendsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	ctx := context.Background()

	f, err := audit.OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, f.Write(ctx, rec("one")))
	require.NoError(t, f.Write(ctx, rec("two")))
	require.NoError(t, f.Close())

	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}

	f, err = audit.OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, f.Write(ctx, rec("three")))
	require.NoError(t, f.Close())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	got := lines(t, b)
	require.Len(t, got, 3)
	assert.Equal(t, "inv-42/one", got[0].ID)
	assert.Equal(t, "inv-42/two", got[1].ID)
	assert.Equal(t, "inv-42/three", got[2].ID)
}

func TestOpenFileWriteAfterCloseFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "closing twice is harmless")
	assert.ErrorIs(t, f.Write(context.Background(), rec("late")), os.ErrClosed)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, b)
}

func TestOpenFileDenyAndGuard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	require.NoError(t, err)
	defer f.Close()
	f.Deny = []string{"token-value-123"}
	r := rec("x")
	r.Reason = "token-value-123"
	require.Error(t, f.Write(context.Background(), r))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, b)
}

func TestOpenFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 10 {
		wg.Go(func() {
			for i := range 20 {
				assert.NoError(t, f.Write(context.Background(), rec(fmt.Sprintf("g%d/%d", g, i))))
			}
		})
	}
	wg.Wait()
	require.NoError(t, f.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Len(t, lines(t, b), 200)
}

func TestOpenFileMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	_, err := audit.OpenFile(filepath.Join(dir, "audit.jsonl"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "directory "+dir+" does not exist")
}

type failingSink struct{ err error }

func (f failingSink) Write(context.Context, audit.Record) error { return f.err }

func TestMulti(t *testing.T) {
	var a, b bytes.Buffer
	boom := errors.New("disk full")
	m := audit.Multi(audit.NewWriter(&a), nil, failingSink{boom}, audit.NewWriter(&b))

	err := m.Write(context.Background(), rec("one"))
	require.Error(t, err)
	assert.ErrorIs(t, err, boom)
	for _, buf := range []*bytes.Buffer{&a, &b} {
		got := lines(t, buf.Bytes())
		require.Len(t, got, 1, "a failing sink does not stop the others")
		assert.Equal(t, "inv-42/one", got[0].ID)
	}

	two := errors.New("network down")
	err = audit.Multi(failingSink{boom}, failingSink{two}).Write(context.Background(), rec("x"))
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, err, two, "all failures are joined")

	require.NoError(t, audit.Multi(audit.NewWriter(&a), audit.NewWriter(&b)).Write(context.Background(), rec("two")))
	assert.Len(t, lines(t, a.Bytes()), 2)
	assert.NoError(t, audit.Multi().Write(context.Background(), rec("none")))
}

// The file must be readable line by line by a SIEM forwarder (bufio.Scanner-style tailing).
func TestFileIsLineScannable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	require.NoError(t, err)
	r := rec("multi")
	r.Reason = "a\nb\r\nc\u2028d"
	require.NoError(t, f.Write(context.Background(), r))
	require.NoError(t, f.Close())
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		n++
		var got audit.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &got))
		assert.Equal(t, r.Reason, got.Reason)
	}
	assert.Equal(t, 1, n)
}

func TestOpenRefusesTheProcessSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, closeSink, err := audit.Open(path, "", "s1-token-abc", "llm-key-xyz")
	require.NoError(t, err)
	ok := rec("ok")
	require.NoError(t, sink.Write(context.Background(), ok), "an empty secret must not refuse everything")
	leak := rec("leak")
	leak.Reason = "llm-key-xyz"
	require.Error(t, sink.Write(context.Background(), leak))
	closeSink()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"id":"inv-42/ok"`)
	assert.NotContains(t, string(b), "llm-key-xyz")

	_, _, err = audit.Open(filepath.Join(t.TempDir(), "missing", "dir", "audit.jsonl"))
	require.Error(t, err, "a log that cannot be opened is an error, not a silent stdout")
}
