package hunt

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/hunt/s1ql"
)

// LibraryTranslator is Translation.Translator for the library.
const LibraryTranslator = "library"

// ErrNoMatch is wrapped by Library.Translate when no named hunt matches a question.
var ErrNoMatch = errors.New("no named hunt matches the question")

// Library translates a question into one of the named hunts, matched by keyword, with
// no model: the fallback when no model is configured or the model fails, and the
// source of follow-up hunts.
type Library struct {
	hunts []NamedHunt
	byKey map[string]int
	terms [][][]string // per hunt, per keyword: its stemmed words
}

// NewLibrary returns the library of named hunts.
func NewLibrary() *Library {
	l := &Library{hunts: libraryHunts, byKey: map[string]int{}}
	for i, h := range l.hunts {
		l.byKey[h.Name] = i
		kws := append([]string{h.Name, h.Title}, h.Keywords...)
		var terms [][]string
		for _, k := range kws {
			if w := words(k); len(w) > 0 {
				terms = append(terms, w)
			}
		}
		l.terms = append(l.terms, terms)
	}
	return l
}

// Hunts returns the named hunts, in the library's order.
func (l *Library) Hunts() []NamedHunt {
	out := slices.Clone(l.hunts)
	for i := range out {
		out[i].Keywords = slices.Clone(out[i].Keywords)
		out[i].FollowUps = slices.Clone(out[i].FollowUps)
	}
	return out
}

// Hunt returns the named hunt called name.
func (l *Library) Hunt(name string) (NamedHunt, bool) {
	i, ok := l.byKey[name]
	if !ok {
		return NamedHunt{}, false
	}
	return l.Hunts()[i], true
}

// Translate picks the named hunt whose keywords best match the question and the time
// range the question names (else the hunt's lookback), ending at r.Now.
func (l *Library) Translate(_ context.Context, r Request) (Translation, error) {
	if strings.TrimSpace(r.Question) == "" {
		return Translation{}, errors.New("hunt: empty question: ask what to look for, e.g. \"encoded PowerShell in the last 24 hours\"")
	}
	now := r.Now
	if now.IsZero() {
		return Translation{}, errors.New("hunt: request without Now: the time range needs an anchor")
	}
	best, matched := l.match(words(r.Question))
	if best < 0 {
		return Translation{}, fmt.Errorf("hunt: %w %q; ask about one of the named hunts: %s", ErrNoMatch, r.Question, l.names())
	}
	h := l.hunts[best]
	from, to, said, clamped := timeRange(r.Question, now, h.Lookback)
	notice := fmt.Sprintf("No model translated this question: it matched the named hunt %q (%s) on %s.", h.Name, h.Title, quoteList(matched))
	if !said {
		notice += fmt.Sprintf(" The question names no time range: searching the hunt's default, the last %s.", human(h.Lookback))
	}
	if clamped {
		notice += fmt.Sprintf(" The range asked for is longer than %d days: searching the last %d days.", MaxRange/day, MaxRange/day)
	}
	return Translation{
		Query: h.Query, Language: S1QL, From: from, To: to, Explanation: h.Explanation,
		Translator: LibraryTranslator, NamedHunt: h.Name, Notice: notice,
	}, nil
}

func (l *Library) names() string {
	out := make([]string, len(l.hunts))
	for i, h := range l.hunts {
		out[i] = fmt.Sprintf("%s (%s)", h.Name, h.Title)
	}
	return strings.Join(out, ", ")
}

// match scores every hunt: each keyword found in the question (its words in order)
// adds two points per word, so a phrase outweighs a word. The best hunt wins, the
// library's order breaking ties; -1 when nothing matched.
func (l *Library) match(q []string) (int, []string) {
	best, bestScore := -1, 0
	var bestMatched []string
	for i, terms := range l.terms {
		score := 0
		var matched []string
		for _, t := range terms {
			if containsSeq(q, t) {
				score += 2 * len(t)
				matched = append(matched, strings.Join(t, " "))
			}
		}
		if score > bestScore {
			best, bestScore, bestMatched = i, score, matched
		}
	}
	return best, bestMatched
}

func containsSeq(hay, needle []string) bool {
	for i := 0; i+len(needle) <= len(hay); i++ {
		if slices.Equal(hay[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

var wordRE = regexp.MustCompile(`[a-z0-9]+`)

// words lower-cases s, splits it into words and stems each (see stem). "-enc",
// "encoded" and "Encoding" become "enc", "encod" and "encod".
func words(s string) []string {
	ws := wordRE.FindAllString(strings.ToLower(s), -1)
	for i, w := range ws {
		ws[i] = stem(w)
	}
	return ws
}

// stem strips common English endings, enough for "tasks"/"task", "dumping"/"dump",
// "created"/"create", "shells"/"shell" to meet.
func stem(w string) string {
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = strings.TrimSuffix(w, "ing")
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = strings.TrimSuffix(w, "ies") + "y"
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		w = strings.TrimSuffix(w, "ed")
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		w = strings.TrimSuffix(w, "s")
	}
	return strings.TrimSuffix(w, "e") // "create"/"creat(ed)", "encode"/"encod(ed)"
}

var (
	rangeRE = regexp.MustCompile(`(?i)\b(?:last|past|previous|recent)\s+(\d+|a|an|one|two|three|four|five|six|seven|ten|twelve|fourteen|thirty)?\s*(minute|min|hour|hr|h|day|d|week|wk|w|month)s?\b`)
	todayRE = regexp.MustCompile(`(?i)\btoday\b|\bthis morning\b`)
	ydayRE  = regexp.MustCompile(`(?i)\byesterday\b`)
)

var numberWords = map[string]int{"": 1, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "ten": 10, "twelve": 12, "fourteen": 14, "thirty": 30}

var unitDurations = map[string]time.Duration{"minute": time.Minute, "min": time.Minute, "hour": time.Hour, "hr": time.Hour, "h": time.Hour,
	"day": day, "d": day, "week": week, "wk": week, "w": week, "month": 30 * day}

// timeRange reads the range a question names ("last 24 hours", "past 7 days", "last
// week", "today", "yesterday"); said is false when it names none (then lookback). A
// range longer than MaxRange is cut to it (clamped).
func timeRange(q string, now time.Time, lookback time.Duration) (from, to time.Time, said, clamped bool) {
	to = now
	switch {
	case rangeRE.MatchString(q):
		m := rangeRE.FindStringSubmatch(q)
		n, ok := numberWords[strings.ToLower(m[1])]
		if !ok {
			n, _ = strconv.Atoi(m[1])
		}
		d := time.Duration(max(n, 1)) * unitDurations[strings.ToLower(m[2])]
		if d > MaxRange {
			d, clamped = MaxRange, true
		}
		return now.Add(-d), now, true, clamped
	case ydayRE.MatchString(q):
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		return midnight.Add(-day), midnight, true, false
	case todayRE.MatchString(q):
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		if !midnight.Before(now) {
			midnight = now.Add(-time.Minute)
		}
		return midnight, now, true, false
	}
	return now.Add(-lookback), now, false, false
}

func human(d time.Duration) string {
	switch {
	case d%week == 0 && d >= week:
		return plural(int(d/week), "week")
	case d%day == 0 && d >= day:
		return plural(int(d/day), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

// FollowUps proposes three hunts to run after t, over t's time range: a named hunt's
// own follow-ups; for any other query, the named hunts sharing the most fields and
// values with it (fewer than three when fewer share anything).
func (l *Library) FollowUps(t Translation) []Translation {
	var picks []int
	if i, ok := l.byKey[t.NamedHunt]; ok {
		for _, name := range l.hunts[i].FollowUps {
			picks = append(picks, l.byKey[name])
		}
	} else {
		picks = l.related(t)
	}
	out := make([]Translation, 0, len(picks))
	for _, i := range picks {
		h := l.hunts[i]
		out = append(out, Translation{
			Query: h.Query, Language: S1QL, From: t.From, To: t.To, Explanation: h.Explanation,
			Translator: LibraryTranslator, NamedHunt: h.Name,
			Notice: fmt.Sprintf("Follow-up hunt %q (%s) from the library, over the same time range.", h.Name, h.Title),
		})
	}
	return out
}

// related ranks hunts by what their queries share with t's: each shared value word
// (e.g. "powershell", "lsass", "run") counts two, each shared field one. A query that
// does not parse contributes its words only.
func (l *Library) related(t Translation) []int {
	fieldsOf, valuesOf := queryTerms(t.Query)
	type scored struct{ i, score int }
	var ranked []scored
	for i, h := range l.hunts {
		if h.Query == t.Query {
			continue
		}
		hf, hv := queryTerms(h.Query)
		score := 0
		for f := range fieldsOf {
			if hf[f] {
				score++
			}
		}
		for v := range valuesOf {
			if hv[v] {
				score += 2
			}
		}
		if score > 0 {
			ranked = append(ranked, scored{i, score})
		}
	}
	slices.SortStableFunc(ranked, func(a, b scored) int { return b.score - a.score })
	var out []int
	for _, r := range ranked[:min(3, len(ranked))] {
		out = append(out, r.i)
	}
	return out
}

// queryTerms returns a query's fields and the stemmed words of its values; for a
// query that does not parse, no fields and all its words.
func queryTerms(q string) (fields, values map[string]bool) {
	fields, values = map[string]bool{}, map[string]bool{}
	parsed, err := s1ql.Parse(q)
	if err != nil {
		for _, w := range words(q) {
			values[w] = true
		}
		return fields, values
	}
	for _, c := range parsed.Conditions() {
		if c.Field == "EventType" { // shared by most hunts: says little about the subject
			continue
		}
		fields[c.Field] = true
		for _, v := range c.Values {
			for _, w := range words(v) {
				if len(w) > 2 && w != "ex" && w != "exe" { // ".exe" is in every process name
					values[w] = true
				}
			}
		}
	}
	return fields, values
}
