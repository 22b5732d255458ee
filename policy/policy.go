// Package policy decides what s1copilot may do about a threat. The decision is a pure
// function of the policy, the analysis and the threat's facts — no I/O, no clock — so it
// is table-tested and runs inside the workflow deterministically. The model recommends;
// only this package decides.
package policy

import (
	"fmt"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
)

// Mode is the global automation mode, the first lever of a phased rollout.
type Mode string

const (
	// ModeRecommend writes notes only and never acts.
	ModeRecommend Mode = "recommend"
	// ModeApprove asks a human before every action.
	ModeApprove Mode = "approve"
	// ModeAuto lets low-impact actions on confident verdicts run alone; the rest needs approval.
	ModeAuto Mode = "auto"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeRecommend || m == ModeApprove || m == ModeAuto }

// Impact is how much an action disrupts the business if it is wrong.
type Impact string

const (
	ImpactLow    Impact = "low"    // kill a process, quarantine a file: reversible, local
	ImpactMedium Impact = "medium" // remediate: deletes what the threat changed
	ImpactHigh   Impact = "high"   // rollback, network isolation: the host or its data change for everyone
)

// ImpactOf classifies an action.
func ImpactOf(a investigation.Action) Impact {
	switch a {
	case investigation.ActionKill, investigation.ActionQuarantine:
		return ImpactLow
	case investigation.ActionRemediate:
		return ImpactMedium
	default:
		return ImpactHigh
	}
}

// Disposition is what the policy allows for one action.
type Disposition string

const (
	// Auto: carry it out without a human.
	Auto Disposition = "auto"
	// Approve: carry it out only after a human approves.
	Approve Disposition = "approve"
	// Recommend: mention it in the note; never carry it out.
	Recommend Disposition = "recommend"
	// Skip: not applicable to this threat (e.g. rollback on Linux); said in the note.
	Skip Disposition = "skip"
)

// Policy is the configuration the decision depends on.
type Policy struct {
	Mode          Mode    `json:"mode"`
	MinConfidence float64 `json:"minConfidence"`
}

// Version identifies the policy that decided, recorded with every investigation.
func (p Policy) Version() string {
	return fmt.Sprintf("builtin-v1 mode=%s min-confidence=%.2f", p.Mode, p.MinConfidence)
}

// Step is the decision for one action, with the reason a human reads in the note.
type Step struct {
	Action      investigation.Action `json:"action"`
	Impact      Impact               `json:"impact"`
	Disposition Disposition          `json:"disposition"`
	Reason      string               `json:"reason"`
}

// Plan is the decision for one investigation, in execution order.
type Plan struct {
	PolicyVersion string `json:"policyVersion"`
	Steps         []Step `json:"steps"`
}

// Actions returns the actions with the given disposition, in execution order.
func (p Plan) Actions(d Disposition) []investigation.Action {
	var out []investigation.Action
	for _, s := range p.Steps {
		if s.Disposition == d {
			out = append(out, s.Action)
		}
	}
	return out
}

// Decide turns an analysis into a plan. Every recommended action appears in the plan
// exactly once, in the canonical order of investigation.Actions; unknown actions are
// dropped (the analysis was validated before, so there are none in practice).
func Decide(p Policy, a investigation.Analysis, f investigation.ThreatFacts) Plan {
	plan := Plan{PolicyVersion: p.Version()}
	wanted := map[investigation.Action]bool{}
	for _, act := range a.RecommendedActions {
		wanted[act] = true
	}
	for _, act := range investigation.Actions {
		if !wanted[act] {
			continue
		}
		d, why := decideOne(p, a, f, act)
		plan.Steps = append(plan.Steps, Step{Action: act, Impact: ImpactOf(act), Disposition: d, Reason: why})
	}
	return plan
}

func decideOne(p Policy, a investigation.Analysis, f investigation.ThreatFacts, act investigation.Action) (Disposition, string) {
	os := strings.ToLower(f.OSType)
	windows := os == "windows" || os == "windows_legacy"
	switch {
	// Applicability first: these can never work, whatever anyone approves.
	case act == investigation.ActionRollback && !windows:
		return Skip, "rollback needs a Windows agent with VSS snapshots; this agent runs " + nonEmpty(f.OSType)
	case act == investigation.ActionRemediate && os == "linux":
		return Skip, "SentinelOne does not support remediate on Linux agents"
	case act == investigation.ActionIsolate && (f.NetworkStatus == "disconnected" || f.NetworkStatus == "disconnecting"):
		return Skip, "the agent is already isolated (" + f.NetworkStatus + ")"

	// Then the rollout mode and the verdict.
	case p.Mode == ModeRecommend:
		return Recommend, "policy mode is recommend: s1copilot does not act"
	case a.Verdict != investigation.VerdictTruePositive && a.Verdict != investigation.VerdictSuspicious:
		return Recommend, fmt.Sprintf("verdict is %s: no action without a confirmed threat", a.Verdict)
	case p.Mode == ModeApprove:
		return Approve, "policy mode is approve: every action needs a human"
	case a.Verdict == investigation.VerdictSuspicious:
		return Approve, "verdict is only suspicious"

	// Then the blast radius.
	case ImpactOf(act) != ImpactLow:
		return Approve, fmt.Sprintf("%s is %s impact", act, ImpactOf(act))
	case isServer(f.MachineType):
		return Approve, fmt.Sprintf("the agent is a %s: actions on servers need a human", f.MachineType)
	case a.Confidence < p.MinConfidence:
		return Approve, fmt.Sprintf("confidence %.2f is below the automatic threshold %.2f", a.Confidence, p.MinConfidence)
	case f.ConfidenceLevel != "malicious":
		return Approve, fmt.Sprintf("SentinelOne rates the threat %s, not malicious", nonEmpty(f.ConfidenceLevel))
	}
	return Auto, fmt.Sprintf("%s impact, true positive at confidence %.2f, SentinelOne rates it malicious", ImpactOf(act), a.Confidence)
}

// isServer is true for machine types whose disruption affects many users.
func isServer(machineType string) bool {
	switch machineType {
	case "server", "kubernetes node", "storage":
		return true
	}
	return false
}

func nonEmpty(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
