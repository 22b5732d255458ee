package hunts_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/hunt/s1ql"
	"github.com/s1copilot/s1copilot/tools/eval/hunts"
)

func TestScenarioAndQuestions(t *testing.T) {
	sc, err := hunts.Scenario()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(sc.Events), 150)
	oses := map[string]bool{}
	for _, a := range sc.Agents {
		oses[a.OSType] = true
	}
	assert.True(t, oses["windows"] && oses["linux"] && oses["macos"], "Windows, Linux and macOS agents")

	qs, err := hunts.Questions()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(qs), 25)
	for _, q := range qs {
		_, err := s1ql.Parse(q.Label)
		assert.NoError(t, err, q.ID)
		_, _, err = q.Range()
		assert.NoError(t, err, q.ID)
	}
}

// Every label finds events: a label with an empty answer cannot tell a right
// translation from a wrong one.
func TestEveryLabelFindsEvents(t *testing.T) {
	qs, err := hunts.Questions()
	require.NoError(t, err)
	c, err := hunts.StartConsole()
	require.NoError(t, err)
	defer c.Close()
	sc, err := hunts.Scenario()
	require.NoError(t, err)
	for _, q := range qs {
		from, to, err := q.Range()
		require.NoError(t, err)
		ids, err := c.Run(context.Background(), q.Label, from, to)
		require.NoError(t, err, q.ID)
		assert.NotEmpty(t, ids, q.ID)
		assert.Less(t, len(ids), len(sc.Events)/2, "%s: a label that finds most events says little", q.ID)
	}
}

func TestScore(t *testing.T) {
	set := func(ids ...string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	cases := []struct {
		want, got map[string]bool
		p, r      float64
		exact     bool
	}{
		{set("1", "2"), set("1", "2"), 1, 1, true},
		{set("1", "2"), set("1"), 1, 0.5, false},
		{set("1"), set("1", "2", "3", "4"), 0.25, 1, false},
		{set("1"), set(), 0, 0, false},
		{set("1"), set("2"), 0, 0, false},
		{set(), set(), 1, 1, true},
	}
	for _, c := range cases {
		p, r, exact, _ := hunts.Score(c.want, c.got)
		assert.InDelta(t, c.p, p, 1e-9)
		assert.InDelta(t, c.r, r, 1e-9)
		assert.Equal(t, c.exact, exact)
	}
}

// fixed answers every question with the query it is given for it (the label when
// none), over the label's range.
type fixed struct {
	queries  map[string]string
	language hunt.Language
}

func (f fixed) Translate(_ context.Context, r hunt.Request) (hunt.Translation, error) {
	qs, _ := hunts.Questions()
	for _, q := range qs {
		if q.Question != r.Question {
			continue
		}
		from, to, _ := q.Range()
		query, ok := f.queries[q.ID]
		if !ok {
			query = q.Label
		}
		lang := f.language
		if lang == "" {
			lang = hunt.S1QL
		}
		return hunt.Translation{Query: query, Language: lang, From: from, To: to, Explanation: "fixed", Translator: "fixed"}, nil
	}
	return hunt.Translation{}, errors.New("unknown question")
}

func TestRunScoresThroughTheSimulator(t *testing.T) {
	qs, err := hunts.Questions()
	require.NoError(t, err)
	wrong := fixed{queries: map[string]string{
		"port-4444":         `EventType = "IP Connect"`,            // too wide
		"schtasks":          `EventType = "Task Register"`,         // too narrow
		"certutil-download": `SrcProcName = "no-such-process.exe"`, // finds nothing
		"run-keys":          `RegistryPath ContainsCIS "\CurrentVersion\Run\" AND EventType = "Registry Value Create"`,
		"c2-ip":             `Bogus = "x"`, // does not pass Check
	}}
	rep, err := hunts.Run(context.Background(), qs, []hunts.Named{
		{Name: "oracle", Translator: fixed{}},
		{Name: "wrong", Translator: wrong},
		{Name: "library", Translator: hunt.NewLibrary()},
		{Name: "powerquery", Translator: fixed{language: hunt.PowerQuery}},
	})
	require.NoError(t, err)
	require.Len(t, rep.Results, len(qs))

	oracle := rep.Totals(0)
	assert.Equal(t, len(qs), oracle.Exact, "the labels themselves answer exactly")
	assert.Equal(t, 1.0, oracle.Precision)
	assert.Equal(t, 1.0, oracle.Recall)

	byID := map[string][]hunts.Result{}
	for i, q := range qs {
		byID[q.ID] = rep.Results[i]
	}
	w := func(id string) hunts.Result { return byID[id][1] }
	assert.Less(t, w("port-4444").Precision, 1.0)
	assert.Equal(t, 1.0, w("port-4444").Recall)
	assert.Less(t, w("schtasks").Recall, 1.0)
	assert.Equal(t, 1.0, w("schtasks").Precision)
	assert.Zero(t, w("certutil-download").Recall)
	assert.Zero(t, w("certutil-download").Got)
	assert.False(t, w("run-keys").Exact)
	require.Error(t, w("c2-ip").Err)
	assert.Contains(t, w("c2-ip").Err.Error(), "unknown field")
	wt := rep.Totals(1)
	assert.Equal(t, len(qs)-5, wt.Exact)
	assert.Equal(t, 1, wt.Errors)

	// Power Query is checked but not run: the simulator serves S1QL only.
	pq := rep.Results[0][3]
	require.Error(t, pq.Err)
	assert.Contains(t, pq.Err.Error(), "simulator serves DV S1QL only")

	// The library's scores are what they are; the arithmetic must hold.
	lib := rep.Totals(2)
	var sumP, sumR float64
	for i, row := range rep.Results {
		r := row[2]
		assert.Equal(t, rep.Expected[i], r.Want)
		if r.Err == nil {
			assert.Equal(t, "library", r.Translation.Translator)
			assert.NotEmpty(t, r.Translation.NamedHunt)
			if r.Got > 0 {
				assert.InDelta(t, float64(r.Hit)/float64(r.Got), r.Precision, 1e-9)
			}
			assert.InDelta(t, float64(r.Hit)/float64(r.Want), r.Recall, 1e-9)
			assert.Equal(t, r.Hit == r.Want && r.Hit == r.Got, r.Exact)
		} else {
			assert.ErrorIs(t, r.Err, hunt.ErrNoMatch)
		}
		sumP += r.Precision
		sumR += r.Recall
	}
	assert.InDelta(t, sumP/float64(len(qs)), lib.Precision, 1e-9)
	assert.InDelta(t, sumR/float64(len(qs)), lib.Recall, 1e-9)
	assert.Positive(t, lib.Exact, "the library answers some questions exactly")
	assert.Less(t, lib.Exact, len(qs), "and not all: some questions need a model")

	var out bytes.Buffer
	require.NoError(t, hunts.Print(&out, rep, []string{"a note"}))
	s := out.String()
	assert.Contains(t, s, "HUNTING (")
	assert.Contains(t, s, "note: a note")
	assert.Contains(t, s, "HUNTING TOTALS")
	for _, name := range []string{"oracle", "wrong", "library"} {
		assert.Contains(t, s, "\n  "+name+" ")
	}
	// One table row per question and translator.
	rows := 0
	for _, line := range strings.Split(s, "\n") {
		for _, q := range qs {
			if strings.HasPrefix(line, "  "+q.ID+" ") && (strings.Contains(line, " yes") || strings.Contains(line, " no")) {
				rows++
			}
		}
	}
	assert.Equal(t, 4*len(qs), rows)
	assert.False(t, math.IsNaN(lib.Precision))
}
