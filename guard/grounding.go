package guard

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/s1copilot/s1copilot/investigation"
)

// minQuoteRunes is the shortest quote accepted as a citation: shorter strings
// ("exe", "a") occur everywhere and prove nothing.
const minQuoteRunes = 4

// Grounding is what an answer may cite about one threat: the S1 data exactly as
// it was sent between the fences, and the techniques SentinelOne reported.
type Grounding struct {
	fields     map[string]bool // normalised names of the fact fields shown in the data
	texts      []string        // normalised lines of the data, and each quoted value unquoted
	techniques []string        // technique IDs from ThreatFacts.Techniques
	// sources holds the normalised values of the data by where they stand: a fact
	// field's name, or a context section's header ("context:timeline").
	sources map[string][]string
	// s1 is the verdict SentinelOne's rating stands for ("" when it rates neither way).
	s1 investigation.Verdict
}

// factLineRE matches one fact line of the fenced data ("  command_line: ..."),
// not section headers ("threat:") nor list items ("    - ...").
var factLineRE = regexp.MustCompile(`^  ([a-z0-9_]+):`)

// quotedRE matches the strconv.Quote'd values in the fenced data.
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// fieldAliases maps the normalised JSON names of ThreatFacts to the labels of
// the fenced data where the two differ beyond case and underscores.
var fieldAliases = map[string]string{
	"confidencelevel":      "s1confidencelevel",
	"fileverificationtype": "fileverification",
	"publishername":        "publisher",
	"activethreats":        "activethreatsonagent",
}

// NewGrounding reads what an analysis of ev may cite from data, the text the
// analyzer was shown between the data fences: fact lines ("  command_line: ...",
// values quoted as strconv.Quote has them) and any other lines of it.
func NewGrounding(ev investigation.Evidence, data string) *Grounding {
	g := &Grounding{fields: map[string]bool{}, techniques: investigation.TechniqueIDs(ev.Facts.Techniques),
		sources: map[string][]string{}, s1: investigation.S1Reading(ev.Facts.ConfidenceLevel)}
	source := "" // the fact field or context section the line belongs to
	section := ""
	for _, line := range strings.Split(data, "\n") {
		switch {
		case line != "" && line[0] != ' ' && strings.HasSuffix(line, ":"):
			section = strings.TrimSuffix(line, ":")
			if i := strings.IndexAny(section, " ("); i >= 0 {
				section = section[:i]
			}
			source = "context:" + section
			if section == "threat" || section == "agent" || section == "workload" {
				source = ""
			}
			continue
		}
		// The values a source holds: a fact line's value, not its field name (naming a
		// field is not quoting it); a list item or a context line whole.
		var values []string
		if m := factLineRE.FindStringSubmatch(line); m != nil {
			g.fields[normField(m[1])] = true
			source = normField(m[1]) // a list field's items follow it
			if v := normText(strings.TrimPrefix(strings.TrimSpace(line), m[1]+":")); !strings.HasPrefix(v, `"`) {
				values = append(values, v)
			}
		} else {
			values = append(values, normText(strings.TrimPrefix(strings.TrimSpace(line), "- ")))
		}
		if t := normText(line); t != "" {
			g.texts = append(g.texts, t)
		}
		// The data shows values quoted (a command line's own quotes escaped); a
		// model quoting the value as it reads it must match too.
		for _, q := range quotedRE.FindAllString(line, -1) {
			if u, err := strconv.Unquote(q); err == nil && u != "" {
				g.texts = append(g.texts, normText(u))
				values = append(values, normText(u))
			}
		}
		if source != "" {
			g.sources[source] = append(g.sources[source], values...)
		}
	}
	return g
}

// normField folds "commandLine", "command_line" and "CommandLine" together.
func normField(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		}
		return -1
	}, s)
	if alias, ok := fieldAliases[s]; ok {
		return alias
	}
	return s
}

// normText lower-cases s and collapses its white space.
func normText(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

// isField reports whether s names a fact field shown in the data, allowing a
// "facts." (or "threat.", "agent.") prefix.
func (g *Grounding) isField(s string) bool {
	s = strings.TrimSpace(s)
	for _, p := range []string{"facts.", "threat.", "agent."} {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
			break
		}
	}
	// A field name is one identifier: "command line" is a (short) quote, not a field.
	if s == "" || strings.IndexFunc(s, func(r rune) bool {
		return r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) >= 0 {
		return false
	}
	return g.fields[normField(s)]
}

// isQuote reports whether s, ignoring case, surrounding quotes and runs of white
// space, is a substring of the data of at least minQuoteRunes characters.
func (g *Grounding) isQuote(s string) bool {
	q := normText(strings.Trim(strings.TrimSpace(s), "\"'`“”‘’"))
	if utf8.RuneCountInString(q) < minQuoteRunes {
		return false
	}
	for _, t := range g.texts {
		if strings.Contains(t, q) {
			return true
		}
	}
	return false
}

// Cites reports whether an evidence string is grounded: a field name shown in
// the data, an exact quote from the data, or "field: quote".
func (g *Grounding) Cites(evidence string) bool {
	if g.isField(evidence) || g.isQuote(evidence) {
		return true
	}
	if name, rest, ok := strings.Cut(evidence, ":"); ok && g.isField(name) {
		return g.isQuote(rest)
	}
	return false
}

// supports reports whether the technique t is among ids, a sub-technique
// counting for its parent and the parent for its sub-techniques.
func supports(ids []string, t string) bool {
	for _, id := range ids {
		if id == t || strings.HasPrefix(id, t+".") || strings.HasPrefix(t, id+".") {
			return true
		}
	}
	return false
}

// Problems lists every citation in a that the data does not support (see
// CheckGrounding).
func (g *Grounding) Problems(a investigation.Analysis) []string {
	var problems []string
	supported := append([]string(nil), g.techniques...)
	for i, st := range a.AttackTimeline {
		if !g.Cites(st.Evidence) {
			problems = append(problems, fmt.Sprintf("attack_timeline step %d cites %q, which is neither a field name shown in the data nor an exact quote (at least %d characters) from it",
				i+1, Truncate(Clean(st.Evidence), 120), minQuoteRunes))
			continue
		}
		if investigation.ValidTechniqueID(st.Technique) {
			supported = append(supported, st.Technique)
		}
	}
	for _, t := range a.MITRETechniques {
		if investigation.ValidTechniqueID(t) && !supports(supported, t) {
			problems = append(problems, fmt.Sprintf("MITRE technique %s is not supported: it is not among the data's techniques and no attack_timeline step with grounded evidence names it", t))
		}
	}
	return problems
}

// What a citation must quote for a verdict that departs from SentinelOne's rating.
// Naming a field proves nothing (every threat has a publisher field); the quote must
// come from a value of the right kind.
var (
	// benignSources are evidence of benignity: who signed the file, whether the
	// signature verified, what the host is (its tags and group: "role=backup-server").
	benignSources = []string{"publisher", "fileverification", "tags", "groupname"}
	// behaviourSources are evidence of malicious behaviour: what ran and what it did.
	behaviourSources = []string{"commandline", "indicators", "techniques", "context:process_tree", "context:behaviors",
		"context:timeline", "context:network", "context:files", "context:registry_and_tasks"}
)

// DirectionProblems says what is missing when the verdict of a departs from
// SentinelOne's rating without the evidence to carry it. A lower verdict (a
// downgrade: malicious to false_positive, say) must quote evidence of benignity from
// the data: a publisher, a verified signature, a host tag or group. A higher one (an
// upgrade: suspicious to true_positive) must quote malicious behaviour: the command
// line, an indicator, a technique, a line of the process tree, timeline, network,
// files or registry. Field names alone never count. Only a model's answer is held to
// this (the rules engine reasons on the fields themselves).
func (g *Grounding) DirectionProblems(a investigation.Analysis) []string {
	if g.s1 == "" || a.Verdict == g.s1 {
		return nil
	}
	downgrade := a.Verdict.Rank() < g.s1.Rank()
	sources, kind := behaviourSources, "malicious behaviour (the command line, an indicator, a technique, a line of the process tree, timeline, network, files or registry)"
	if downgrade {
		sources, kind = benignSources, "evidence of benignity (the publisher, a verified signature, a host tag or the group)"
	}
	for _, st := range a.AttackTimeline {
		if g.quotes(st.Evidence, sources) {
			return nil
		}
	}
	way := "higher"
	if downgrade {
		way = "lower"
	}
	return []string{fmt.Sprintf("the verdict %s is %s than SentinelOne's rating (%s) but no attack_timeline step quotes %s; quote the value itself, not only the field name",
		a.Verdict, way, g.s1, kind)}
}

// quotes reports whether evidence quotes, at least minQuoteRunes long, a value of
// one of the sources ("field: quote" or the quote alone). A verified signature
// counts only when the data says SignedVerified.
func (g *Grounding) quotes(evidence string, sources []string) bool {
	q := evidence
	if name, rest, ok := strings.Cut(evidence, ":"); ok && g.isField(name) {
		q = rest
	}
	q = normText(strings.Trim(strings.TrimSpace(q), "\"'`“”‘’"))
	if utf8.RuneCountInString(q) < minQuoteRunes {
		return false
	}
	for _, src := range sources {
		for _, v := range g.sources[src] {
			if src == "fileverification" && !strings.Contains(v, "signedverified") {
				continue
			}
			if strings.Contains(v, q) {
				return true
			}
		}
	}
	return false
}

// CheckGrounding checks the citations of an analysis of ev against data, the
// text the analyzer was shown between the data fences (the evidence cleaned and
// truncated as llm renders it): every attack-timeline step must cite a fact
// field name shown in the data or an exact quote (case-insensitive, at least 4
// characters) from it, and every MITRE technique must be among
// ev.Facts.Techniques (a sub-technique and its parent support each other) or
// named by a step whose evidence is grounded.
// It returns nil or an error listing every problem. llm.OpenAI applies the same
// check (NewGrounding, Problems) to every answer; an analysis from the rules
// engine always passes.
func CheckGrounding(ev investigation.Evidence, data string, a investigation.Analysis) error {
	problems := NewGrounding(ev, data).Problems(a)
	if len(problems) == 0 {
		return nil
	}
	return errors.New("analysis is not grounded in the evidence: " + strings.Join(problems, "; "))
}
