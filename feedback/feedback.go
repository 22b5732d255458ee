// Package feedback turns an analyst's reaction to an investigation into data: a console
// change of the analyst verdict or incident status, or a rejected recommendation, is
// compared with the copilot's verdict and recorded as one analyst_feedback audit record
// (and counted in s1copilot_analyst_feedback_total), so disagreements can be reviewed and
// exported as new labeled eval scenarios.
//
// The records are built purely (no I/O, no clock): the workflow (running investigations,
// rejections) and the poller (finished investigations) build identical records with it.
//
// ExportCase closes the loop (`starter export-case`, export.go): it reads a judged threat
// from SentinelOne and returns it as a labeled eval case — a one-threat scenario (package
// scenario) whose label is an Expect (label.go), the label the eval set scores against.
package feedback

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/metrics"
)

// Agreement of the analyst with the copilot.
type Agreement = metrics.Agreement

const (
	Agree    = metrics.Agree
	Disagree = metrics.Disagree
	// NA: nothing to compare — the analyst set no verdict (a status-only change) or the
	// copilot reached none (undetermined).
	NA = metrics.NotApplicable
)

// Source of a feedback record (its Channel).
const (
	SourceConsole  = "console"
	SourceApproval = "approval"
)

// MetricName is the counter of feedback records, tagged agreement and source.
const MetricName = metrics.AnalystFeedback

// ConsoleActor is the Actor of console feedback: the API shows the new state, not who
// set it (the copilot's own write-backs are told apart by content, see IsEcho).
const ConsoleActor = "console-analyst"

// Console is the triage state of a threat in the console.
type Console struct {
	UpdatedAt        time.Time `json:"updatedAt"`
	IncidentStatus   string    `json:"incidentStatus,omitempty"`
	AnalystVerdict   string    `json:"analystVerdict,omitempty"`
	MitigationStatus string    `json:"mitigationStatus,omitempty"`
}

// Write is a state the copilot itself wrote to the console (incident status, and the
// analyst verdict when it set one).
type Write struct {
	IncidentStatus string `json:"incidentStatus"`
	AnalystVerdict string `json:"analystVerdict,omitempty"`
}

// Copilot is what an investigation concluded and wrote back.
type Copilot struct {
	InvestigationID string
	RunID           string
	Verdict         investigation.Verdict
	Analyzer        string
	PolicyVersion   string
	Wrote           []Write
}

// AnalystVerdict is the verdict the analyst expressed in the console: the analyst verdict
// when it is one of true_positive, false_positive, suspicious; false_positive when the
// threat was marked benign; otherwise none ("").
func AnalystVerdict(c Console) investigation.Verdict {
	switch v := investigation.Verdict(c.AnalystVerdict); v {
	case investigation.VerdictTruePositive, investigation.VerdictFalsePositive, investigation.VerdictSuspicious:
		return v
	}
	if c.MitigationStatus == "marked_as_benign" {
		return investigation.VerdictFalsePositive
	}
	return ""
}

// Compare maps the copilot's verdict and the analyst's to an agreement: the same verdict
// agrees; any other pair of true_positive, suspicious and false_positive disagrees (the
// eval scores verdicts exactly, so an exported case of such a pair is a miss); no analyst
// verdict, or an undetermined copilot, is n_a.
func Compare(copilot, analyst investigation.Verdict) Agreement {
	switch {
	case analyst == "" || copilot == "" || copilot == investigation.VerdictUndetermined:
		return NA
	case copilot == analyst:
		return Agree
	}
	return Disagree
}

// IsEcho reports whether c is the console showing a state the copilot wrote itself, not an
// analyst's opinion: its incident status is one the copilot wrote, and so is its analyst
// verdict (or, where the copilot wrote none, the console has none either).
func IsEcho(c Console, wrote []Write) bool {
	return slices.ContainsFunc(wrote, func(w Write) bool {
		if c.IncidentStatus != w.IncidentStatus {
			return false
		}
		if w.AnalystVerdict != "" {
			return c.AnalystVerdict == w.AnalystVerdict
		}
		return c.AnalystVerdict == "" || c.AnalystVerdict == "undefined"
	})
}

// SameOpinion reports whether two console states carry the same analyst opinion
// (verdict, incident status, benign marking); a change elsewhere (a mitigation settling)
// is no feedback.
func SameOpinion(a, b Console) bool {
	norm := func(v string) string {
		if v == "undefined" {
			return ""
		}
		return v
	}
	return norm(a.AnalystVerdict) == norm(b.AnalystVerdict) && a.IncidentStatus == b.IncidentStatus &&
		(a.MitigationStatus == "marked_as_benign") == (b.MitigationStatus == "marked_as_benign")
}

// ConsoleStep is the record step of a console change: the console's updatedAt identifies
// the change, so re-reading it yields the same record ID.
func ConsoleStep(c Console) string {
	return "feedback/console/" + c.UpdatedAt.UTC().Format(time.RFC3339Nano)
}

// ConsoleRecord is the feedback record of a console change (ID relative to the
// investigation: the workflow prefixes it; use Finish to complete it elsewhere).
func ConsoleRecord(cp Copilot, c Console) audit.Record {
	ag := Compare(cp.Verdict, AnalystVerdict(c))
	return audit.Record{
		ID: ConsoleStep(c), Kind: audit.KindAnalystFeedback, Actor: ConsoleActor, Channel: SourceConsole,
		Decision: string(ag), Verdict: string(cp.Verdict), Analyzer: cp.Analyzer, PolicyVersion: cp.PolicyVersion,
		AnalystVerdict: c.AnalystVerdict, IncidentStatus: c.IncidentStatus,
		Reason: fmt.Sprintf("console: analyst verdict %s, incident status %s%s; copilot %s (%s)",
			orNone(c.AnalystVerdict), orNone(c.IncidentStatus), benign(c), orNone(string(cp.Verdict)), orNone(cp.Analyzer)),
	}
}

// ApprovalRecord is the feedback record of a rejected recommendation: a disagreement
// with the plan, whatever the verdict.
func ApprovalRecord(cp Copilot, approver, reason string, actions []investigation.Action) audit.Record {
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = string(a)
	}
	return audit.Record{
		ID: "feedback/approval", Kind: audit.KindAnalystFeedback, Actor: approver, Channel: SourceApproval,
		Decision: string(Disagree), Verdict: string(cp.Verdict), Analyzer: cp.Analyzer, PolicyVersion: cp.PolicyVersion,
		Action: strings.Join(names, ","),
		Reason: fmt.Sprintf("rejected %s: %s; copilot %s (%s)", strings.Join(names, ", "), orNone(reason), orNone(string(cp.Verdict)), orNone(cp.Analyzer)),
	}
}

// Finish completes a record built outside the workflow: investigation, run, threat, ID
// prefix and time, exactly as the workflow's audit helper does.
func Finish(r audit.Record, cp Copilot, threatID string, at time.Time) audit.Record {
	r.Time, r.InvestigationID, r.RunID, r.ThreatID = at, cp.InvestigationID, cp.RunID, threatID
	r.ID = audit.RecordID(cp.InvestigationID, r.ID)
	return r
}

// Count adds a feedback record to s1copilot_analyst_feedback_total (h is the SDK's
// activity or workflow metrics handler; the workflow one skips replays).
func Count(h client.MetricsHandler, r audit.Record) {
	if h == nil {
		return
	}
	metrics.Feedback(h, metrics.Agreement(r.Decision), metrics.FeedbackSource(r.Channel))
}

func benign(c Console) string {
	if c.MitigationStatus == "marked_as_benign" {
		return ", marked benign"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
