package activities

import (
	"time"

	"github.com/s1copilot/s1copilot/coalesce"
	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// Settings are the policy and timing of one investigation, handed to it through the
// GetSettings activity so that history records exactly what applied.
type Settings struct {
	// Policy decides every action; its VersionString is recorded with the investigation.
	Policy *policy.Policy `json:"policy"`
	// ApprovalTimeout is the policy's approvals.timeout, else the configuration's.
	ApprovalTimeout   time.Duration `json:"approvalTimeout"`
	MitigationTimeout time.Duration `json:"mitigationTimeout"`
	MitigationPoll    time.Duration `json:"mitigationPoll"`
	// S1TaskQueue carries every activity that calls SentinelOne, so that the one worker
	// process serving it makes every call and its client's per-class limits hold for the
	// whole fleet. Empty: the investigation's own task queue.
	S1TaskQueue string `json:"s1TaskQueue,omitempty"`
	// KillSwitch: the configuration or the control workflow turns every automatic action
	// into an approval. (The control workflow's switch is checked again when actions are
	// reserved, so flipping it reaches running investigations too.)
	KillSwitch bool `json:"killSwitch,omitempty"`
	// ModelConfigured: a model analyses threats, so context is worth gathering for it
	// (without one, gathering would spend the S1 task queue's budget for nothing).
	ModelConfigured bool `json:"modelConfigured,omitempty"`
	// Slack, when set, is where the investigation's message goes (ModelConfigured's
	// sibling: absent in histories that predate it, so those never post).
	Slack *SlackSettings `json:"slack,omitempty"`
	// Handoff, when set, is where the investigation's case goes (Slack's sibling: absent
	// in histories that predate it, so those never hand off).
	Handoff *HandoffSettings `json:"handoff,omitempty"`
	// EncryptedPayloads: the deployment encrypts payloads (S1C_CODEC_KEYS). Search
	// attributes are stored in clear, so the investigation then keeps host names out of
	// them (IDs and enums only). Absent in older histories, which replay as before.
	EncryptedPayloads bool `json:"encryptedPayloads,omitempty"`
}

// ReserveInput asks the control workflow to count actions (and check the caps for
// automatic ones). Step names the call within the investigation, so a retry counts once.
type ReserveInput struct {
	InvestigationID string                 `json:"investigationId"`
	Step            string                 `json:"step"`
	Actions         []investigation.Action `json:"actions"`
	Auto            bool                   `json:"auto"`
	Caps            policy.Caps            `json:"caps"`
}

// EnrichInput is a threat to enrich and, when the poller started the investigation,
// the facts of the threat as it had just listed it.
type EnrichInput struct {
	ThreatID string                     `json:"threatId"`
	Snapshot *investigation.ThreatFacts `json:"snapshot,omitempty"`
	// ReadAgain ignores the snapshot: a reset investigation reads the threat afresh.
	ReadAgain bool `json:"readAgain,omitempty"`
}

// NoteInput asks for one note on a threat. Marker makes the note idempotent: a note
// carrying it is posted at most once, however often the activity is retried.
type NoteInput struct {
	ThreatID string `json:"threatId"`
	Marker   string `json:"marker"`
	Text     string `json:"text"`
	// FirstPost: the investigation's first run posts this step's note (no reset, no
	// continued run), so the first attempt has no earlier note to look for.
	FirstPost bool `json:"firstPost,omitempty"`
	// Shareable: the note may go out as one note on several threats whose notes differ
	// only in OwnLines (an outbreak's investigations sharing an analysis and a plan);
	// OwnLines are the lines of Text that belong to this threat alone.
	Shareable bool     `json:"shareable,omitempty"`
	OwnLines  []string `json:"ownLines,omitempty"`
}

// NoteResult says whether this call posted the note or found it already there.
type NoteResult struct {
	AlreadyPosted bool `json:"alreadyPosted"`
	// Batch is the request the note went out in, when it was shared with other threats.
	Batch coalesce.Batch `json:"batch,omitzero"`
}

// MitigateInput asks SentinelOne to carry out one action.
type MitigateInput struct {
	ThreatID string               `json:"threatId"`
	AgentID  string               `json:"agentId"`
	Action   investigation.Action `json:"action"`
	// FirstRequest: the workflow knows nothing can have requested this action yet (its
	// first run, an automatic action on a threat that showed no action when read, and no
	// console change since). The first attempt then POSTs without reading first; a retry
	// always reads. Not for isolation, whose agent read stays.
	FirstRequest bool `json:"firstRequest,omitempty"`
	// Forensics says how to collect the forensic package (collect_forensics only).
	Forensics *ForensicsRequest `json:"forensics,omitempty"`
	// ParentTaskID is the collection task to verify (collect_forensics only, set from
	// MitigateResult.ParentTaskID).
	ParentTaskID string `json:"parentTaskId,omitempty"`
}

// ForensicsRequest is the script run for collect_forensics, chosen by the policy.
type ForensicsRequest struct {
	ScriptID    string        `json:"scriptId"`
	InputParams string        `json:"inputParams,omitempty"`
	Timeout     time.Duration `json:"timeout"`
	// Marker is written into the task's description, so that a retried (or reset)
	// investigation finds the execution it started in the activity log instead of
	// starting a second one.
	Marker string `json:"marker"`
	// Since bounds that search: no execution for this threat predates it.
	Since time.Time `json:"since"`
}

// Forensics is what became of a forensic collection: the task, its final status and
// where its package is (or why there is none).
type Forensics struct {
	ParentTaskID string `json:"parentTaskId"`
	TaskID       string `json:"taskId,omitempty"`
	Status       string `json:"status,omitempty"`
	// StatusDescription is the console's explanation of the status, when it gives one.
	StatusDescription string `json:"statusDescription,omitempty"`
	FileName          string `json:"fileName,omitempty"`
	DownloadURL       string `json:"downloadUrl,omitempty"`
	// NoFile says why there is no package link.
	NoFile string `json:"noFile,omitempty"`
}

// MitigateResult says what SentinelOne did with the request.
type MitigateResult struct {
	// AlreadyRequested: the action was already on the threat (an earlier attempt, the
	// agent's own policy, or an analyst) so nothing was POSTed again.
	AlreadyRequested bool `json:"alreadyRequested,omitempty"`
	// Refused: SentinelOne accepted nothing (skipped, not affected); the reason says why.
	Refused string `json:"refused,omitempty"`
	// Batch is the request the action went out in, with how many threats (or agents)
	// it carried; absent when nothing was sent.
	Batch coalesce.Batch `json:"batch,omitzero"`
	// ParentTaskID is the forensic collection's task (collect_forensics only).
	ParentTaskID string `json:"parentTaskId,omitempty"`
}

// VerifyInput asks for the settled state of one action.
type VerifyInput = MitigateInput

// VerifyResult is the settled state of one action: success, failed or pending-reboot.
type VerifyResult struct {
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	// Forensics is the collection's task and package (collect_forensics only).
	Forensics *Forensics `json:"forensics,omitempty"`
}

// WriteBackInput sets the threat's triage state in the console. AnalystVerdict may be
// empty (incident status only).
type WriteBackInput struct {
	ThreatID       string `json:"threatId"`
	IncidentStatus string `json:"incidentStatus"` // unresolved | in_progress | resolved
	AnalystVerdict string `json:"analystVerdict,omitempty"`
}

// Error types the workflow (and operators reading history) can rely on.
const (
	ErrTypeThreatNotFound = "ThreatNotFound"
	ErrTypeS1Refused      = "S1Refused" // 400/401/403: fix configuration or permissions
	ErrTypeModelOutput    = "InvalidModelOutput"
	ErrTypeModelRefused   = "ModelRefused" // 400/401/403/404 from the model endpoint
	ErrTypeNotSettled     = "MitigationPending"
	ErrTypeBadInput       = "BadInput"
)

// HandoffSettings are what an investigation needs to hand its case off (present only
// when S1C_HANDOFF_URL is set, and absent in histories that predate it, so those never
// hand off).
type HandoffSettings struct {
	// RetryFor bounds each delivery (config.Handoff.RetryFor).
	RetryFor time.Duration `json:"retryFor"`
	// InvestigationURL and ThreatURL are link templates ({workflowId}, {threatId}).
	InvestigationURL string `json:"investigationUrl,omitempty"`
	ThreatURL        string `json:"threatUrl,omitempty"`
}

// HandoffInput is one stage of a case and the key that makes its delivery idempotent.
type HandoffInput struct {
	Case           handoff.Case `json:"case"`
	IdempotencyKey string       `json:"idempotencyKey"`
}

// HandoffResult is the receiver's answer.
type HandoffResult struct {
	TicketID string `json:"ticketId,omitempty"`
	// Duplicate: the receiver had this stage already (an earlier attempt's answer was lost).
	Duplicate bool `json:"duplicate,omitempty"`
}

// TicketInput writes a receiver's ticket ID to the threat.
type TicketInput struct {
	ThreatID string `json:"threatId"`
	TicketID string `json:"ticketId"`
}
