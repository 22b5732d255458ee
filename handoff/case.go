// Package handoff hands an investigation's case to a SOAR or ticketing system: a
// versioned JSON document (Case, schema case.schema.json), POSTed signed and idempotent
// (Sender) at triage and again at the outcome.
//
// The document is plain data: strings, numbers and small structs, filled entirely by the
// workflow (no clock, no I/O here), so it is deterministic and its schema does not move
// when internal types do. Change the schema only together with SchemaVersion.
package handoff

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SchemaVersion is the version of the case document, sent as schemaVersion and in the
// X-S1C-Schema-Version header. A receiver keys its parsing on it.
const SchemaVersion = "1"

// Schema is the JSON Schema (draft 2020-12) of the case document, case.schema.json.
//
//go:embed case.schema.json
var Schema []byte

// SchemaID is Schema's $id.
const SchemaID = "https://github.com/s1copilot/s1copilot/handoff/case.schema.json"

// Stage is when the case is handed off.
type Stage string

const (
	// StageTriage: after analysis and the policy's plan, before anything waits for a
	// human; opens the ticket.
	StageTriage Stage = "triage"
	// StageOutcome: the investigation ended; Outcome is set; updates the same ticket.
	StageOutcome Stage = "outcome"
)

// Enumerations the schema pins (the rest are free strings so that new actions, states
// and outcomes do not need a new schema version).
var (
	Stages       = []Stage{StageTriage, StageOutcome}
	Dispositions = []string{"auto", "approve", "recommend", "skip"}
	Verdicts     = []string{"true_positive", "suspicious", "false_positive", "undetermined"}
	Priorities   = []string{"Critical", "High", "Medium", "Low"}
)

// Case is the document handed off. Every field is filled by the workflow.
type Case struct {
	SchemaVersion string `json:"schemaVersion"` // SchemaVersion
	Stage         Stage  `json:"stage"`
	// CaseID is the investigation's workflow ID (s1-threat/<threatId>): stable across
	// stages, so the outcome updates the ticket the triage opened.
	CaseID string `json:"caseId"`
	Threat Threat `json:"threat"`
	Host   Host   `json:"host"`

	Verdict    string  `json:"verdict"`    // Verdicts
	Confidence float64 `json:"confidence"` // 0..1, the analysis' confidence in Verdict
	Priority   string  `json:"priority"`   // Priorities
	// Analyzer names what produced the analysis: a model ("openai:gpt-4o-mini") or "rules".
	Analyzer        string   `json:"analyzer"`
	Summary         string   `json:"summary"`
	Evidence        []string `json:"evidence"`        // short highlights
	MitreTechniques []string `json:"mitreTechniques"` // e.g. T1059.001

	Plan      []PlannedAction `json:"plan"`      // what the policy decided per action
	Decisions []Decision      `json:"decisions"` // human approvals/rejections, in order
	Actions   []Action        `json:"actions"`   // what was done and how it ended

	// Outcome is the investigation's end state (mitigated, partially_mitigated, …); set
	// only at StageOutcome.
	Outcome string `json:"outcome,omitempty"`
	Links   Links  `json:"links"`
	// TicketID is the receiver's ticket from an earlier stage, if it returned one.
	TicketID string `json:"ticketId,omitempty"`
}

// Threat is the SentinelOne threat under investigation.
type Threat struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Classification string `json:"classification"`
	// ConfidenceLevel is SentinelOne's own (malicious | suspicious | n/a), not ours.
	ConfidenceLevel string `json:"confidenceLevel"`
	FilePath        string `json:"filePath"`
	SHA1            string `json:"sha1"`
	SHA256          string `json:"sha256,omitempty"`
	CommandLine     string `json:"commandLine,omitempty"`
	CreatedAt       string `json:"createdAt"` // RFC 3339, as SentinelOne reported it
}

// Host is the endpoint the threat was found on.
type Host struct {
	AgentID      string    `json:"agentId"`
	ComputerName string    `json:"computerName"`
	OSType       string    `json:"osType"`
	SiteID       string    `json:"siteId,omitempty"`
	SiteName     string    `json:"siteName,omitempty"`
	GroupName    string    `json:"groupName,omitempty"`
	Workload     *Workload `json:"workload,omitempty"`
}

// Workload is the Kubernetes workload of a containerised threat.
type Workload struct {
	Cluster        string `json:"cluster"`
	Namespace      string `json:"namespace"`
	Pod            string `json:"pod"`
	ContainerImage string `json:"containerImage,omitempty"`
}

// PlannedAction is the policy's disposition of one action.
type PlannedAction struct {
	Action      string   `json:"action"`
	Disposition string   `json:"disposition"` // Dispositions
	Reason      string   `json:"reason,omitempty"`
	Approvers   []string `json:"approvers,omitempty"` // who may approve, for "approve"
}

// Decision is a human's decision on the actions waiting for approval.
type Decision struct {
	Approved bool   `json:"approved"`
	Approver string `json:"approver"`
	At       string `json:"at"` // RFC 3339
	Comment  string `json:"comment,omitempty"`
	// Actions are the actions the decision covers; empty means all that waited.
	Actions []string `json:"actions,omitempty"`
}

// Action is one action as carried out.
type Action struct {
	Action      string `json:"action"`
	Disposition string `json:"disposition"` // Dispositions
	// State is how it ended or stands: success, failed, pending-reboot, timed_out,
	// refused, not_taken, …
	State      string     `json:"state"`
	Detail     string     `json:"detail,omitempty"`
	VerifiedAt string     `json:"verifiedAt,omitempty"` // RFC 3339, when SentinelOne confirmed it
	Forensics  *Forensics `json:"forensics,omitempty"`
}

// Forensics is the evidence collection an action produced.
type Forensics struct {
	TaskID      string `json:"taskId"`
	Status      string `json:"status"`
	FileName    string `json:"fileName,omitempty"`
	DownloadURL string `json:"downloadUrl,omitempty"`
}

// Links point a human at the investigation.
type Links struct {
	WebUI   string `json:"webUI,omitempty"`   // the workflow in Temporal's Web UI
	Console string `json:"console,omitempty"` // the threat in the SentinelOne console
}

// MarshalJSON emits empty arrays rather than null for the list fields, as the schema
// requires.
func (c Case) MarshalJSON() ([]byte, error) {
	type plain Case // no methods: no recursion
	p := plain(c)
	p.Evidence = orEmpty(p.Evidence)
	p.MitreTechniques = orEmpty(p.MitreTechniques)
	p.Plan = orEmpty(p.Plan)
	p.Decisions = orEmpty(p.Decisions)
	p.Actions = orEmpty(p.Actions)
	return json.Marshal(p)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// MaxTicketIDLen bounds a receiver's ticket ID: it is written to SentinelOne and shown
// in notes.
const MaxTicketIDLen = 128

// CheckTicketID reports why id is not usable as a ticket ID (written to SentinelOne's
// externalTicketId and shown in notes), or "" when it is: 1..MaxTicketIDLen characters of
// valid UTF-8, no control characters, no surrounding spaces.
func CheckTicketID(id string) string {
	switch {
	case id == "":
		return "empty"
	case !utf8.ValidString(id):
		return "not valid UTF-8"
	case utf8.RuneCountInString(id) > MaxTicketIDLen:
		return fmt.Sprintf("longer than %d characters", MaxTicketIDLen)
	case strings.TrimSpace(id) != id:
		return "leading or trailing spaces"
	case strings.IndexFunc(id, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0:
		return "contains control characters"
	}
	return ""
}

var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

// Validate checks what the schema pins and a sender must never get wrong (version,
// stage, enums, ranges, timestamps, outcome only at the outcome stage), so a bad case
// fails before it is sent. The schema remains the contract; the tests keep the two in step.
func (c Case) Validate() error {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if c.SchemaVersion != SchemaVersion {
		bad("schemaVersion %q, want %q", c.SchemaVersion, SchemaVersion)
	}
	if !slices.Contains(Stages, c.Stage) {
		bad("stage %q is not one of %v", c.Stage, Stages)
	}
	for name, v := range map[string]string{
		"caseId": c.CaseID, "threat.id": c.Threat.ID, "threat.name": c.Threat.Name, "host.agentId": c.Host.AgentID, "analyzer": c.Analyzer,
	} {
		if strings.TrimSpace(v) == "" {
			bad("%s is empty", name)
		}
	}
	if !slices.Contains(Verdicts, c.Verdict) {
		bad("verdict %q is not one of %v", c.Verdict, Verdicts)
	}
	if !slices.Contains(Priorities, c.Priority) {
		bad("priority %q is not one of %v", c.Priority, Priorities)
	}
	if !(c.Confidence >= 0 && c.Confidence <= 1) {
		bad("confidence %v is not within 0..1", c.Confidence)
	}
	switch {
	case c.Stage == StageOutcome && c.Outcome == "":
		bad("outcome is required at stage %q", StageOutcome)
	case c.Stage == StageTriage && c.Outcome != "":
		bad("outcome %q is set at stage %q (only at %q)", c.Outcome, StageTriage, StageOutcome)
	}
	checkTime := func(name, v string, required bool) {
		if v == "" && !required {
			return
		}
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			bad("%s %q is not an RFC 3339 time", name, v)
		}
	}
	checkTime("threat.createdAt", c.Threat.CreatedAt, true)
	for _, t := range c.MitreTechniques {
		if !techniqueID.MatchString(t) {
			bad("MITRE technique %q is not of the form T1234 or T1234.001", t)
		}
	}
	for i, a := range c.Plan {
		if a.Action == "" || !slices.Contains(Dispositions, a.Disposition) {
			bad("plan[%d]: action %q, disposition %q (one of %v)", i, a.Action, a.Disposition, Dispositions)
		}
	}
	for i, d := range c.Decisions {
		if d.Approver == "" {
			bad("decisions[%d].approver is empty", i)
		}
		checkTime(fmt.Sprintf("decisions[%d].at", i), d.At, true)
	}
	for i, a := range c.Actions {
		if a.Action == "" || a.State == "" || !slices.Contains(Dispositions, a.Disposition) {
			bad("actions[%d]: action %q, disposition %q (one of %v), state %q", i, a.Action, a.Disposition, Dispositions, a.State)
		}
		checkTime(fmt.Sprintf("actions[%d].verifiedAt", i), a.VerifiedAt, false)
	}
	if c.TicketID != "" {
		if why := CheckTicketID(c.TicketID); why != "" {
			bad("ticketId: %s", why)
		}
	}
	if len(p) > 0 {
		slices.Sort(p) // the map above iterates in random order
		return errors.New("handoff: invalid case: " + strings.Join(p, "; "))
	}
	return nil
}
