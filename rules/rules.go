// Package rules is the deterministic analyzer: named rules over SentinelOne's
// facts, each conclusion explained by the rules that fired. It is the floor
// under the model (the fallback when there is none or it fails, the answer to
// obvious cases without asking it, what the injection guard holds a model's
// answer to), so it lives apart from the model client: it calls nothing, and
// no text in the evidence can talk it into anything.
//
// It reasons in three steps. First it reads what the threat did (signals.go):
// kinds of behaviour such as encryption, credential dumping, command and control,
// each hostile, unwanted or weak. Then it looks for a benign explanation
// (benign.go): the signer's own updater, an enterprise management agent, backup
// software, an authorised exercise, a developer's build. A strong explanation that
// accounts for everything SentinelOne reports concludes false_positive, with no
// action; anything it does not account for rules it out. Otherwise the hostile
// behaviour decides the verdict and the containment, trimmed to what can and should
// still be done: not what the agent already did, not a quarantine of Windows' own
// binaries, not an isolation of a container.
//
// The storyline context (Evidence.Context) is optional: the rules read the threat's
// own facts, and the context only adds the parent process and the behaviours.
package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
)

// Names of the rules, as they appear in Analysis.Rules.
const (
	Blocklist          = "blocklist"
	S1Malicious        = "s1-malicious"
	Ransomware         = "ransomware"
	HandsOnKeyboard    = "hands-on-keyboard"
	OfficeSpawnsScript = "office-spawns-script"
	Cryptominer        = "cryptominer"
	HostileBehaviour   = "hostile-behaviour"
	PUASigned          = "pua-signed"
	TrustedVendor      = "trusted-vendor"
	ManagementTool     = "management-tool"
	BackupSoftware     = "backup-software"
	AuthorisedExercise = "authorised-exercise"
	DeveloperBuild     = "developer-build"
	AdminHost          = "admin-host"
	S1Suspicious       = "s1-suspicious"
	WeakSignals        = "weak-signals"
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

var (
	contain = []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine}
	handsOn = []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionIsolate}
	// A person in the network or ransomware: responders need to know what else happened
	// on the host, so its forensic package is collected too (the policy decides when).
	intruded = append(slices.Clone(handsOn), investigation.ActionCollectForensics)
	ransomed = []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionRemediate, investigation.ActionRollback, investigation.ActionIsolate, investigation.ActionCollectForensics}
	mined    = []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine, investigation.ActionRemediate}
)

var verdictRank = map[investigation.Verdict]int{
	investigation.VerdictUndetermined: 0, investigation.VerdictFalsePositive: 0, investigation.VerdictSuspicious: 1, investigation.VerdictTruePositive: 2,
}

// Analyze applies the rules. It sets Analyzer = "rules" and lists the rules that fired
// in Rules. It concludes false_positive only on a strong benign explanation that
// accounts for everything SentinelOne reports, never on a blocklist hit or evidence
// carrying text aimed at a model; a false_positive never carries an action.
func (e *Engine) Analyze(ctx context.Context, ev investigation.Evidence) (investigation.Analysis, error) {
	v := newView(ev)
	sig := v.hostile()
	stories := v.stories(sig)
	blocked := v.blocklisted()

	var (
		fired []*finding
		notes []string // what the reader should know beyond the rules that fired
	)
	if fp := falsePositive(v, sig, stories, blocked); fp != nil {
		fired = append(fired, fp)
	} else {
		notes = append(notes, setAside(v, stories, blocked)...)
		fired = v.conclude(sig, stories, blocked)
	}

	a := investigation.Analysis{
		Verdict:         investigation.VerdictUndetermined,
		Priority:        investigation.PriorityLow,
		Analyzer:        AnalyzerName,
		MITRETechniques: v.techniques,
	}
	wanted := map[investigation.Action]bool{}
	behavioural := 0
	for _, f := range fired {
		a.Rules = append(a.Rules, f.rule)
		if verdictRank[f.verdict] > verdictRank[a.Verdict] || f.verdict == investigation.VerdictFalsePositive {
			a.Verdict = f.verdict
		}
		if f.priority.Rank() > a.Priority.Rank() {
			a.Priority = f.priority
		}
		a.Confidence = max(a.Confidence, f.confidence)
		for _, act := range f.actions {
			wanted[act] = true
		}
		if behaviouralRules[f.rule] {
			behavioural++
		}
	}
	switch {
	case slices.Contains(a.Rules, PUASigned) && behavioural == 0 && !slices.Contains(a.Rules, Blocklist):
		// Signed unwanted software with no hostile behaviour: a hygiene matter, Low
		// and no action, even if S1 rates it malicious (then the verdict stays
		// true_positive: the rating is right, the software is just not an attack).
		a.Priority = investigation.PriorityLow
		clear(wanted)
	case behavioural > 0 && (slices.Contains(a.Rules, S1Malicious) || slices.Contains(a.Rules, Blocklist)):
		// S1's rating and independent behavioural evidence agree.
		a.Confidence = 0.95
	case behavioural > 1:
		a.Confidence = min(0.9, a.Confidence+0.05)
	}
	if a.Verdict != investigation.VerdictTruePositive {
		// Only a true positive is contained; a false positive or an open question
		// never carries an action the policy could take alone.
		clear(wanted)
	}

	omitted := v.trim(wanted)
	if a.Verdict == investigation.VerdictTruePositive && strings.EqualFold(v.f.MitigationMode, "detect") {
		notes = append(notes, "the agent is in detect mode: SentinelOne only reported this threat, so containment is left to us")
		if a.Priority.Rank() < investigation.PriorityHigh.Rank() && len(wanted) > 0 {
			a.Priority = investigation.PriorityHigh
		}
	}
	for _, act := range investigation.Actions {
		if wanted[act] {
			a.RecommendedActions = append(a.RecommendedActions, act)
		}
	}
	a.ActionReasons = ruleReasons(a.RecommendedActions, fired)
	a.Summary = rulesSummary(v.f, a, fired, notes, omitted)
	if err := a.Validate(); err != nil {
		// Unreachable unless a rule above is wrong; report it rather than hand an
		// invalid analysis to the policy.
		return investigation.Analysis{}, fmt.Errorf("rules: analysis of threat %s: %w", ev.Facts.ThreatID, err)
	}
	return a, nil
}

// behaviouralRules read what the threat did, independently of S1's rating.
var behaviouralRules = map[string]bool{Ransomware: true, HandsOnKeyboard: true, OfficeSpawnsScript: true, Cryptominer: true, HostileBehaviour: true}

// falsePositive concludes false_positive on the first strong story that accounts for
// every signal, unless the customer blocklisted the file or the data carries text
// aimed at a model (benign-looking evidence that argues its own case is not benign).
func falsePositive(v *view, sig signals, stories []*story, blocked string) *finding {
	if blocked != "" || len(v.injection) > 0 {
		return nil
	}
	for _, st := range stories {
		if !st.strong || len(st.unexplained) > 0 {
			continue
		}
		why := st.why
		if len(sig) > 0 {
			why += "; it accounts for all SentinelOne reports: " + sig.String()
		} else {
			why += "; SentinelOne reports no behaviour"
		}
		conf := 0.8
		if v.confidence == "malicious" {
			// The rating rests on reputation or static analysis, or on behaviour the
			// explanation accounts for: a human may still want to see it.
			why += "; SentinelOne's malicious rating is overridden"
			conf = 0.7
		}
		return &finding{rule: st.rule, verdict: investigation.VerdictFalsePositive, confidence: conf, priority: investigation.PriorityLow, why: why}
	}
	return nil
}

// setAside says why the benign explanations that held did not conclude anything.
func setAside(v *view, stories []*story, blocked string) []string {
	var out []string
	for _, st := range stories {
		switch {
		case blocked != "":
			out = append(out, fmt.Sprintf("benign explanation (%s) set aside: the customer blocklisted this file", st.why))
		case len(v.injection) > 0 && len(st.unexplained) == 0:
			out = append(out, fmt.Sprintf("benign explanation (%s) set aside: the threat's data carries text aimed at an AI model", st.why))
		case len(st.unexplained) > 0:
			out = append(out, fmt.Sprintf("benign explanation (%s) set aside: it does not account for %s", st.why, st.unexplained))
		}
	}
	return out
}

// conclude applies the rules when no benign explanation concluded false_positive.
func (v *view) conclude(sig signals, stories []*story, blocked string) []*finding {
	var fired []*finding
	if blocked != "" {
		// A blocklist entry is the customer's own verdict on this hash, whatever
		// SentinelOne's confidence: kill it and quarantine the file.
		fired = append(fired, &finding{rule: Blocklist, verdict: investigation.VerdictTruePositive, confidence: 0.95,
			priority: investigation.PriorityHigh, actions: contain, why: "the file's hash is on the customer's blocklist (" + blocked + ")"})
	}
	if v.confidence == "malicious" {
		fired = append(fired, &finding{rule: S1Malicious, verdict: investigation.VerdictTruePositive, confidence: 0.9,
			priority: investigation.PriorityHigh, actions: contain, why: "SentinelOne rates the threat malicious"})
	}
	// A moderate story (an admin host) that accounts for everything keeps a threat
	// S1 does not rate malicious at suspicious, with no action.
	if v.confidence != "malicious" && blocked == "" {
		for _, st := range stories {
			if !st.strong && len(st.unexplained) == 0 && len(sig.of(hostile)) > 0 {
				return append(fired, &finding{rule: st.rule, verdict: investigation.VerdictSuspicious, confidence: 0.5,
					priority: investigation.PriorityLow, why: st.why + " accounts for " + sig.of(hostile).String() + "; a human confirms it was the administrator"})
			}
		}
	}
	fired = append(fired, behaviour(sig)...)
	if f := v.puaSigned(); f != nil {
		fired = append(fired, f)
	}
	if len(fired) > 0 {
		return fired
	}
	switch {
	case v.confidence == "suspicious":
		why := "SentinelOne rates the threat suspicious and no stronger rule fired"
		if w := sig.of(weak); len(w) > 0 {
			why += "; it shows " + w.String()
		}
		return []*finding{{rule: S1Suspicious, verdict: investigation.VerdictSuspicious, confidence: 0.5, priority: investigation.PriorityMedium, why: why}}
	case len(sig) > 0:
		return []*finding{{rule: WeakSignals, verdict: investigation.VerdictSuspicious, confidence: 0.4, priority: investigation.PriorityLow,
			why: "no verdict from SentinelOne; the evidence shows " + sig.String() + ", not enough for a true positive"}}
	}
	return []*finding{{rule: NoSignal, verdict: investigation.VerdictUndetermined, confidence: 0.3, priority: investigation.PriorityLow, why: "no rule matched the evidence"}}
}

// behaviour turns hostile signals into findings, one per rule, each kind used once.
func behaviour(sig signals) []*finding {
	var out []*finding
	used := map[kind]bool{}
	take := func(ks ...kind) signals {
		var got signals
		for _, s := range sig {
			if slices.Contains(ks, s.kind) && !used[s.kind] {
				got = append(got, s)
				used[s.kind] = true
			}
		}
		return got
	}
	// Encryption is destructive and fast: contain, undo what the OS allows, cut off.
	if r := take(kEncryption, kRecoveryWipe, kRansomLabel); len(r) > 0 {
		r = append(r, take(kServiceStop)...)
		out = append(out, &finding{rule: Ransomware, verdict: investigation.VerdictTruePositive, confidence: 0.85,
			priority: investigation.PriorityCritical, actions: ransomed, why: r.String()})
	}
	// Someone is in the network: stop the process and cut the host off before the
	// credentials, the C2 channel or the foothold are used.
	if h := take(kServiceStop, kCredDump, kC2, kRemoteAccess, kWebShell, kLateral, kImpair); len(h) > 0 {
		out = append(out, &finding{rule: HandsOnKeyboard, verdict: investigation.VerdictTruePositive, confidence: 0.8,
			priority: investigation.PriorityHigh, actions: intruded, why: h.String()})
	}
	// A document launching a hostile command is the classic dropper; the host may
	// already be talking to its C2.
	if o := take(kOfficeChain, kPhishing); len(o) > 0 {
		o = append(o, take(kObfuscation, kProxyExec, kRawIPDownload, kDownloadExec)...)
		out = append(out, &finding{rule: OfficeSpawnsScript, verdict: investigation.VerdictTruePositive, confidence: 0.75,
			priority: investigation.PriorityHigh, actions: handsOn, why: o.String()})
	}
	// Miners burn resources but rarely spread: kill and quarantine, and remediation
	// (where supported) removes their persistence.
	if m := take(kMining); len(m) > 0 {
		out = append(out, &finding{rule: Cryptominer, verdict: investigation.VerdictTruePositive, confidence: 0.75,
			priority: investigation.PriorityHigh, actions: mined, why: m.String()})
	}
	var rest signals
	for _, s := range sig.of(hostile) {
		if !used[s.kind] {
			rest = append(rest, s)
		}
	}
	if len(rest) > 0 {
		out = append(out, &finding{rule: HostileBehaviour, verdict: investigation.VerdictTruePositive, confidence: 0.75,
			priority: investigation.PriorityHigh, actions: contain, why: rest.String()})
	}
	return out
}

var puaClassTokens = []string{"pua", "pup", "adware"}

// pua: SentinelOne classifies the file as potentially unwanted or adware.
func (v *view) pua() bool {
	return v.classTokens.any(puaClassTokens...) != "" || strings.Contains(v.class, "potentially unwanted")
}

// puaSigned: signed, verified unwanted software is a licensing/hygiene matter, not an
// attack: removing it may break something a user relies on, so no action is
// recommended and a human decides (a quarantine recommendation would let an "auto"
// policy act on it). Hostile behaviour overrides this in Analyze.
func (v *view) puaSigned() *finding {
	if !v.signed || !v.pua() {
		return nil
	}
	f := &finding{rule: PUASigned, verdict: investigation.VerdictSuspicious, confidence: 0.6,
		priority: investigation.PriorityLow, why: fmt.Sprintf("classification %q with a SignedVerified file", v.classShown)}
	return f
}

// blocklisted recognises the user-defined blocklist engine by its display title or its
// key, and returns it as S1 spells it.
func (v *view) blocklisted() string {
	for i, e := range v.engines {
		if strings.Contains(e, "blocklist") || strings.Contains(e, "blacklist") {
			return guard.Truncate(guard.Clean(v.f.Engines[i]), 40)
		}
	}
	return ""
}

var containerMachines = []string{"kubernetes pod", "kubernetes node", "ecs task"}

// trim removes from wanted what cannot or should not be done, and says why.
func (v *view) trim(wanted map[investigation.Action]bool) []string {
	var omitted []string
	drop := func(act investigation.Action, why string) {
		if wanted[act] {
			delete(wanted, act)
			omitted = append(omitted, fmt.Sprintf("%s (%s)", act, why))
		}
	}
	for _, act := range investigation.Actions {
		if why := v.done(act); why != "" {
			drop(act, "already done: "+why)
		}
	}
	switch {
	case v.osBinary():
		why := fmt.Sprintf("the file is %s: kill the process, the binary is not the threat", v.osBinaryShown())
		drop(investigation.ActionQuarantine, why)
		drop(investigation.ActionRemediate, why)
	case v.f.IsFileless:
		why := "the threat is fileless: the file is the process that hosted it, not the threat"
		drop(investigation.ActionQuarantine, why)
		drop(investigation.ActionRemediate, why)
	}
	if !v.canRemediate() {
		drop(investigation.ActionRemediate, fmt.Sprintf("not supported on osType %q", v.osType))
	}
	if !v.canRollback() {
		drop(investigation.ActionRollback, fmt.Sprintf("Windows only, osType %q", v.osType))
	}
	switch {
	case slices.Contains(containerMachines, v.machine):
		drop(investigation.ActionIsolate, fmt.Sprintf("the agent is a %s: redeploy the workload instead of cutting off the host it shares", v.machine))
	case v.f.Workload != nil:
		drop(investigation.ActionIsolate, "the threat ran in a container: redeploy the workload instead of cutting off the host it shares")
	case v.f.NetworkStatus == "disconnected" || v.f.NetworkStatus == "disconnecting":
		drop(investigation.ActionIsolate, "the agent is already "+v.f.NetworkStatus)
	}
	return omitted
}

// completed maps the timeline's activity codes of completed mitigations to our
// actions: 2001–2004 agent reports of a command's success, 2021–2024 and 2025 actions
// taken by the agent's policy.
var completed = map[int]investigation.Action{
	2001: investigation.ActionKill, 2002: investigation.ActionRemediate, 2003: investigation.ActionRollback, 2004: investigation.ActionQuarantine,
	2021: investigation.ActionKill, 2022: investigation.ActionRemediate, 2023: investigation.ActionRollback, 2024: investigation.ActionQuarantine,
	2025: investigation.ActionIsolate,
}

// entryActions maps mitigationStatus[].action to our actions.
var entryActions = map[string]investigation.Action{
	"kill": investigation.ActionKill, "quarantine": investigation.ActionQuarantine, "remediate": investigation.ActionRemediate,
	"rollback": investigation.ActionRollback, "network_quarantine": investigation.ActionIsolate,
}

// done says how we know SentinelOne already carried out act on this threat, or "".
func (v *view) done(act investigation.Action) string {
	entries := false
	for _, m := range v.f.Mitigations {
		a, status, _ := strings.Cut(m, ":")
		if entryActions[a] == act {
			entries = true
			if status == "success" || status == "pending-reboot" {
				return "mitigationStatus " + m
			}
		}
	}
	for _, it := range v.timeline {
		if completed[it.ActivityType] == act {
			return fmt.Sprintf("activity %d in the timeline", it.ActivityType)
		}
	}
	// S1 marks a threat mitigated once its kill and quarantine succeeded; trust the
	// entries when there are any.
	if !entries && strings.EqualFold(v.f.MitigationStatus, "mitigated") &&
		(act == investigation.ActionKill || act == investigation.ActionQuarantine) {
		return "SentinelOne reports the threat mitigated"
	}
	return ""
}

func rulesSummary(f investigation.ThreatFacts, a investigation.Analysis, fired []*finding, notes, omitted []string) string {
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
		parts[i] = fmt.Sprintf("%s (%s)", fd.rule, guard.Truncate(guard.Clean(fd.why), 300))
	}
	b.WriteString(strings.Join(parts, "; "))
	b.WriteString(". ")
	for _, n := range notes {
		fmt.Fprintf(&b, "Note: %s. ", guard.Truncate(guard.Clean(n), 300))
	}
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
		fmt.Fprintf(&b, " Not recommended: %s.", guard.Clean(strings.Join(omitted, "; ")))
	}
	if len(a.MITRETechniques) > 0 {
		fmt.Fprintf(&b, " MITRE: %s.", strings.Join(a.MITRETechniques, ", "))
	}
	if len(a.RecommendedActions) > 0 {
		b.WriteString(" These are recommendations; the policy decides.")
	}
	return guard.Truncate(b.String(), guard.MaxSummaryRunes)
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
