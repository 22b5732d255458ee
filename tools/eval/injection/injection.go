// Package injection is the prompt-injection section of `make eval` (issue 18): the
// detector's recall per kind of injection text, on the corpus it was written with
// and, separately, on the held-out corpus written apart from it and never used to
// tune it; and its false alarms on clean S1 data (the scenario files, the reference
// samples, and clean look-alikes of each kind).
package injection

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/guard/guardtest"
	"github.com/s1copilot/s1copilot/investigation"
)

// Result is one run of the section.
type Result struct {
	// Recall per corpus ("tuned", "held-out") and kind: payloads flagged in the field
	// they hide in, of payloads.
	Recall map[string]map[string][2]int
	// Missed are the held-out payloads not flagged, for the report.
	Missed []guardtest.InjectionPayload
	// Clean: strings scanned per source, and the false alarms.
	Clean  map[string]int
	Alarms []string
}

// Options name the clean sources: directories of scenario JSON files, and of
// reference samples (read when present).
type Options struct {
	ScenarioDirs []string
	SamplesDir   string
}

// Run measures the detector.
func Run(o Options) (Result, error) {
	res := Result{Recall: map[string]map[string][2]int{}, Clean: map[string]int{}}
	tuned, err := guardtest.InjectionCorpus()
	if err != nil {
		return res, err
	}
	held, err := guardtest.HeldOutCorpus()
	if err != nil {
		return res, err
	}
	for _, p := range append(tuned, held...) {
		corpus := "tuned"
		if p.HeldOut {
			corpus = "held-out"
		}
		ev, err := embed(p)
		if err != nil {
			return res, err
		}
		hit := false
		for _, f := range guard.DetectInjection(ev) {
			if strings.HasPrefix(f, p.FlagPrefix()) {
				hit = true
			}
		}
		if res.Recall[corpus] == nil {
			res.Recall[corpus] = map[string][2]int{}
		}
		c := res.Recall[corpus][p.Kind]
		c[1]++
		if hit {
			c[0]++
		} else if p.HeldOut {
			res.Missed = append(res.Missed, p)
		}
		res.Recall[corpus][p.Kind] = c
	}

	scan := func(source string, vals []placed) {
		for _, v := range vals {
			res.Clean[source]++
			for _, ev := range v.evidence() {
				if flags := guard.DetectInjection(ev); len(flags) > 0 {
					res.Alarms = append(res.Alarms, fmt.Sprintf("%s: %q: %s", source, v.value, flags[0]))
					break
				}
			}
		}
	}
	for _, dir := range o.ScenarioDirs {
		vals, err := jsonStrings(dir, "expect")
		if err != nil {
			return res, err
		}
		scan("scenario files ("+dir+")", vals)
	}
	if o.SamplesDir != "" {
		if _, err := os.Stat(o.SamplesDir); err == nil {
			vals, err := jsonStrings(o.SamplesDir, "")
			if err != nil {
				return res, err
			}
			scan("reference samples", vals)
		}
	}
	look, err := guardtest.CleanLookalikes()
	if err != nil {
		return res, err
	}
	var vals []placed
	for _, s := range look {
		vals = append(vals, placed{key: shapeKey(s), value: s})
	}
	scan("clean look-alikes", vals)
	return res, nil
}

// embed hides p in empty evidence, as the guard tests do.
func embed(p guardtest.InjectionPayload) (investigation.Evidence, error) {
	var ev investigation.Evidence
	f := &ev.Facts
	err := p.Embed(guardtest.Target{
		CommandLine: &f.CommandLine, FilePath: &f.FilePath, ThreatName: &f.ThreatName,
		ProcessUser: &f.ProcessUser, OriginatorProcess: &f.OriginatorProcess,
		PublisherName: &f.PublisherName, AgentName: &f.AgentName,
		AddIndicator: func(s string) { f.Indicators = append(f.Indicators, s) },
		AddTimeline: func(s string) {
			ev.Timeline = append(ev.Timeline, investigation.TimelineItem{Description: s})
		},
	})
	return ev, err
}

// shapeKey places a string that came without a key by its shape: a path, a name (no
// spaces, short: a host, a user, a file), or free text.
func shapeKey(s string) string {
	switch {
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\\`) || len(s) > 2 && s[1] == ':' && s[2] == '\\':
		return "filePath"
	case !strings.ContainsAny(s, " \t") && len(s) <= 63:
		return ""
	}
	return "text"
}

// placed is a clean string and the JSON key it was found under ("" when it has none).
type placed struct{ key, value string }

// evidence puts the string where its key says it belongs (a path, a host name, a user,
// a publisher, a threat name), and anything else as a command line, the field that
// takes any text, and a timeline entry. Without a key it goes in every field; "text"
// (free text, a look-alike with spaces) as a command line and a timeline entry.
func (p placed) evidence() []investigation.Evidence {
	f := func(set func(*investigation.ThreatFacts)) investigation.Evidence {
		var ev investigation.Evidence
		set(&ev.Facts)
		return ev
	}
	path := f(func(t *investigation.ThreatFacts) { t.FilePath = p.value })
	host := f(func(t *investigation.ThreatFacts) { t.AgentName = p.value })
	user := f(func(t *investigation.ThreatFacts) { t.ProcessUser = p.value })
	publisher := f(func(t *investigation.ThreatFacts) { t.PublisherName = p.value })
	name := f(func(t *investigation.ThreatFacts) { t.ThreatName = p.value })
	cmd := f(func(t *investigation.ThreatFacts) { t.CommandLine = p.value })
	timeline := investigation.Evidence{Timeline: []investigation.TimelineItem{{Description: p.value}}}
	k := strings.ToLower(p.key)
	switch {
	case k == "":
		return []investigation.Evidence{cmd, timeline, path, host, user, publisher, name}
	case k == "text":
		return []investigation.Evidence{cmd, timeline}
	case strings.Contains(k, "path"):
		return []investigation.Evidence{path}
	case strings.Contains(k, "computername") || strings.Contains(k, "agentname") || strings.Contains(k, "hostname"):
		return []investigation.Evidence{host}
	case strings.Contains(k, "user"):
		return []investigation.Evidence{user}
	case strings.Contains(k, "publisher") || strings.Contains(k, "signer"):
		return []investigation.Evidence{publisher}
	case k == "threatname" || k == "filename":
		return []investigation.Evidence{name}
	}
	return []investigation.Evidence{cmd, timeline}
}

// jsonStrings returns every string value of the JSON files in dir with the key it is
// under, leaving out the values under the key skip (the eval's "expect" prose, for
// humans, not S1 data).
func jsonStrings(dir, skip string) ([]placed, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []placed
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case string:
			out = append(out, placed{key: key, value: x})
		case []any:
			for _, y := range x {
				walk(key, y)
			}
		case map[string]any:
			for k, y := range x {
				if k != skip || skip == "" {
					walk(k, y)
				}
			}
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		walk("", v)
	}
	return out, nil
}

// Report prints the section.
func (r Result) Report(w io.Writer) {
	fmt.Fprintln(w, "\n## Prompt-injection detector (guard.DetectInjection)")
	fmt.Fprintln(w, "\nRecall: payloads flagged in the field they hide in. \"tuned\" is the corpus the detector was written with;")
	fmt.Fprintln(w, "\"held-out\" was written apart from it, by someone who had not read it, and is never used to tune it.")
	fmt.Fprintf(w, "\n| kind | tuned | held-out |\n| --- | --- | --- |\n")
	var total [2][2]int
	for _, k := range guardtest.Kinds {
		t, h := r.Recall["tuned"][k], r.Recall["held-out"][k]
		fmt.Fprintf(w, "| %s | %s | %s |\n", k, frac(t), frac(h))
		for i, c := range [][2]int{t, h} {
			total[i][0] += c[0]
			total[i][1] += c[1]
		}
	}
	fmt.Fprintf(w, "| all | %s | %s |\n", frac(total[0]), frac(total[1]))
	if len(r.Missed) > 0 {
		fmt.Fprintf(w, "\nHeld-out payloads not flagged (%d):\n", len(r.Missed))
		for _, p := range r.Missed {
			fmt.Fprintf(w, "  - %s in %s: %q\n", p.Kind, p.Field, p.Payload)
		}
	}
	sources := slices.Sorted(func(yield func(string) bool) {
		for k := range r.Clean {
			if !yield(k) {
				return
			}
		}
	})
	n := 0
	for _, s := range sources {
		n += r.Clean[s]
	}
	fmt.Fprintf(w, "\nFalse alarms on clean data (each string in the field its key names, else as a command line and a timeline entry; the look-alikes by their shape: paths as paths, one-word names in every field, text as a command line and a timeline entry): %d of %d strings\n", len(r.Alarms), n)
	for _, s := range sources {
		fmt.Fprintf(w, "  - %s: %d strings\n", s, r.Clean[s])
	}
	for _, a := range r.Alarms {
		fmt.Fprintf(w, "    ! %s\n", a)
	}
}

func frac(c [2]int) string {
	if c[1] == 0 {
		return "—"
	}
	return fmt.Sprintf("%d/%d (%.0f%%)", c[0], c[1], 100*float64(c[0])/float64(c[1]))
}
