// Package rules is the deterministic analyzer: named rules over SentinelOne's
// facts, each conclusion explained by the rules that fired. It is the floor
// under the model (the fallback when there is none or it fails, the answer to
// obvious cases without asking it, what the injection guard holds a model's
// answer to), so it lives apart from the model client: it calls nothing, and
// no text in the evidence can talk it into anything.
package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
)

// Names of the rules, as they appear in Analysis.Rules.
const (
	S1Malicious        = "s1-malicious"
	Ransomware         = "ransomware"
	OfficeSpawnsScript = "office-spawns-script"
	Cryptominer        = "cryptominer"
	PUASigned          = "pua-signed"
	S1Suspicious       = "s1-suspicious"
	NoSignal           = "no-signal"
)

// AnalyzerName is the Analysis.Analyzer value of the rules analyzer.
const AnalyzerName = "rules"

// Engine is the deterministic analyzer: a handful of named rules over the S1
// facts, so every conclusion can be explained by the rules that fired. It is
// the fallback when no model is configured or the model fails, so it never
// errors on odd evidence and never calls anything.
type Engine struct{}

// New returns the rules analyzer.
func New() *Engine { return &Engine{} }

// finding is what one rule concluded and why.
type finding struct {
	rule       string
	verdict    investigation.Verdict
	confidence float64
	priority   investigation.Priority
	actions    []investigation.Action
	why        string
}

// signals are the normalised facts the rules look at.
type signals struct {
	confidence     string // malicious | suspicious | n/a
	classification string // lower case
	osType         string
	signedVerified bool
	techniques     []string // valid IDs
	cmdTokens      tokenSet // command line
	indicatorTok   tokenSet // indicators
	originatorTok  tokenSet // originator process
	cmdline        string   // lower case
	path           string   // lower case
	indicators     []string // lower case
	classTokens    tokenSet // classification
	classDisplay   string   // as S1 spells it, for explanations
}

type tokenSet map[string]bool

// tokens splits on anything but letters and digits, so "C:\...\cmd.exe /c"
// yields "cmd" and "exe" and a substring such as "cmdline" does not match "cmd".
func tokens(parts ...string) tokenSet {
	set := tokenSet{}
	for _, p := range parts {
		for _, t := range strings.FieldsFunc(strings.ToLower(p), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			set[t] = true
		}
	}
	return set
}

func (s tokenSet) any(words ...string) string {
	for _, w := range words {
		if s[w] {
			return w
		}
	}
	return ""
}

func containsAny(s string, subs ...string) string {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}

func newSignals(f investigation.ThreatFacts) signals {
	ind := make([]string, len(f.Indicators))
	for i, s := range f.Indicators {
		ind[i] = strings.ToLower(s)
	}
	return signals{
		confidence:     strings.ToLower(strings.TrimSpace(f.ConfidenceLevel)),
		classification: strings.ToLower(strings.TrimSpace(f.Classification)),
		osType:         strings.ToLower(strings.TrimSpace(f.OSType)),
		signedVerified: strings.EqualFold(strings.TrimSpace(f.FileVerificationType), "SignedVerified"),
		techniques:     investigation.TechniqueIDs(f.Techniques),
		cmdTokens:      tokens(f.CommandLine),
		indicatorTok:   tokens(f.Indicators...),
		originatorTok:  tokens(f.OriginatorProcess),
		cmdline:        strings.ToLower(f.CommandLine),
		path:           strings.ToLower(f.FilePath),
		indicators:     ind,
		classTokens:    tokens(f.Classification),
		classDisplay:   guard.Truncate(guard.Clean(f.Classification), 64),
	}
}

// canRemediate: S1 remediation is not available for Linux agents; unknown OS
// types get no recommendation rather than a guess.
func (s signals) canRemediate() bool {
	return s.osType == "windows" || s.osType == "windows_legacy" || s.osType == "macos"
}

// canRollback: rollback restores from VSS snapshots, which only Windows has.
func (s signals) canRollback() bool {
	return s.osType == "windows" || s.osType == "windows_legacy"
}

func (s signals) hasTechnique(prefixes ...string) string {
	for _, t := range s.techniques {
		for _, p := range prefixes {
			if t == p || strings.HasPrefix(t, p+".") {
				return t
			}
		}
	}
	return ""
}

func (s signals) malicious() *finding {
	if s.confidence != "malicious" {
		return nil
	}
	return &finding{
		rule: S1Malicious, verdict: investigation.VerdictTruePositive, confidence: 0.9,
		priority: investigation.PriorityHigh,
		actions:  []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine},
		why:      "SentinelOne rates the threat malicious",
	}
}

func (s signals) ransomware() *finding {
	var why []string
	if strings.Contains(s.classification, "ransom") {
		why = append(why, fmt.Sprintf("classification %q", s.classDisplay))
	}
	if t := s.hasTechnique("T1486", "T1490"); t != "" {
		why = append(why, "technique "+t)
	}
	for _, ind := range s.indicators {
		if containsAny(ind, "shadow cop", "shadowcop", "volume shadow") != "" {
			why = append(why, "an indicator mentions shadow copies")
			break
		}
	}
	if strings.Contains(s.cmdline, "delete shadows") ||
		(strings.Contains(s.cmdline, "shadowcopy") && strings.Contains(s.cmdline, "delete")) {
		why = append(why, "the command line deletes shadow copies")
	}
	if len(why) == 0 {
		return nil
	}
	// Encryption is destructive and fast: contain first, then undo what the OS allows.
	return &finding{
		rule: Ransomware, verdict: investigation.VerdictTruePositive, confidence: 0.85,
		priority: investigation.PriorityCritical,
		actions: []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine,
			investigation.ActionRemediate, investigation.ActionRollback, investigation.ActionIsolate},
		why: strings.Join(why, ", "),
	}
}

var (
	officeApps     = []string{"winword", "excel", "powerpnt", "outlook"}
	scriptEngines  = []string{"powershell", "pwsh", "cmd", "wscript", "cscript", "mshta"}
	minerMarkers   = []string{"xmrig", "minerd", "stratum+tcp", "stratum+ssl", "stratum2+tcp"}
	puaClassTokens = []string{"pua", "pup", "adware"}
)

func (s signals) officeSpawnsScript() *finding {
	office := s.originatorTok.any(officeApps...)
	if office == "" {
		office = s.indicatorTok.any(officeApps...)
	}
	if office == "" {
		return nil
	}
	script := s.cmdTokens.any(scriptEngines...)
	if script == "" {
		script = s.indicatorTok.any(scriptEngines...)
	}
	if script == "" {
		return nil
	}
	// A document launching an interpreter is the classic macro dropper; the host
	// may already be talking to its C2, hence isolation.
	return &finding{
		rule: OfficeSpawnsScript, verdict: investigation.VerdictTruePositive, confidence: 0.7,
		priority: investigation.PriorityHigh,
		actions:  []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionIsolate},
		why:      fmt.Sprintf("%s launched %s", office, script),
	}
}

func (s signals) cryptominer() *finding {
	var why string
	switch {
	case strings.Contains(s.classification, "miner"):
		why = fmt.Sprintf("classification %q", s.classDisplay)
	case containsAny(s.path, minerMarkers...) != "":
		why = fmt.Sprintf("file path mentions %s", containsAny(s.path, minerMarkers...))
	case containsAny(s.cmdline, minerMarkers...) != "":
		why = fmt.Sprintf("command line mentions %s", containsAny(s.cmdline, minerMarkers...))
	default:
		return nil
	}
	// Miners burn resources but rarely spread; killing and quarantining suffices,
	// remediation (where supported) removes their persistence.
	return &finding{
		rule: Cryptominer, verdict: investigation.VerdictTruePositive, confidence: 0.75,
		priority: investigation.PriorityHigh,
		actions:  []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionRemediate},
		why:      why,
	}
}

func (s signals) puaSigned() *finding {
	if !s.signedVerified {
		return nil
	}
	if s.classTokens.any(puaClassTokens...) == "" && !strings.Contains(s.classification, "potentially unwanted") {
		return nil
	}
	// Signed, verified unwanted software is a licensing/hygiene matter, not an
	// attack: removing it may break something a user relies on, so we recommend no
	// action at all and leave it to a human (a quarantine recommendation would let
	// an "auto" policy act on it).
	return &finding{
		rule: PUASigned, verdict: investigation.VerdictSuspicious, confidence: 0.6,
		priority: investigation.PriorityLow,
		why:      fmt.Sprintf("classification %q with a SignedVerified file", s.classDisplay),
	}
}

func (s signals) suspicious() *finding {
	if s.confidence != "suspicious" {
		return nil
	}
	return &finding{
		rule: S1Suspicious, verdict: investigation.VerdictSuspicious, confidence: 0.5,
		priority: investigation.PriorityMedium,
		why:      "SentinelOne rates the threat suspicious and no stronger rule fired",
	}
}

var verdictRank = map[investigation.Verdict]int{
	investigation.VerdictUndetermined: 0, investigation.VerdictSuspicious: 1, investigation.VerdictTruePositive: 2,
}

// Analyze applies the rules. It sets Analyzer = "rules" and lists the rules
// that fired in Rules. It never concludes false_positive: the absence of a
// signal is not proof that a detection was wrong.
func (e *Engine) Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	s := newSignals(ev.Facts)

	mal := s.malicious()
	var behavioural []*finding
	for _, f := range []*finding{s.ransomware(), s.officeSpawnsScript(), s.cryptominer()} {
		if f != nil {
			behavioural = append(behavioural, f)
		}
	}
	pua := s.puaSigned()

	var fired []*finding
	if mal != nil {
		fired = append(fired, mal)
	}
	fired = append(fired, behavioural...)
	if pua != nil {
		fired = append(fired, pua)
	}
	if len(fired) == 0 {
		if f := s.suspicious(); f != nil {
			fired = append(fired, f)
		}
	}
	if len(fired) == 0 {
		fired = append(fired, &finding{
			rule: NoSignal, verdict: investigation.VerdictUndetermined, confidence: 0.3,
			priority: investigation.PriorityLow,
			why:      "no rule matched the evidence",
		})
	}

	a := investigation.Analysis{
		Verdict:         investigation.VerdictUndetermined,
		Priority:        investigation.PriorityLow,
		Analyzer:        AnalyzerName,
		MITRETechniques: s.techniques,
	}
	wanted := map[investigation.Action]bool{}
	for _, f := range fired {
		a.Rules = append(a.Rules, f.rule)
		if verdictRank[f.verdict] > verdictRank[a.Verdict] {
			a.Verdict = f.verdict
		}
		if f.priority.Rank() > a.Priority.Rank() {
			a.Priority = f.priority
		}
		a.Confidence = max(a.Confidence, f.confidence)
		for _, act := range f.actions {
			wanted[act] = true
		}
	}

	switch {
	case pua != nil && len(behavioural) == 0:
		// Signed PUA with no hostile behaviour: Low and no actions, even if S1's
		// reputation engine says malicious (then the verdict stays true_positive:
		// the rules never downgrade S1's malicious rating).
		a.Priority = investigation.PriorityLow
		clear(wanted)
		if mal == nil {
			a.Verdict = investigation.VerdictSuspicious
			a.Confidence = pua.confidence
		}
	case mal != nil && len(behavioural) > 0:
		// S1's rating and an independent behavioural rule agree.
		a.Confidence = 0.95
	}

	var omitted []string
	if wanted[investigation.ActionRemediate] && !s.canRemediate() {
		delete(wanted, investigation.ActionRemediate)
		omitted = append(omitted, fmt.Sprintf("remediate (not supported on osType %q)", s.osType))
	}
	if wanted[investigation.ActionRollback] && !s.canRollback() {
		delete(wanted, investigation.ActionRollback)
		omitted = append(omitted, fmt.Sprintf("rollback (Windows only, osType %q)", s.osType))
	}
	for _, act := range investigation.Actions {
		if wanted[act] {
			a.RecommendedActions = append(a.RecommendedActions, act)
		}
	}

	a.ActionReasons = ruleReasons(a.RecommendedActions, fired)
	a.Summary = rulesSummary(ev.Facts, a, fired, omitted)
	if err := a.Validate(); err != nil {
		// Unreachable unless a rule above is wrong; report it rather than hand an
		// invalid analysis to the policy.
		return investigation.Analysis{}, fmt.Errorf("rules: analysis of threat %s: %w", ev.Facts.ThreatID, err)
	}
	return a, nil
}

func rulesSummary(f investigation.ThreatFacts, a investigation.Analysis, fired []*finding, omitted []string) string {
	var b strings.Builder
	name := guard.Truncate(guard.Clean(f.ThreatName), 80)
	if name == "" {
		name = "(unnamed)"
	}
	fmt.Fprintf(&b, "Rules analysis of threat %q", name)
	if host := guard.Truncate(guard.Clean(f.AgentName), 64); host != "" {
		fmt.Fprintf(&b, " on %q", host)
		var desc []string
		for _, d := range []string{f.OSType, f.MachineType} {
			if d = guard.Truncate(guard.Clean(d), 32); d != "" {
				desc = append(desc, d)
			}
		}
		if len(desc) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(desc, ", "))
		}
	}
	fmt.Fprintf(&b, ": %s, priority %s, confidence %.2f. Rules fired: ", a.Verdict, a.Priority, a.Confidence)
	parts := make([]string, len(fired))
	for i, fd := range fired {
		parts[i] = fmt.Sprintf("%s (%s)", fd.rule, guard.Truncate(guard.Clean(fd.why), 120))
	}
	b.WriteString(strings.Join(parts, "; "))
	b.WriteString(". ")
	if len(a.RecommendedActions) == 0 {
		b.WriteString("No action recommended.")
	} else {
		acts := make([]string, len(a.RecommendedActions))
		for i, act := range a.RecommendedActions {
			acts[i] = string(act)
		}
		fmt.Fprintf(&b, "Recommended actions: %s.", strings.Join(acts, ", "))
	}
	if len(omitted) > 0 {
		fmt.Fprintf(&b, " Not recommended: %s.", strings.Join(omitted, "; "))
	}
	if len(a.MITRETechniques) > 0 {
		fmt.Fprintf(&b, " MITRE: %s.", strings.Join(a.MITRETechniques, ", "))
	}
	if len(a.RecommendedActions) > 0 {
		b.WriteString(" These are recommendations; the policy decides.")
	}
	return b.String()
}

// ruleReasons explains each recommended action by the rules that asked for it.
func ruleReasons(actions []investigation.Action, fired []*finding) []investigation.ActionReason {
	var out []investigation.ActionReason
	for _, act := range actions {
		var why []string
		for _, f := range fired {
			if slices.Contains(f.actions, act) {
				why = append(why, fmt.Sprintf("rule %s: %s", f.rule, guard.Clean(f.why)))
			}
		}
		out = append(out, investigation.ActionReason{Action: act, Reason: guard.Truncate(strings.Join(why, "; "), 300)})
	}
	return out
}
