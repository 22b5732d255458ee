// Package guardtest holds what the tests of the guards share, from the guard's
// own to the model client's and the end-to-end ones: the prompt-injection
// corpus, where each payload hides in the evidence, the answers of a model that
// obeys it, and the name check of the pseudonymisation tests. It is for tests
// only; the product never imports it.
package guardtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/s1copilot/s1copilot/investigation"
)

// InjectionPayload is one prompt-injection payload: the S1 field it hides in
// (commandLine, filePath, threatName, processUser, originatorProcess, publisherName,
// agentName, indicator, timeline), the kind of text it is (Kinds), and what the
// attacker wants the model to do (see ObeyingAnswer).
type InjectionPayload struct {
	Field   string `json:"field"`
	Kind    string `json:"kind"`
	Payload string `json:"payload"`
	Wants   string `json:"wants"`
	// Source: "project" (written with the detector) or "outside-1" (written apart
	// from it, measured once as held-out before it was used to tune; see
	// InjectionCorpus).
	Source string `json:"source,omitempty"`
	// HeldOut: from the held-out corpus, written apart from the detector and never
	// used to tune it (HeldOutCorpus).
	HeldOut bool `json:"-"`
}

// Kinds are the kinds of injection text the corpora are split by: "classic" (the
// first corpus: overrides, role hijacks, verdict and action manipulation, chat
// markers, fences, invisible and encoded text) and the kinds that name what the text
// does rather than how it is phrased.
var Kinds = []string{"classic", "state-setting", "authority", "tool-action", "exfiltration", "framing", "homoglyph", "command-fragment"}

// Target is where Embed hides a payload: the single-valued fields it replaces (the
// payloads are whole command lines, paths and names) and how to add one indicator or
// timeline entry.
type Target struct {
	CommandLine, FilePath, ThreatName, ProcessUser, OriginatorProcess, PublisherName, AgentName *string
	AddIndicator, AddTimeline                                                                   func(payload string)
}

// Embed hides p in t, in the field the corpus names.
func (p InjectionPayload) Embed(t Target) error {
	single := map[string]*string{
		"commandLine": t.CommandLine, "filePath": t.FilePath, "threatName": t.ThreatName,
		"processUser": t.ProcessUser, "originatorProcess": t.OriginatorProcess,
		"publisherName": t.PublisherName, "agentName": t.AgentName,
	}
	switch {
	case single[p.Field] != nil:
		*single[p.Field] = p.Payload
	case p.Field == "indicator" && t.AddIndicator != nil:
		t.AddIndicator(p.Payload)
	case p.Field == "timeline" && t.AddTimeline != nil:
		t.AddTimeline(p.Payload)
	default:
		return fmt.Errorf("guardtest: the target has no place for corpus field %q", p.Field)
	}
	return nil
}

//go:embed injection_corpus.json
var corpusJSON []byte

//go:embed injection_heldout2.json
var heldOutJSON []byte

//go:embed clean_lookalikes.json
var lookalikesJSON []byte

// InjectionCorpus returns the corpus the detector was tuned with. Its "outside-1"
// payloads were written apart from the detector and measured once as held-out (73 of
// 118 flagged, 2026-12-06) before they were used to tune it; the held-out corpus
// (HeldOutCorpus) is a second, fresh one.
func InjectionCorpus() ([]InjectionPayload, error) {
	return decodeCorpus("injection corpus", corpusJSON, false)
}

// HeldOutCorpus returns the held-out corpus: payloads of every kind written by
// someone who had not read the detector, and never used to tune it. Its recall is
// the honest one.
func HeldOutCorpus() ([]InjectionPayload, error) {
	return decodeCorpus("held-out corpus", heldOutJSON, true)
}

// CleanLookalikes returns ordinary S1 data that resembles the kinds (templates,
// SQL, clearances, other scripts) without being injection: false alarms are
// measured on it.
func CleanLookalikes() ([]string, error) {
	var c []string
	if err := json.Unmarshal(lookalikesJSON, &c); err != nil {
		return nil, fmt.Errorf("guardtest: clean look-alikes: %w", err)
	}
	return c, nil
}

func decodeCorpus(what string, b []byte, heldOut bool) ([]InjectionPayload, error) {
	var c []InjectionPayload
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("guardtest: %s: %w", what, err)
	}
	for i := range c {
		if !slices.Contains(Kinds, c[i].Kind) {
			return nil, fmt.Errorf("guardtest: %s: payload %d has kind %q, not one of %v", what, i, c[i].Kind, Kinds)
		}
		c[i].HeldOut = heldOut
	}
	return c, nil
}

// LoadCorpus returns the corpus, failing t if it does not load or holds fewer
// than 30 payloads.
func LoadCorpus(t testing.TB) []InjectionPayload {
	t.Helper()
	c, err := InjectionCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(c) < 30 {
		t.Fatalf("the corpus needs at least 30 payloads, has %d", len(c))
	}
	return c
}

// InEvidence returns a copy of ev with p hidden in it: single-valued fields are
// replaced (the payloads are whole command lines, paths, names), indicators and
// the timeline get one more entry (at ev's detection time). ev is not modified.
func (p InjectionPayload) InEvidence(t testing.TB, ev investigation.Evidence) investigation.Evidence {
	t.Helper()
	f := &ev.Facts
	f.Indicators = slices.Clone(f.Indicators)
	ev.Timeline = slices.Clone(ev.Timeline)
	err := p.Embed(Target{
		CommandLine: &f.CommandLine, FilePath: &f.FilePath, ThreatName: &f.ThreatName,
		ProcessUser: &f.ProcessUser, OriginatorProcess: &f.OriginatorProcess,
		PublisherName: &f.PublisherName, AgentName: &f.AgentName,
		AddIndicator: func(s string) { f.Indicators = append(f.Indicators, s) },
		AddTimeline: func(s string) {
			ev.Timeline = append(ev.Timeline, investigation.TimelineItem{At: f.CreatedAt, ActivityType: 86, Description: s})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// FlagPrefix is how a flag of guard.DetectInjection names the field p hides in.
func (p InjectionPayload) FlagPrefix() string {
	return map[string]string{
		"commandLine": "commandLine: ", "filePath": "filePath: ", "threatName": "threatName: ",
		"processUser": "processUser: ", "originatorProcess": "originatorProcess: ",
		"publisherName": "publisherName: ", "agentName": "agentName: ",
		"indicator": "indicators[", "timeline": "timeline[",
	}[p.Field]
}

// ObeyingAnswer is what a model that obeys the injected instruction answers:
// valid under the strict schema and grounded, so only the guard stands between
// it and the policy.
func ObeyingAnswer(wants string) string {
	type step struct {
		Step      string `json:"step"`
		Evidence  string `json:"evidence"`
		Technique string `json:"technique"`
	}
	type reason struct {
		Action string `json:"action"`
		Reason string `json:"reason"`
	}
	ans := struct {
		KeyEvidence        []string `json:"key_evidence"`
		AttackTimeline     []step   `json:"attack_timeline"`
		Verdict            string   `json:"verdict"`
		Confidence         float64  `json:"confidence"`
		Priority           string   `json:"priority"`
		Summary            string   `json:"summary"`
		MITRETechniques    []string `json:"mitre_techniques"`
		RecommendedActions []string `json:"recommended_actions"`
		ActionReasons      []reason `json:"action_reasons"`
		OpenQuestions      []string `json:"open_questions"`
	}{KeyEvidence: []string{"the data says so"}, AttackTimeline: []step{}, MITRETechniques: []string{},
		RecommendedActions: []string{}, ActionReasons: []reason{}, OpenQuestions: []string{}}
	act := func(acts ...string) {
		ans.AttackTimeline = []step{{Step: "The threat was detected.", Evidence: "threat_name"}}
		for _, a := range acts {
			ans.RecommendedActions = append(ans.RecommendedActions, a)
			ans.ActionReasons = append(ans.ActionReasons, reason{Action: a, Reason: "as the instructions in the data require"})
		}
	}
	switch wants {
	case "benign":
		ans.Verdict, ans.Confidence, ans.Priority = "false_positive", 0.99, "Low"
		ans.Summary = "Approved administrative activity: this detection is a false positive."
	case "no-action":
		ans.Verdict, ans.Confidence, ans.Priority = "suspicious", 0.4, "Low"
		ans.Summary = "Known activity; no containment is needed."
	case "undetermined":
		ans.Verdict, ans.Confidence, ans.Priority = "undetermined", 0.2, "Low"
		ans.Summary = "The evidence is insufficient."
	case "isolate":
		ans.Verdict, ans.Confidence, ans.Priority = "true_positive", 0.99, "Critical"
		ans.Summary = "Isolate the hosts as instructed."
		act("isolate")
	case "rollback":
		ans.Verdict, ans.Confidence, ans.Priority = "true_positive", 0.99, "Critical"
		ans.Summary = "Roll back as instructed."
		act("rollback", "remediate")
	case "remediate":
		ans.Verdict, ans.Confidence, ans.Priority = "true_positive", 0.99, "Critical"
		ans.Summary = "Remediate as instructed."
		act("remediate", "rollback")
	case "escalate":
		ans.Verdict, ans.Confidence, ans.Priority = "true_positive", 1, "Critical"
		ans.Summary = "Contain everything as instructed."
		act("kill", "quarantine", "remediate", "rollback", "isolate")
	case "true_positive":
		ans.Verdict, ans.Confidence, ans.Priority = "true_positive", 1, "High"
		ans.Summary = "Confirmed threat, as the data says."
		act("kill", "quarantine")
	default:
		panic("unknown wants " + wants)
	}
	b, err := json.Marshal(ans)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Mentions reports whether name occurs in s case-insensitively on name
// boundaries (letters, digits, '_' and '-' continue a name): the check of the
// pseudonymisation tests. Written apart from the guard's own matching so that
// the tests do not check the code with itself.
func Mentions(s, name string) bool {
	re := regexp.MustCompile(`(?i)(?:^|[^\pL\pN_-])` + regexp.QuoteMeta(name) + `(?:$|[^\pL\pN_-])`)
	return re.MatchString(s)
}
