package workflows

import (
	"fmt"
	"time"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/coalesce"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// Input starts an investigation. It is deliberately tiny: everything else is fetched.
type Input struct {
	ThreatID string `json:"threatId"`
	// Snapshot is the threat as the poller listed it when it started the investigation
	// (absent when started otherwise, and in histories from before it existed).
	Snapshot *investigation.ThreatFacts `json:"snapshot,omitempty"`
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
	// OutcomeResolvedInConsole: an analyst resolved the threat in the SentinelOne console
	// (or marked it benign) before s1copilot acted; the pending actions were not taken.
	OutcomeResolvedInConsole Outcome = "resolved_in_console"
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
	// RequestID is the caller's idempotency key (a Slack interaction, a CLI request): a
	// decision sent again with the same key is the same decision, not a second one.
	RequestID string `json:"requestId,omitempty"`
	// Actions, when set, approves with changes: only these actions are carried out, the
	// other pending ones are not. An action outside the plan is accepted only if the
	// policy would allow it here with an approval. Empty: every pending action.
	Actions []investigation.Action `json:"actions,omitempty"`

	// Proof of the approver's identity (package identity). Signature is over
	// Statement(workflowID) with the key of Signer: the approver's own key when Signer
	// is empty, the Slack bot's (identity.SlackBotSigner) for SlackUser.
	SignedAt  time.Time `json:"signedAt,omitzero"`
	Signature string    `json:"signature,omitempty"`
	Signer    string    `json:"signer,omitempty"`
	SlackUser string    `json:"slackUser,omitempty"`
	// Identity is how the approver's identity was established (identity.Method*),
	// set by the investigation when it accepts the decision, never taken from the sender.
	Identity string `json:"identity,omitempty"`
}

// Statement is what a signed decision's signature covers.
func (d Decision) Statement(workflowID string) identity.Statement {
	actions := make([]string, len(d.Actions))
	for i, a := range d.Actions {
		actions[i] = string(a)
	}
	return identity.Statement{WorkflowID: workflowID, Approved: d.Approved, Approver: d.Approver, Actions: actions,
		Reason: d.Reason, RequestID: d.RequestID, SlackUser: d.SlackUser, SignedAt: d.SignedAt}
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
	// Batch is the SentinelOne request that carried the action (activities.MitigateResult).
	Batch coalesce.Batch `json:"batch,omitzero"`
	// Forensics is the collection's task, final status and package (collect_forensics).
	Forensics *activities.Forensics `json:"forensics,omitempty"`
}

// ConsoleState is the triage state of the threat in the SentinelOne console.
type ConsoleState struct {
	// UpdatedAt is SentinelOne's updatedAt of the threat (when reported by the poller),
	// or when s1copilot wrote the state.
	UpdatedAt        time.Time `json:"updatedAt,omitzero"`
	IncidentStatus   string    `json:"incidentStatus,omitempty"`   // unresolved | in_progress | resolved
	AnalystVerdict   string    `json:"analystVerdict,omitempty"`   // undefined | true_positive | false_positive | suspicious
	MitigationStatus string    `json:"mitigationStatus,omitempty"` // not_mitigated | mitigated | marked_as_benign
	// Source says how the investigation knows this state (ConsoleRead, ConsoleReported,
	// ConsoleWritten); empty in a poller's report.
	Source string `json:"source,omitempty"`
}

// Where a ConsoleState comes from.
const (
	// ConsoleRead: the investigation read the threat when it began.
	ConsoleRead = "read at enrichment"
	// ConsoleReported: the poller reported a change.
	ConsoleReported = "reported by the poller"
	// ConsoleWritten: s1copilot wrote it back (not read back since).
	ConsoleWritten = "written by s1copilot"
)

// ClosedByAnalyst reports whether a human closed the threat in the console: resolved,
// false positive or marked benign. s1copilot never acts on such a threat.
func (c ConsoleState) ClosedByAnalyst() bool {
	return c.IncidentStatus == "resolved" || c.AnalystVerdict == "false_positive" || c.MitigationStatus == "marked_as_benign"
}

func (c ConsoleState) summary() string {
	return fmt.Sprintf("incident status %s, analyst verdict %s, mitigation status %s", orNone(c.IncidentStatus), orNone(c.AnalystVerdict), orNone(c.MitigationStatus))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Status answers the status query.
type Status struct {
	ThreatID string                  `json:"threatId"`
	Stage    Stage                   `json:"stage"`
	Analysis *investigation.Analysis `json:"analysis,omitempty"`
	Plan     *policy.Plan            `json:"plan,omitempty"`
	// AwaitingApproval lists the actions waiting for a human, with the deadline.
	AwaitingApproval []investigation.Action `json:"awaitingApproval,omitempty"`
	// Review says what a human is asked to settle besides actions: the model's
	// reading against SentinelOne's (Analysis.Disagreement).
	Review           string         `json:"review,omitempty"`
	ApprovalDeadline time.Time      `json:"approvalDeadline,omitempty"`
	Decision         *Decision      `json:"decision,omitempty"`
	Actions          []ActionResult `json:"actions,omitempty"`
	Outcome          Outcome        `json:"outcome,omitempty"`
	// Console is the threat's console state as the investigation last read, was told
	// or wrote it; its Source says which.
	Console *ConsoleState `json:"console,omitempty"`
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
	// ClosedInConsole: an analyst closed the threat in the console before s1copilot acted.
	ClosedInConsole bool           `json:"closedInConsole,omitempty"`
	Actions         []ActionResult `json:"actions,omitempty"`
	// Wrote are the console states the investigation wrote back, in order (for analyst
	// feedback: the poller tells them from an analyst's own changes).
	// Always present (an empty list when nothing was written), unlike in results of
	// investigations that predate it.
	Wrote []feedback.Write `json:"wrote"`
	// Slack says why the investigation's Slack message could not be posted or kept
	// up to date; empty when it was, or when there is none.
	Slack string `json:"slack,omitempty"`
	// Injection says, in one line, that the threat's data held suspected prompt
	// injection and what the guard did (empty when none was suspected), so that the
	// outcome note repeats it for an analyst who reads only the last note.
	Injection string `json:"injection,omitempty"`
	// Handoff says what became of the case hand-off (each stage delivered, with the
	// ticket, or why not); TicketID is the receiver's ticket, written to the threat.
	Handoff  string `json:"handoff,omitempty"`
	TicketID string `json:"ticketId,omitempty"`
}
