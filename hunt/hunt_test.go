package hunt_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/hunt"
)

var now = time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)

func valid() hunt.Translation {
	return hunt.Translation{
		Query: `EventType = "Process Creation" AND SrcProcName ContainsCIS "powershell"`, Language: hunt.S1QL,
		From: now.Add(-24 * time.Hour), To: now, Explanation: "PowerShell processes",
	}
}

func TestCheck(t *testing.T) {
	require.NoError(t, valid().Check(now))
	pq := valid()
	pq.Language, pq.Query = hunt.PowerQuery, `event.type = "Process Creation" | group count() by src.process.name`
	require.NoError(t, pq.Check(now))

	cases := []struct {
		name string
		edit func(*hunt.Translation)
		want []string
	}{
		{"bad s1ql", func(t *hunt.Translation) { t.Query = `SrcProcNam = "x"` }, []string{"query:", "did you mean SrcProcName?"}},
		{"pipe in s1ql", func(t *hunt.Translation) { t.Query = `SrcProcName = "x" | limit 10` }, []string{"Power Query syntax?", `language "powerquery"`}},
		{"empty pq", func(t *hunt.Translation) { t.Language, t.Query = hunt.PowerQuery, " " }, []string{"empty Power Query"}},
		{"unbalanced pq", func(t *hunt.Translation) { t.Language, t.Query = hunt.PowerQuery, `x = "a" | filter (a` }, []string{"never closed"}},
		{"unterminated pq", func(t *hunt.Translation) { t.Language, t.Query = hunt.PowerQuery, `x = "a` }, []string{"unterminated"}},
		{"language", func(t *hunt.Translation) { t.Language = "sql" }, []string{`language: "sql" is not "s1ql" or "powerquery"`}},
		{"no range", func(t *hunt.Translation) { t.From = time.Time{} }, []string{"both are required"}},
		{"reversed", func(t *hunt.Translation) { t.From, t.To = t.To, t.From }, []string{"is not before", "swap them"}},
		{"future", func(t *hunt.Translation) { t.To = now.Add(6 * time.Minute) }, []string{"in the future", "end the range at now"}},
		{"too long", func(t *hunt.Translation) { t.From = now.Add(-31 * 24 * time.Hour) }, []string{"longer than 30 days", "narrow it"}},
		{"no explanation", func(t *hunt.Translation) { t.Explanation = " " }, []string{"explanation: required"}},
	}
	for _, c := range cases {
		tr := valid()
		c.edit(&tr)
		err := tr.Check(now)
		require.Error(t, err, c.name)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, c.name)
		}
	}
	// Within the clock skew and exactly 30 days are fine.
	tr := valid()
	tr.To, tr.From = now.Add(4*time.Minute), now.Add(4*time.Minute).Add(-hunt.MaxRange)
	assert.NoError(t, tr.Check(now))
	// Several problems are reported together.
	tr = valid()
	tr.Explanation, tr.Query = "", `Bogus = "x"`
	err := tr.Check(now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown field")
	assert.Contains(t, err.Error(), "explanation")
}

func TestLibraryHuntsAreValid(t *testing.T) {
	lib := hunt.NewLibrary()
	hs := lib.Hunts()
	require.GreaterOrEqual(t, len(hs), 12)
	names := map[string]bool{}
	for _, h := range hs {
		assert.False(t, names[h.Name], "duplicate %s", h.Name)
		names[h.Name] = true
	}
	for _, h := range hs {
		tr := hunt.Translation{Query: h.Query, Language: hunt.S1QL, From: now.Add(-h.Lookback), To: now, Explanation: h.Explanation}
		assert.NoError(t, tr.Check(now), h.Name)
		assert.NotEmpty(t, h.Title, h.Name)
		assert.NotEmpty(t, h.Keywords, h.Name)
		if assert.Len(t, h.FollowUps, 3, h.Name) {
			for _, f := range h.FollowUps {
				assert.True(t, names[f], "%s: follow-up %q is not a hunt", h.Name, f)
				assert.NotEqual(t, h.Name, f)
			}
		}
	}
}

func TestLibraryTranslate(t *testing.T) {
	lib := hunt.NewLibrary()
	cases := []struct {
		q, hunt string
		rng     time.Duration // 0: the hunt's lookback
	}{
		{"endpoints with suspicious PowerShell in the last 24 hours", "suspicious-powershell", 24 * time.Hour},
		{"Any base64-encoded commands?", "encoded-powershell", 0},
		{"who touched LSASS memory over the past 3 days", "lsass-access", 3 * 24 * time.Hour},
		{"Was mimikatz run anywhere last week?", "credential-dumping-tools", 7 * 24 * time.Hour},
		{"new services installed", "new-services", 0},
		{"persistence through scheduled tasks", "scheduled-tasks", 0},
		{"Word or Excel spawning a command prompt", "office-spawning-shells", 0},
		{"certutil downloads", "lolbins", 0},
		{"Run keys written in the registry", "run-key-persistence", 0},
		{"outbound connections on unusual ports in the last 2 hours", "rare-port-connections", 2 * time.Hour},
		{"lookups of weird TLDs", "suspicious-tld-dns", 0},
		{"reverse shells on linux servers", "linux-reverse-shell", 0},
		{"curl piped into bash", "curl-pipe-shell", 0},
		{"did anything delete shadow copies", "shadow-copy-deletion", 0},
		{"WMI remote execution", "wmi-execution", 0},
	}
	for _, c := range cases {
		tr, err := lib.Translate(context.Background(), hunt.Request{Question: c.q, Now: now})
		require.NoError(t, err, c.q)
		assert.Equal(t, c.hunt, tr.NamedHunt, c.q)
		assert.Equal(t, hunt.LibraryTranslator, tr.Translator)
		assert.Equal(t, hunt.S1QL, tr.Language)
		assert.Equal(t, now, tr.To)
		h, ok := lib.Hunt(tr.NamedHunt)
		require.True(t, ok)
		want := c.rng
		if want == 0 {
			want = h.Lookback
			assert.Contains(t, tr.Notice, "names no time range", c.q)
		}
		assert.Equal(t, want, tr.To.Sub(tr.From), c.q)
		assert.Contains(t, tr.Notice, "No model translated this question")
		assert.Contains(t, tr.Notice, tr.NamedHunt)
		assert.NoError(t, tr.Check(now), c.q)
	}
}

func TestLibraryTimeRanges(t *testing.T) {
	lib := hunt.NewLibrary()
	midnight := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		q        string
		from, to time.Time
		notice   string
	}{
		{"powershell today", midnight, now, ""},
		{"powershell yesterday", midnight.Add(-24 * time.Hour), midnight, ""},
		{"powershell in the past hour", now.Add(-time.Hour), now, ""},
		{"powershell in the last 30 minutes", now.Add(-30 * time.Minute), now, ""},
		{"powershell over the last two weeks", now.Add(-14 * 24 * time.Hour), now, ""},
		{"powershell last 24h", now.Add(-24 * time.Hour), now, ""},
		{"powershell in the last 90 days", now.Add(-hunt.MaxRange), now, "longer than 30 days"},
	}
	for _, c := range cases {
		tr, err := lib.Translate(context.Background(), hunt.Request{Question: c.q, Now: now})
		require.NoError(t, err, c.q)
		assert.Equal(t, c.from, tr.From, c.q)
		assert.Equal(t, c.to, tr.To, c.q)
		assert.Contains(t, tr.Notice, c.notice)
		assert.NoError(t, tr.Check(now))
	}
}

func TestLibraryNoMatch(t *testing.T) {
	lib := hunt.NewLibrary()
	_, err := lib.Translate(context.Background(), hunt.Request{Question: "what is the weather like", Now: now})
	require.Error(t, err)
	assert.True(t, errors.Is(err, hunt.ErrNoMatch))
	for _, h := range lib.Hunts() {
		assert.Contains(t, err.Error(), h.Name)
	}
	_, err = lib.Translate(context.Background(), hunt.Request{Question: " ", Now: now})
	assert.ErrorContains(t, err, "empty question")
	_, err = lib.Translate(context.Background(), hunt.Request{Question: "powershell"})
	assert.ErrorContains(t, err, "Now")
}

func TestFollowUps(t *testing.T) {
	lib := hunt.NewLibrary()
	tr, err := lib.Translate(context.Background(), hunt.Request{Question: "lsass access last 3 days", Now: now})
	require.NoError(t, err)
	fus := lib.FollowUps(tr)
	h, _ := lib.Hunt("lsass-access")
	require.Len(t, fus, 3)
	for i, f := range fus {
		assert.Equal(t, h.FollowUps[i], f.NamedHunt)
		assert.Equal(t, tr.From, f.From)
		assert.Equal(t, tr.To, f.To)
		assert.NoError(t, f.Check(now))
		assert.Contains(t, f.Notice, "Follow-up")
	}

	// An arbitrary (model-written) query: hunts sharing its fields and values.
	model := hunt.Translation{Query: `EventType = "Process Creation" AND SrcProcName = "vssadmin.exe"`, Language: hunt.S1QL,
		From: now.Add(-time.Hour), To: now, Explanation: "vssadmin", Translator: "openai:test"}
	fus = lib.FollowUps(model)
	require.NotEmpty(t, fus)
	assert.LessOrEqual(t, len(fus), 3)
	assert.Equal(t, "shadow-copy-deletion", fus[0].NamedHunt)
	model.Query = `EventType = "DNS Resolved" AND DnsRequest ContainsCIS ".top"`
	fus = lib.FollowUps(model)
	require.NotEmpty(t, fus)
	assert.Equal(t, "suspicious-tld-dns", fus[0].NamedHunt)
	model.Query = `TgtProcName = "lsass.exe"`
	fus = lib.FollowUps(model)
	require.NotEmpty(t, fus)
	assert.Equal(t, "lsass-access", fus[0].NamedHunt)
	// Nothing in common: no follow-ups rather than random ones.
	model.Query = `AgentName = "x"`
	assert.Empty(t, lib.FollowUps(model))
	for _, f := range lib.FollowUps(hunt.Translation{Query: "not s1ql at all: powershell", NamedHunt: "", From: now.Add(-time.Hour), To: now}) {
		assert.True(t, strings.Contains(f.Query, "powershell"), f.NamedHunt)
	}
}
