// Package audit is s1copilot's append-only audit trail: one JSON object per line, one
// line per decision and action, ready for a SIEM to ingest.
//
// Records are written by activities (never by workflow code), so a retried activity may
// write the same record twice. Every record therefore carries a deterministic ID —
// the investigation (workflow) ID, "/", and a step name — and a SIEM drops duplicates on
// it. The caller also supplies the time, from the activity's clock.
//
// Secrets must never reach the log. Record has no free-form map, and as defence in depth
// Writer.Write refuses (writing nothing) any record whose string fields look like they
// carry a credential, or contain one of the values registered in Writer.Deny.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

// Kind is what a record is about.
type Kind string

const (
	// KindTriage records the analysis of a threat (verdict, confidence, analyzer).
	KindTriage Kind = "triage"
	// KindDecision records the policy's plan for an action (auto/approve/recommend/skip).
	KindDecision Kind = "decision"
	// KindApprovalRequested records that a human was asked to approve an action.
	KindApprovalRequested Kind = "approval_requested"
	// KindApproval records a human's decision (approved/rejected); Actor is the approver.
	KindApproval Kind = "approval"
	// KindApprovalRefused records an unauthorised or invalid approval that was refused.
	KindApprovalRefused Kind = "approval_refused"
	// KindActionRequested records that a mitigation action was sent to SentinelOne.
	KindActionRequested Kind = "action_requested"
	// KindActionVerified records the observed outcome of an action (success/failed/timed_out…).
	KindActionVerified Kind = "action_verified"
	// KindWriteback records a verdict or incident-status write-back to SentinelOne.
	KindWriteback Kind = "writeback"
	// KindNote records a note added to the threat.
	KindNote Kind = "note"
	// KindKillSwitch records that the kill switch stopped an action.
	KindKillSwitch Kind = "kill_switch"
	// KindAnalystFeedback records a human's verdict on the copilot's: a console change of
	// the analyst verdict or incident status, or a rejected recommendation. Decision is
	// the agreement (agree | disagree | n_a), Channel the source (console | approval),
	// Verdict and Analyzer the copilot's (see package feedback).
	KindAnalystFeedback Kind = "analyst_feedback"
	// KindSlackRequest records a request the Slack bot handled (package slackbot): a
	// click, a form, a slash command, or a request it refused (bad signature, replay).
	// Actor is the approver or the Slack user ID, Channel "slack", Decision accepted |
	// refused, Action what was asked. InvestigationID is the investigation's workflow ID
	// when the request concerns one, else "slackbot"; ThreatID is empty when it
	// concerns no threat.
	KindSlackRequest Kind = "slack_request"
	// KindHunt records a hunt (a Deep Visibility query asked in words): Actor is who
	// asked, Channel where (cli | slack), Action the question, Reason the query,
	// Analyzer the translator, Decision the outcome (finished | refused |
	// not_confirmed | failed…) and HuntEvents the events found. InvestigationID is the
	// hunt's workflow ID; ThreatID is empty (a hunt concerns no one threat).
	KindHunt Kind = "hunt"
	// KindHandoff records a case handed to the SOAR or ticketing system (delivered or
	// not), with the receiver's TicketID.
	KindHandoff Kind = "handoff"
)

// Kinds lists every known Kind.
var Kinds = []Kind{
	KindTriage, KindDecision, KindApprovalRequested, KindApproval, KindApprovalRefused,
	KindActionRequested, KindActionVerified, KindWriteback, KindNote, KindKillSwitch,
	KindAnalystFeedback, KindSlackRequest, KindHunt, KindHandoff,
}

// Valid reports whether k is a known Kind.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// SystemActor is the Actor of records written on s1copilot's own behalf.
const SystemActor = "s1copilot"

// Record is one line of the audit log. Its JSON field names are the SIEM schema: do not
// rename them.
type Record struct {
	// Time is set by the caller (the activity clock); it is written in UTC.
	Time time.Time `json:"time"`
	// ID is deterministic — InvestigationID + "/" + step (see RecordID) — so a SIEM can
	// drop duplicates written by a retried activity.
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// InvestigationID is the workflow ID.
	InvestigationID string `json:"investigationId"`
	RunID           string `json:"runId,omitempty"`
	ThreatID        string `json:"threatId"`
	AgentID         string `json:"agentId,omitempty"`
	PolicyVersion   string `json:"policyVersion,omitempty"`
	// Actor is SystemActor or the approver's identity.
	Actor   string `json:"actor"`
	Channel string `json:"channel,omitempty"`
	// Identity is how an approver's identity was established (package identity):
	// slack, signed-cli or "unsigned claim".
	Identity string `json:"identity,omitempty"`
	Action   string `json:"action,omitempty"`
	// Decision is auto/approve/recommend/skip, approved/rejected, success/failed/timed_out…
	Decision string `json:"decision,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// InputsDigest is the Digest of the inputs that led to this record.
	InputsDigest string   `json:"inputsDigest,omitempty"`
	Analyzer     string   `json:"analyzer,omitempty"`
	Verdict      string   `json:"verdict,omitempty"`
	Confidence   *float64 `json:"confidence,omitempty"`
	// AnalystVerdict and IncidentStatus are the console's, on analyst_feedback records.
	AnalystVerdict string `json:"analystVerdict,omitempty"`
	IncidentStatus string `json:"incidentStatus,omitempty"`
	// ModelUsage is what the model analysis cost (triage records; absent when no
	// model was asked, or the analysis was reused from the cache).
	ModelUsage *investigation.ModelUsage `json:"modelUsage,omitempty"`
	// Batch is the SentinelOne request an action went out in (action records), shared
	// with BatchSize-1 other threats' actions when the worker coalesced them; absent
	// when nothing was sent.
	Batch     string `json:"batch,omitempty"`
	BatchSize int    `json:"batchSize,omitempty"`
	// Forensics is a forensic collection's task and package (collect_forensics records).
	Forensics *Forensics `json:"forensics,omitempty"`
	// TicketID is the ticket a SOAR or ticketing system opened for the case (handoff records).
	TicketID string `json:"ticketId,omitempty"`
	// HuntEvents is how many events a hunt found (hunt records only).
	HuntEvents *int `json:"huntEvents,omitempty"`
	// ThreatCreatedAt is when SentinelOne created the threat (triage records; absent in
	// records written before it existed): the start of the time to triage and to
	// respond that the weekly report measures (package report).
	ThreatCreatedAt time.Time `json:"threatCreatedAt,omitzero"`
}

// RecordID builds the deterministic record ID for a step of an investigation.
func RecordID(investigationID, step string) string {
	return investigationID + "/" + step
}

// Validate checks that the required fields (id, kind, investigationId, threatId — but
// on slack_request and hunt records —, actor, time) are set, that the kind is known, that the ID belongs to the investigation, and
// that a confidence, if any, lies in [0, 1]. The error lists every problem at once.
func (r Record) Validate() error {
	var missing []string
	if r.ID == "" {
		missing = append(missing, "id")
	}
	if r.Kind == "" {
		missing = append(missing, "kind")
	}
	if r.InvestigationID == "" {
		missing = append(missing, "investigationId")
	}
	if r.ThreatID == "" && r.Kind != KindSlackRequest && r.Kind != KindHunt { // a slash command, a refused request or a hunt concerns no threat
		missing = append(missing, "threatId")
	}
	if r.Actor == "" {
		missing = append(missing, "actor")
	}
	if r.Time.IsZero() {
		missing = append(missing, "time")
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "missing "+strings.Join(missing, ", "))
	}
	if r.Kind != "" && !r.Kind.Valid() {
		problems = append(problems, fmt.Sprintf("unknown kind %q", r.Kind))
	}
	if r.ID != "" && r.InvestigationID != "" && !strings.HasPrefix(r.ID, r.InvestigationID+"/") {
		problems = append(problems, fmt.Sprintf("id %q is not %q + \"/\" + step", r.ID, r.InvestigationID))
	}
	if c := r.Confidence; c != nil && (math.IsNaN(*c) || *c < 0 || *c > 1) {
		problems = append(problems, fmt.Sprintf("confidence %v is outside [0, 1]", *c))
	}
	if len(problems) == 0 {
		return nil
	}
	id := r.ID
	if id == "" {
		id = "(no id)"
	}
	return fmt.Errorf("audit: invalid record %s: %s", id, strings.Join(problems, "; "))
}

// Sink receives audit records.
type Sink interface {
	Write(ctx context.Context, r Record) error
}

// Digest returns "sha256:<hex>" of the JSON encoding of v. encoding/json writes struct
// fields in declaration order and sorts map keys, so equal values have equal digests
// whatever the order their maps were filled in.
func Digest(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Multi returns a Sink that writes each record to every sink (nil ones are skipped), even
// when an earlier one fails, and returns the failures joined.
func Multi(sinks ...Sink) Sink {
	m := make(multi, 0, len(sinks))
	for _, s := range sinks {
		if s != nil {
			m = append(m, s)
		}
	}
	return m
}

type multi []Sink

func (m multi) Write(ctx context.Context, r Record) error {
	var errs []error
	for i, s := range m {
		if err := s.Write(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("audit sink %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Forensics records a forensic collection: the console's task, its final status, and
// the package's file and link, or why there is none.
type Forensics struct {
	ParentTaskID string `json:"parentTaskId"`
	TaskID       string `json:"taskId,omitempty"`
	Status       string `json:"status,omitempty"`
	FileName     string `json:"fileName,omitempty"`
	DownloadURL  string `json:"downloadUrl,omitempty"`
	NoFile       string `json:"noFile,omitempty"`
}
