package workflows

import (
	"time"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// Input starts an investigation. It is deliberately tiny: everything else is fetched.
type Input struct {
	ThreatID string `json:"threatId"`
}

// Stage is where an investigation stands; shown as the S1Stage search attribute.
type Stage string

const (
	StageEnriching        Stage = "enriching"
	StageAnalyzing        Stage = "analyzing"
	StageDeciding         Stage = "deciding"
	StageMitigating       Stage = "mitigating"
	StageAwaitingApproval Stage = "awaiting-approval"
	StageVerifying        Stage = "verifying"
	StageReporting        Stage = "reporting"
	StageDone             Stage = "done"
)

// Outcome is how an investigation ended; shown as the S1Outcome search attribute.
type Outcome string

const (
	// OutcomeMitigated: every action carried out was verified successful.
	OutcomeMitigated Outcome = "mitigated"
	// OutcomePartiallyMitigated: some actions succeeded, others failed or never settled.
	OutcomePartiallyMitigated Outcome = "partially_mitigated"
	// OutcomeMitigationFailed: actions were carried out and none succeeded.
	OutcomeMitigationFailed Outcome = "mitigation_failed"
	// OutcomeRecommended: nothing to carry out; the notes carry the recommendation.
	OutcomeRecommended Outcome = "recommended"
	// OutcomeRejected: a human rejected the actions and none ran.
	OutcomeRejected Outcome = "rejected"
	// OutcomeApprovalTimedOut: nobody decided before the deadline; no action was taken.
	OutcomeApprovalTimedOut Outcome = "approval_timed_out"
	// OutcomeError: the investigation could not complete; a human must look (the
	// workflow fails with the reason).
	OutcomeError Outcome = "error"
)

// Decision is a human's answer to an approval request.
type Decision struct {
	Approved bool   `json:"approved"`
	Approver string `json:"approver"`
	Reason   string `json:"reason,omitempty"`
	// Channel says where the decision came from: cli, starter, slack, api.
	Channel string `json:"channel,omitempty"`
}

// ActionState is the verified state of one action.
type ActionState string

const (
	ActionSucceeded     ActionState = "success"
	ActionFailed        ActionState = "failed"
	ActionPendingReboot ActionState = "pending-reboot"
	// ActionTimedOut: accepted by SentinelOne but never settled before the deadline
	// (e.g. rollback on an agent without VSS). Never reported as success.
	ActionTimedOut ActionState = "timed_out"
	// ActionRefused: SentinelOne refused or skipped the request.
	ActionRefused ActionState = "refused"
	// ActionNotTaken: the action needed an approval that was refused or never came.
	ActionNotTaken ActionState = "not_taken"
)

// ActionResult is what happened to one action.
type ActionResult struct {
	Action      investigation.Action `json:"action"`
	Disposition policy.Disposition   `json:"disposition"`
	State       ActionState          `json:"state"`
	Detail      string               `json:"detail,omitempty"`
}

// Status answers the status query.
type Status struct {
	ThreatID string                  `json:"threatId"`
	Stage    Stage                   `json:"stage"`
	Analysis *investigation.Analysis `json:"analysis,omitempty"`
	Plan     *policy.Plan            `json:"plan,omitempty"`
	// AwaitingApproval lists the actions waiting for a human, with the deadline.
	AwaitingApproval []investigation.Action `json:"awaitingApproval,omitempty"`
	ApprovalDeadline time.Time              `json:"approvalDeadline,omitempty"`
	Decision         *Decision              `json:"decision,omitempty"`
	Actions          []ActionResult         `json:"actions,omitempty"`
	Outcome          Outcome                `json:"outcome,omitempty"`
}

// Result is the investigation's result, kept small.
type Result struct {
	ThreatID         string                `json:"threatId"`
	Outcome          Outcome               `json:"outcome"`
	Verdict          investigation.Verdict `json:"verdict"`
	Analyzer         string                `json:"analyzer"`
	PolicyVersion    string                `json:"policyVersion"`
	Decision         *Decision             `json:"decision,omitempty"`
	ApprovalTimedOut bool                  `json:"approvalTimedOut,omitempty"`
	Actions          []ActionResult        `json:"actions,omitempty"`
}
