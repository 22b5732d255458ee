// Package llmtest holds what tests of the model path share: the prompt-injection
// corpus and the answers of a model that obeys injected instructions. It is for
// tests only; the product never imports it.
package llmtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// InjectionPayload is one prompt-injection payload: the S1 field it hides in
// (commandLine, filePath, threatName, processUser, originatorProcess, indicator,
// timeline) and what the attacker wants the model to do (see ObeyingAnswer).
type InjectionPayload struct {
	Field   string `json:"field"`
	Payload string `json:"payload"`
	Wants   string `json:"wants"`
}

// Target is where Embed hides a payload: the single-valued fields it replaces (the
// payloads are whole command lines, paths and names) and how to add one indicator or
// timeline entry.
type Target struct {
	CommandLine, FilePath, ThreatName, ProcessUser, OriginatorProcess *string
	AddIndicator, AddTimeline                                         func(payload string)
}

// Embed hides p in t, in the field the corpus names.
func (p InjectionPayload) Embed(t Target) error {
	single := map[string]*string{
		"commandLine": t.CommandLine, "filePath": t.FilePath, "threatName": t.ThreatName,
		"processUser": t.ProcessUser, "originatorProcess": t.OriginatorProcess,
	}
	switch {
	case single[p.Field] != nil:
		*single[p.Field] = p.Payload
	case p.Field == "indicator" && t.AddIndicator != nil:
		t.AddIndicator(p.Payload)
	case p.Field == "timeline" && t.AddTimeline != nil:
		t.AddTimeline(p.Payload)
	default:
		return fmt.Errorf("llmtest: the target has no place for corpus field %q", p.Field)
	}
	return nil
}

//go:embed injection_corpus.json
var corpusJSON []byte

// InjectionCorpus returns the corpus.
func InjectionCorpus() ([]InjectionPayload, error) {
	var c []InjectionPayload
	if err := json.Unmarshal(corpusJSON, &c); err != nil {
		return nil, fmt.Errorf("llmtest: injection corpus: %w", err)
	}
	return c, nil
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
