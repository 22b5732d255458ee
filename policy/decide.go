package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
)

// Decide turns an analysis into a plan, following the decision order of the package
// documentation. Every recommended action appears in the plan exactly once, in the
// canonical order of investigation.Actions; unknown actions are dropped (the analysis was
// validated before, so there are none in practice).
//
// It fails closed: a nil policy, or one without a Version (hand-built, not from Default,
// Parse, LoadFile or a Store), only recommends.
func Decide(p *Policy, in Inputs) Plan {
	plan := Plan{PolicyVersion: p.VersionString()}
	autos := 0 // automatic actions earlier in this plan, for the per-minute cap
	for _, act := range investigation.Actions {
		if !slices.Contains(in.Analysis.RecommendedActions, act) {
			continue
		}
		var st Step
		switch {
		case p == nil:
			st = Step{Action: act, Impact: ImpactOf(act), Disposition: Recommend, Reason: "no policy is loaded: s1copilot does not act"}
		case p.Version == "":
			st = Step{Action: act, Impact: ImpactOf(act), Disposition: Recommend, Reason: "the policy has no version (build it with policy.Default or load a file): s1copilot does not act"}
		default:
			st = p.decideOne(in, act, autos)
		}
		if st.Disposition == Auto {
			autos++
		}
		plan.Steps = append(plan.Steps, st)
	}
	return plan
}

func (p *Policy) decideOne(in Inputs, act investigation.Action, autosInPlan int) Step {
	a, f := in.Analysis, in.Facts
	st := Step{Action: act, Impact: ImpactOf(act)}
	settle := func(d Disposition, reason string) Step {
		st.Disposition, st.Reason = d, reason
		return st
	}

	// 1. Applicability: these can never work, whatever anyone approves.
	if why := notApplicable(f, act); why != "" {
		return settle(Skip, why)
	}
	if why := p.noForensicScript(f, act); why != "" {
		return settle(Skip, why)
	}
	if slices.Contains(fileActions, act) {
		if pf := p.protectedFile(f); pf != nil {
			st.Rule = pf.Name
			return settle(Skip, pf.describe(f))
		}
	}
	// 2. Verdict.
	if a.Verdict != investigation.VerdictTruePositive && a.Verdict != investigation.VerdictSuspicious {
		return settle(Recommend, fmt.Sprintf("verdict is %s: no action without a confirmed threat", a.Verdict))
	}

	// 3. Base mode: global, then the action's entry, then the first matching rule.
	mode, reason := p.Mode, fmt.Sprintf("policy mode is %s: %s", p.Mode, modeTail(p.Mode))
	st.Rule = "default"
	ar, hasAR := p.Actions[act]
	if hasAR && ar.Mode != "" {
		mode, reason = ar.Mode, fmt.Sprintf("the policy sets %s to %s: %s", act, ar.Mode, modeTail(ar.Mode))
	}
	if hasAR && ar.Reason != "" {
		reason = ar.Reason
	}
	var rule *Rule
	for i := range p.Rules {
		r := &p.Rules[i]
		if appliesTo(r.Actions, act) && matches(r.When, in) {
			rule, mode, st.Rule = r, r.Mode, r.Name
			reason = describe("rule", r.Name, r.Reason, r.Mode)
			break
		}
	}
	if forensicsNeedsAHuman(act, mode, ar, rule) {
		mode, reason = ModeApprove, "collecting forensics runs a script on the host and uploads its files: it waits for a human unless the policy sets collect_forensics to auto by name"
	}
	approvers := ar.Approvers
	if rule != nil && len(rule.Approvers) > 0 {
		approvers = rule.Approvers
	}

	// 4. Protected assets: the first match forces approve or off; it only tightens.
	for i := range p.Protected {
		pr := &p.Protected[i]
		if !appliesTo(pr.Actions, act) || !matches(pr.When, in) {
			continue
		}
		if pr.Mode == ModeOff || mode.strictness() <= ModeApprove.strictness() {
			mode, st.Rule = pr.Mode, pr.Name
			reason = describe("protected asset", pr.Name, pr.Reason, pr.Mode)
			if len(pr.Approvers) > 0 {
				approvers = pr.Approvers
			}
		}
		break
	}

	needApproval := func(why string) Step {
		st.Approvers = p.approversOrAll(approvers)
		return settle(Approve, why)
	}
	switch mode {
	case ModeOff:
		return settle(Skip, "turned off: "+reason)
	case ModeRecommend:
		return settle(Recommend, reason)
	case ModeApprove:
		return needApproval(reason)
	case ModeAuto:
	default: // an invalid hand-built policy: be safe
		return settle(Recommend, fmt.Sprintf("unknown policy mode %q: s1copilot does not act", mode))
	}

	// 5. Auto guards.
	if a.Verdict != investigation.VerdictTruePositive {
		return needApproval(fmt.Sprintf("verdict is only %s: automatic actions need true_positive", a.Verdict))
	}
	threshold, of := p.MinConfidence, ""
	if rule != nil && rule.When.MinConfidence != nil {
		threshold, of = *rule.When.MinConfidence, fmt.Sprintf(" of rule %q", rule.Name)
	}
	if a.Confidence < threshold {
		return needApproval(fmt.Sprintf("confidence %.2f is below the automatic threshold %.2f%s", a.Confidence, threshold, of))
	}
	ruleAcceptsS1 := rule != nil && len(rule.When.S1Confidence) > 0
	if !ruleAcceptsS1 && !strings.EqualFold(f.ConfidenceLevel, "malicious") {
		return needApproval(fmt.Sprintf("SentinelOne rates the threat %s, not malicious", nonEmpty(f.ConfidenceLevel)))
	}
	// 6. Kill switch.
	if in.KillSwitch {
		return needApproval("kill switch is on: automatic actions wait for a human")
	}
	// 7. Caps.
	if why := CapReached(p.Caps, in.Usage, act, autosInPlan); why != "" {
		return needApproval(why)
	}
	return settle(Auto, fmt.Sprintf("%s; true positive at confidence %.2f (threshold %.2f), SentinelOne rates it %s",
		reason, a.Confidence, threshold, nonEmpty(f.ConfidenceLevel)))
}

// CapReached says why one more automatic action act would exceed a cap, or "" if it
// would not. pending counts automatic actions already granted but not yet in u (e.g.
// earlier in the same plan). The control workflow enforces the caps fleet-wide with
// this same function; Decide uses it with the usage it is given.
func CapReached(c Caps, u Usage, act investigation.Action, pending int) string {
	if act == investigation.ActionIsolate {
		if c.IsolationsPerHour > 0 && u.IsolationsLastHour >= c.IsolationsPerHour {
			return fmt.Sprintf("cap reached: %d isolations in the last hour (cap %d)", u.IsolationsLastHour, c.IsolationsPerHour)
		}
		if c.IsolationsPerDay > 0 && u.IsolationsLastDay >= c.IsolationsPerDay {
			return fmt.Sprintf("cap reached: %d isolations in the last day (cap %d)", u.IsolationsLastDay, c.IsolationsPerDay)
		}
	}
	if n := u.AutoActionsLastMinute + pending; c.AutoActionsPerMinute > 0 && n >= c.AutoActionsPerMinute {
		return fmt.Sprintf("cap reached: %d automatic actions in the last minute (cap %d)", n, c.AutoActionsPerMinute)
	}
	return ""
}

// notApplicable says why an action can never work on this agent, or "".
func notApplicable(f investigation.ThreatFacts, act investigation.Action) string {
	os := strings.ToLower(f.OSType)
	switch {
	case act == investigation.ActionRollback && os != "windows" && os != "windows_legacy":
		return "rollback needs a Windows agent with VSS snapshots; this agent runs " + nonEmpty(f.OSType)
	case act == investigation.ActionRemediate && os == "linux":
		return "SentinelOne does not support remediate on Linux agents"
	case act == investigation.ActionIsolate && (f.NetworkStatus == "disconnected" || f.NetworkStatus == "disconnecting"):
		return "the agent is already isolated (" + f.NetworkStatus + ")"
	}
	return ""
}

func modeTail(m Mode) string {
	switch m {
	case ModeOff, ModeRecommend:
		return "s1copilot does not act"
	case ModeApprove:
		return "every action needs a human"
	default:
		return "s1copilot may act alone"
	}
}

func describe(kind, name, reason string, m Mode) string {
	if reason == "" {
		switch m {
		case ModeAuto:
			reason = "may act alone"
		case ModeApprove:
			reason = "needs a human"
		default:
			reason = "s1copilot does not act"
		}
	}
	return fmt.Sprintf("%s %q: %s", kind, name, reason)
}

// approversOrAll copies roles, or lists every role of the policy when roles is empty.
func (p *Policy) approversOrAll(roles []string) []string {
	if len(roles) > 0 {
		return slices.Clone(roles)
	}
	if len(p.Roles) == 0 {
		return nil
	}
	all := make([]string, 0, len(p.Roles))
	for r := range p.Roles {
		all = append(all, r)
	}
	sort.Strings(all)
	return all
}

func appliesTo(actions []investigation.Action, act investigation.Action) bool {
	return len(actions) == 0 || slices.Contains(actions, act)
}

// matches reports whether every condition that is set holds. MinConfidence is not a filter.
func matches(c Conditions, in Inputs) bool {
	f := in.Facts
	machine := f.MachineType
	if machine == "" {
		machine = "unknown"
	}
	switch {
	case len(c.Verdicts) > 0 && !slices.Contains(c.Verdicts, in.Analysis.Verdict),
		len(c.S1Confidence) > 0 && !containsFold(c.S1Confidence, f.ConfidenceLevel),
		len(c.MachineTypes) > 0 && !containsFold(c.MachineTypes, machine),
		len(c.OSTypes) > 0 && !containsFold(c.OSTypes, f.OSType),
		len(c.SiteIDs) > 0 && !slices.Contains(c.SiteIDs, f.SiteID),
		len(c.GroupNames) > 0 && !containsFold(c.GroupNames, f.GroupName),
		len(c.Tags) > 0 && !tagsMatch(c.Tags, f.Tags),
		len(c.ComputerNames) > 0 && !slices.ContainsFunc(c.ComputerNames, func(g string) bool { return globMatch(g, f.AgentName) }),
		!workloadMatches(c, f.Workload):
		return false
	}
	return true
}

// workloadMatches reports whether the cluster, namespace and image conditions that are
// set hold; a threat without the field never matches.
func workloadMatches(c Conditions, w *investigation.Workload) bool {
	if len(c.Clusters) == 0 && len(c.Namespaces) == 0 && len(c.Images) == 0 {
		return true
	}
	if w == nil {
		return false
	}
	anyGlob := func(globs []string, v string) bool {
		return len(globs) == 0 || v != "" && slices.ContainsFunc(globs, func(g string) bool { return globMatch(g, v) })
	}
	return anyGlob(c.Clusters, w.Cluster) && anyGlob(c.Namespaces, w.Namespace) && anyGlob(c.Images, w.ContainerImage)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// tagsMatch reports whether any wanted "key=value" is among the threat's tags, which are
// "key=value" or "scope:key=value".
func tagsMatch(wanted, have []string) bool {
	for _, h := range have {
		k, v, ok := strings.Cut(h, "=")
		if !ok {
			continue
		}
		if i := strings.LastIndexByte(k, ':'); i >= 0 {
			k = k[i+1:]
		}
		for _, w := range wanted {
			wk, wv, _ := strings.Cut(w, "=")
			if strings.EqualFold(strings.TrimSpace(wk), strings.TrimSpace(k)) && strings.EqualFold(strings.TrimSpace(wv), strings.TrimSpace(v)) {
				return true
			}
		}
	}
	return false
}

// globMatch matches name against pattern, case-insensitively: * is any run of
// characters (also none), ? exactly one; every other character stands for itself.
func globMatch(pattern, name string) bool {
	p, s := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(name))
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func nonEmpty(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
