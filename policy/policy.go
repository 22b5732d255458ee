// Package policy is s1copilot's governance engine: it decides what s1copilot may do about
// a threat. The model recommends; only this package decides.
//
// A policy is a YAML file a CISO can read (see examples/policy.yaml, also embedded as
// ExampleYAML). Parse and LoadFile read it strictly — unknown keys, bad values and dangling
// role references are all reported at once, each with file:line:col and the field path —
// and Store reloads it when it changes. The decision itself, Decide, is a pure,
// deterministic function of the Policy and the Inputs: no I/O, no clock, no map iteration,
// so it runs inside the Temporal workflow. A Policy travels through workflow history as
// JSON and round-trips through encoding/json exactly.
//
// # Decision order
//
// Decide looks at every recommended action once, in the canonical order of
// investigation.Actions (unknown and duplicate actions are dropped), and applies these
// steps; the first one that settles the action wins, later ones can only make it stricter.
//
//  1. Applicability — never acts, whatever anyone says: rollback only on windows and
//     windows_legacy agents, remediate not on linux, isolate not when the agent is already
//     disconnected or disconnecting, and neither quarantine nor remediate when the
//     threat's file is a protected file (protectedFiles: path globs, optionally with the
//     signers one of which must have signed it, e.g. Windows' own binaries) → Skip, the
//     Reason naming the file and the entry. collect_forensics only where forensics.scripts
//     names a script for the agent's OS.
//  2. Verdict — anything but true_positive or suspicious → Recommend ("no action without a
//     confirmed threat").
//  3. Base mode — the action's own mode (actions.<action>.mode, else the global mode), then
//     the FIRST rule whose conditions match and that names the action (or names no action,
//     meaning all) overrides it. Mode off → Skip (there is no separate "off" disposition:
//     the Step's Reason says the policy turned the action off and Rule says which entry);
//     recommend → Recommend. collect_forensics is approve by default: an auto reaches it
//     only from actions.collect_forensics or a rule that names it.
//  4. Protected assets — the first matching protected entry that names the action (or all)
//     forces its mode, approve or off, and its approvers, whatever the rules said. It only
//     tightens: auto becomes approve, approve stays approve (with the protected entry's
//     approvers), anything becomes off if it says off; it never turns a recommend into an
//     approve. "auto" never survives a protected match: a model that wants to isolate a
//     domain controller at confidence 1.0 still waits for a human.
//  5. Auto guards — auto stays auto only if the verdict is true_positive, the analysis
//     confidence is at least the deciding rule's when.minConfidence (if set, else the
//     policy's minConfidence), and SentinelOne rates the threat malicious — unless the
//     deciding rule names S1 confidence levels in its conditions, in which case the rule
//     already said which levels it accepts. Otherwise → Approve, with the reason.
//  6. Kill switch — Inputs.KillSwitch turns every remaining auto into Approve.
//  7. Caps — an automatic isolation when Usage.IsolationsLastHour ≥ caps.isolationsPerHour
//     or Usage.IsolationsLastDay ≥ caps.isolationsPerDay, and any automatic action when
//     Usage.AutoActionsLastMinute plus the automatic actions earlier in this plan ≥
//     caps.autoActionsPerMinute → Approve ("cap reached: …"). A cap of 0 is no cap. Usage
//     counts actions already taken; the caller supplies it and must reserve the capacity an
//     automatic plan uses (count its automatic actions before carrying them out), or two
//     workers deciding at once can both slip under the cap.
//  8. Approvers — an Approve step carries the roles that may approve it: those of the
//     matching protected entry, else of the deciding rule, else of actions.<action>, else
//     every role of the policy. Authorize checks an approver against them.
//
// # Conditions
//
// A rule or protected entry matches when every condition it sets matches (AND); a list
// matches when any of its entries matches (OR). Strings compare case-insensitively, except
// site IDs. computerNames are globs (* any run of characters, ? one character) matched
// against the agent's computer name. clusters, namespaces and images are such globs
// matched against the Kubernetes cluster, namespace and container image the threat ran
// in; a threat without one (an ordinary endpoint, a container outside Kubernetes for
// clusters and namespaces) does not match a condition that sets it. tags are "key=value", matched against the threat's
// tags "key=value" or "scope:key=value". when.minConfidence is not a filter: it is the
// confidence an automatic action decided by that rule needs (step 5).
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

// Mode says how far s1copilot may go on its own for an action.
type Mode string

const (
	// ModeOff never carries the action out and does not suggest it either (Skip).
	ModeOff Mode = "off"
	// ModeRecommend writes notes only and never acts.
	ModeRecommend Mode = "recommend"
	// ModeApprove asks a human before the action.
	ModeApprove Mode = "approve"
	// ModeAuto lets the action run alone when the auto guards hold; otherwise it needs approval.
	ModeAuto Mode = "auto"
)

// Modes lists every mode, strictest first.
var Modes = []Mode{ModeOff, ModeRecommend, ModeApprove, ModeAuto}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	return m == ModeOff || m == ModeRecommend || m == ModeApprove || m == ModeAuto
}

// strictness orders modes: a larger value lets s1copilot do less on its own.
func (m Mode) strictness() int {
	switch m {
	case ModeAuto:
		return 0
	case ModeApprove:
		return 1
	case ModeRecommend:
		return 2
	default:
		return 3
	}
}

// Impact is how much an action disrupts the business if it is wrong.
type Impact string

const (
	ImpactLow    Impact = "low"    // kill a process, quarantine a file: reversible, local
	ImpactMedium Impact = "medium" // remediate: deletes what the threat changed
	ImpactHigh   Impact = "high"   // rollback, network isolation: the host or its data change for everyone
	// ImpactCollection runs a script on the host and uploads what it gathers: nothing is
	// undone or cut off, but it executes code and moves data off the host.
	ImpactCollection Impact = "collection"
)

// ImpactOf classifies an action.
func ImpactOf(a investigation.Action) Impact {
	switch a {
	case investigation.ActionKill, investigation.ActionQuarantine:
		return ImpactLow
	case investigation.ActionRemediate:
		return ImpactMedium
	case investigation.ActionCollectForensics:
		return ImpactCollection
	default:
		return ImpactHigh
	}
}

// Disposition is what the policy allows for one action.
type Disposition string

const (
	// Auto: carry it out without a human.
	Auto Disposition = "auto"
	// Approve: carry it out only after a human in one of the step's Approvers roles approves.
	Approve Disposition = "approve"
	// Recommend: mention it in the note; never carry it out.
	Recommend Disposition = "recommend"
	// Skip: not carried out and not offered — either not applicable to this threat (e.g.
	// rollback on Linux) or turned off by the policy (mode off); the Reason says which.
	Skip Disposition = "skip"
)

// Policy is the governance configuration a decision depends on. Build it with Parse,
// LoadFile, Store or Default; a hand-built Policy gets no validation.
type Policy struct {
	// Version is the author's name for this revision of the policy, e.g. "2026-06-01.1".
	Version string `json:"version"`
	// Digest is the hex SHA-256 of the policy's source (the file's bytes).
	Digest string `json:"digest,omitempty"`
	// Mode is the mode of every action that does not set its own.
	Mode Mode `json:"mode"`
	// MinConfidence is the analysis confidence an automatic action needs, unless the
	// deciding rule sets its own.
	MinConfidence float64 `json:"minConfidence"`
	// Approvals says how long an approval may take and who is reminded.
	Approvals Approvals `json:"approvals"`
	// Roles maps a role name to its members (approver identities, e.g. e-mail addresses).
	Roles map[string][]string `json:"roles,omitempty"`
	// Actions sets the mode, approvers and reason per action.
	Actions map[investigation.Action]ActionRule `json:"actions,omitempty"`
	// Rules override the actions' modes; the first matching rule wins.
	Rules []Rule `json:"rules,omitempty"`
	// Protected assets force approve or off whatever the rules say; the first match wins.
	Protected []Protected `json:"protected,omitempty"`
	// ProtectedFiles are never quarantined nor remediated, whatever recommends it.
	ProtectedFiles []ProtectedFile `json:"protectedFiles,omitempty"`
	// Caps bound automatic actions; over a cap, actions wait for approval.
	Caps Caps `json:"caps"`
	// Disagreements says who settles a model's disagreement with SentinelOne or the
	// rules, and whether automatic actions wait for that too. A disagreement always
	// goes to a human: nothing here lets a model's lower verdict stand alone.
	Disagreements Disagreements `json:"disagreements,omitzero"`
	// Identity says how approvers prove who they are (package identity).
	Identity Identity `json:"identity,omitzero"`
	// Forensics says which script collects the forensic package on each OS.
	Forensics Forensics `json:"forensics,omitzero"`
	// KillSwitchRoles may turn the kill switch on or off from Slack; empty: every role.
	KillSwitchRoles []string `json:"killSwitchRoles,omitempty"`
}

// Identity is how a decision's approver is authenticated: by their own ed25519 key
// (starter approve --key), or by Slack, vouched for by the bot's key. Public keys only:
// the policy travels through workflow history.
type Identity struct {
	// RequireSigned refuses decisions that carry no valid signature (a raw temporal
	// workflow signal, starter without --key). Off in the demo's policy.
	RequireSigned bool `json:"requireSigned,omitempty"`
	// ApproverKeys maps an approver identity (as in roles) to its public key,
	// "ed25519:<base64>" (starter keygen prints it).
	ApproverKeys map[string]string `json:"approverKeys,omitempty"`
	// SlackBotKey is the Slack bot's public key: decisions it signs are Slack's.
	SlackBotKey string `json:"slackBotKey,omitempty"`
	// SlackUsers maps a Slack user ID to an approver identity, ahead of the user's
	// verified e-mail.
	SlackUsers map[string]string `json:"slackUsers,omitempty"`
}

// Disagreements configures the review of a model that reads a threat lower than
// SentinelOne or the rules engine (investigation.Disagreement).
type Disagreements struct {
	// Approvers are the roles that may settle one; empty means every role.
	Approvers []string `json:"approvers,omitempty"`
	// HoldAutomatic makes the plan's automatic actions wait for that decision too.
	// Off by default: containment SentinelOne's reading supports runs at once, so a
	// manipulated model cannot delay it either.
	HoldAutomatic bool `json:"holdAutomatic,omitempty"`
}

// Approvals configures how approvals are chased. A zero Duration is "not set": the caller
// uses its own default (for Timeout) or does not remind/escalate.
type Approvals struct {
	Timeout       Duration `json:"timeout,omitempty"`
	ReminderAfter Duration `json:"reminderAfter,omitempty"`
	EscalateAfter Duration `json:"escalateAfter,omitempty"`
	// EscalateTo names the roles told when an approval is still pending after EscalateAfter.
	EscalateTo []string `json:"escalateTo,omitempty"`
}

// ActionRule is the policy for one action before rules and protected assets apply.
type ActionRule struct {
	// Mode is the action's mode; empty means the policy's global Mode.
	Mode Mode `json:"mode,omitempty"`
	// Approvers are the roles that may approve the action; empty means every role.
	Approvers []string `json:"approvers,omitempty"`
	// Reason is shown in the note when this entry decides.
	Reason string `json:"reason,omitempty"`
}

// Conditions select threats. Every condition that is set must match; a list matches when
// any entry does. Empty Conditions match every threat.
type Conditions struct {
	Verdicts []investigation.Verdict `json:"verdicts,omitempty"`
	// MinConfidence is not a filter: it is the confidence an automatic action decided by
	// this rule needs (decision step 5). Not allowed in protected entries.
	MinConfidence *float64 `json:"minConfidence,omitempty"`
	// S1Confidence lists SentinelOne confidence levels: malicious, suspicious, n/a.
	S1Confidence []string `json:"s1Confidence,omitempty"`
	MachineTypes []string `json:"machineTypes,omitempty"`
	OSTypes      []string `json:"osTypes,omitempty"`
	SiteIDs      []string `json:"siteIds,omitempty"`
	GroupNames   []string `json:"groupNames,omitempty"`
	// Tags are "key=value", matched against ThreatFacts.Tags "key=value" or "scope:key=value".
	Tags []string `json:"tags,omitempty"`
	// ComputerNames are globs (* and ?), case-insensitive, matched against the agent's name.
	ComputerNames []string `json:"computerNames,omitempty"`
	// Clusters, Namespaces and Images are globs like ComputerNames, matched against the
	// threat's Kubernetes cluster, namespace and container image (ThreatFacts.Workload).
	// A threat without that field (an ordinary endpoint) never matches them.
	Clusters   []string `json:"clusters,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
	Images     []string `json:"images,omitempty"`
}

// Rule overrides the mode of some actions for the threats its conditions select.
type Rule struct {
	Name string     `json:"name"`
	When Conditions `json:"when"`
	// Actions the rule applies to; empty means all.
	Actions []investigation.Action `json:"actions,omitempty"`
	Mode    Mode                   `json:"mode"`
	// Approvers are the roles that may approve what this rule decides; empty falls back
	// to the action's approvers.
	Approvers []string `json:"approvers,omitempty"`
	Reason    string   `json:"reason,omitempty"`
}

// Protected is an asset s1copilot must never act on alone.
type Protected struct {
	Name string     `json:"name"`
	When Conditions `json:"when"`
	// Actions the entry applies to; empty means all.
	Actions []investigation.Action `json:"actions,omitempty"`
	// Mode is approve or off.
	Mode      Mode     `json:"mode"`
	Approvers []string `json:"approvers,omitempty"`
	Reason    string   `json:"reason,omitempty"`
}

// Caps bound automatic actions across the fleet. 0 means no cap.
type Caps struct {
	IsolationsPerHour    int `json:"isolationsPerHour,omitempty"`
	IsolationsPerDay     int `json:"isolationsPerDay,omitempty"`
	AutoActionsPerMinute int `json:"autoActionsPerMinute,omitempty"`
}

// Usage counts automatic actions already taken, as supplied by the caller.
type Usage struct {
	IsolationsLastHour    int `json:"isolationsLastHour"`
	IsolationsLastDay     int `json:"isolationsLastDay"`
	AutoActionsLastMinute int `json:"autoActionsLastMinute"`
}

// Inputs is everything a decision depends on besides the policy.
type Inputs struct {
	Analysis investigation.Analysis    `json:"analysis"`
	Facts    investigation.ThreatFacts `json:"facts"`
	Usage    Usage                     `json:"usage"`
	// KillSwitch, when on, sends every automatic action to approval.
	KillSwitch bool `json:"killSwitch"`
}

// Step is the decision for one action, with the reason a human reads in the note.
type Step struct {
	Action      investigation.Action `json:"action"`
	Impact      Impact               `json:"impact"`
	Disposition Disposition          `json:"disposition"`
	Reason      string               `json:"reason"`
	// Rule names the rule or protected entry that decided the mode, or "default" (the
	// global mode or the action's own entry). Empty for steps settled by applicability or
	// the verdict.
	Rule string `json:"rule,omitempty"`
	// Approvers are the roles that may approve an Approve step.
	Approvers []string `json:"approvers,omitempty"`
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

// VersionString identifies the policy, "<version> (sha256:<first 12 of digest>)"; it is
// recorded with every investigation (Plan.PolicyVersion). A hand-built policy without a
// Digest gets one computed from its JSON encoding.
func (p *Policy) VersionString() string {
	if p == nil {
		return "no policy"
	}
	d := p.Digest
	if d == "" {
		d = p.contentDigest()
	}
	if len(d) > 12 {
		d = d[:12]
	}
	return fmt.Sprintf("%s (sha256:%s)", p.Version, d)
}

// contentDigest hashes the policy's JSON (without its Digest). encoding/json sorts map
// keys, so the result is deterministic.
func (p *Policy) contentDigest() string {
	c := *p
	c.Digest = ""
	b, err := json.Marshal(c)
	if err != nil { // cannot happen: every field is marshalable
		return "unknown"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Default is the builtin policy, the one used when no policy file is configured. It
// reproduces s1copilot's original decisions, except that Windows' own binaries signed by
// Microsoft under System32 and SysWOW64 are protected files in every mode:
//   - mode recommend: nothing acts; mode approve: every action needs a human; mode off:
//     nothing is offered.
//   - mode auto: kill and quarantine (low impact) run alone on a true positive at
//     minConfidence or more that SentinelOne rates malicious, except on servers,
//     kubernetes nodes and storage; remediate, rollback and isolate always need a human;
//     a suspicious verdict always needs a human.
//
// It defines no roles, so any approver may approve (see Authorize).
func Default(mode Mode, minConfidence float64) *Policy {
	p := &Policy{
		Version:        fmt.Sprintf("builtin-v2 mode=%s min-confidence=%.2f", mode, minConfidence),
		Mode:           mode,
		MinConfidence:  minConfidence,
		ProtectedFiles: defaultProtectedFiles(),
	}
	if mode == ModeAuto {
		p.Actions = map[investigation.Action]ActionRule{}
		for _, a := range investigation.Actions {
			r := ActionRule{Reason: fmt.Sprintf("%s is %s impact", a, ImpactOf(a))}
			if ImpactOf(a) != ImpactLow {
				r.Mode = ModeApprove
			}
			p.Actions[a] = r
		}
		p.Rules = []Rule{
			{
				Name:   "suspicious verdicts",
				When:   Conditions{Verdicts: []investigation.Verdict{investigation.VerdictSuspicious}},
				Mode:   ModeApprove,
				Reason: "verdict is only suspicious",
			},
			{
				Name:    "servers",
				When:    Conditions{MachineTypes: []string{"server", "kubernetes node", "storage"}},
				Actions: []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine},
				Mode:    ModeApprove,
				Reason:  "the agent is a server, kubernetes node or storage: actions on servers need a human",
			},
		}
	}
	p.Digest = p.contentDigest()
	return p
}

// Duration is a time.Duration that reads and writes as a Go duration string such as "24h".
type Duration time.Duration

// String formats d without trailing zero units: "24h", "2h30m", "90s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "24h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"24h\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
