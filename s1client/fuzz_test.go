package s1client

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeeds adds testdata/threats_page.json and every reference sample (when present) to f.
func fuzzSeeds(f *testing.F) {
	f.Helper()
	if raw, err := readTestdata("threats_page.json"); err == nil {
		f.Add(raw)
	} else {
		f.Fatal(err)
	}
	dir := filepath.Join("..", "..", "shared", "reference", "s1-samples")
	entries, _ := os.ReadDir(dir) // absent samples: the other seeds still run
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			if raw, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				f.Add(raw)
			}
		}
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"data":null}`, `{"data":[null]}`, `{"data":[{}],"pagination":null}`,
		`{"data":[{"id":1e400}]}`, `{"data":[{"threatInfo":{"createdAt":1e300}}]}`,
		`{"data":[{"threatInfo":{"fileSize":"9223372036854775808"}}]}`,
		`{"data":[{"threatInfo":{"fileSize":9.3e18}}]}`,
		`{"data":[],"pagination":{"nextCursor":123,"totalItems":"7"}}`,
		`{"data":[{"mitigationStatus":[{"actionsCounters":{"total":"N/A"}}]}]}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeThreatsPage feeds arbitrary bytes to the GET /threats decoder: it may fail, but
// never panic, and what it accepts must be self-consistent.
func FuzzDecodeThreatsPage(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		page, err := decodePage[Threat](raw)
		if err != nil {
			return
		}
		for _, th := range page.Items {
			_, _ = th.MitigationEntry("kill")
			for _, e := range th.MitigationStatus {
				_ = e.Done()
			}
		}
		// Whatever decoded must encode again (no NaN, no impossible times).
		if _, err := json.Marshal(page.Items); err != nil && !strings.Contains(err.Error(), "year outside of range") {
			t.Fatalf("decoded page does not re-encode: %v", err)
		}
	})
}

// FuzzFlexTypes calls every tolerant decoder directly (not through json.Unmarshal, so the
// input need not even be valid JSON) and checks a few invariants on what they accept.
func FuzzFlexTypes(f *testing.F) {
	for _, s := range []string{
		`"715718962991148224"`, `111111111111111111`, `null`, `""`, `"None"`, `"N/A"`, `true`, `"True"`, `"False"`,
		`42`, `"42"`, `42.0`, `-3`, `1.5`, `9223372036854775807`, `9223372036854775808`, `-9.3e18`, `1e400`, `NaN`,
		`"2019-09-15T12:05:49.095889Z"`, `"2022-07-31T08:11:01+00:00"`, `"2019-06-27T08:01:05.571895"`,
		`1724151854609`, `253402300800000`, `"0000-01-01T00:00:00+01:00"`, `{}`, `[1]`, `"\u00`, ` `, `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s FlexString
		if err := s.UnmarshalJSON(b); err == nil && json.Valid(b) {
			var want string
			if json.Unmarshal(b, &want) == nil && string(s) != want {
				t.Fatalf("FlexString(%q) = %q, want %q", b, s, want)
			}
		}
		var n FlexInt
		if err := n.UnmarshalJSON(b); err == nil {
			if v, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); perr == nil && int64(n) != v {
				t.Fatalf("FlexInt(%q) = %d, want %d", b, n, v)
			}
		}
		var v FlexBool
		_ = v.UnmarshalJSON(b)
		var tm Time
		if err := tm.UnmarshalJSON(b); err == nil && !tm.IsZero() {
			out, merr := tm.MarshalJSON()
			if merr != nil {
				return // a year RFC 3339 cannot write (e.g. a negative offset pushing year 0 to -1)
			}
			var back Time
			if err := back.UnmarshalJSON(out); err != nil || !back.Equal(tm.Time) {
				t.Fatalf("Time %q -> %s -> %v (%v): round trip lost the instant", b, out, back.Time, err)
			}
		}
	})
}
