package messages

import (
	"fmt"
	"strings"
	"time"
)

// Card is what an investigation's message shows. The workflow builds it from its state
// (it holds no Slack types, so it travels through workflow history as plain JSON) and
// the Poster renders it; every post and update renders the whole card, so a retried or
// late update can only bring the message to the investigation's state, never a mix.
type Card struct {
	ThreatID   string `json:"threatId"`
	WorkflowID string `json:"workflowId"`
	ThreatName string `json:"threatName"`
	// Host is the agent's name with its OS and machine type.
	Host string `json:"host"`
	// S1Rating is SentinelOne's confidence level (malicious, suspicious).
	S1Rating   string  `json:"s1Rating,omitempty"`
	Verdict    string  `json:"verdict"`
	Confidence float64 `json:"confidence"`
	Priority   string  `json:"priority"`
	// Analyzer says who analysed: the model, or the rules engine and why.
	Analyzer string   `json:"analyzer"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence,omitempty"`
	// Policy is one line per action of the plan: what the policy decided and why.
	Policy []string `json:"policy,omitempty"`
	// Review is a disagreement a human must settle (the model against SentinelOne).
	Review string `json:"review,omitempty"`
	// Pending are the actions waiting for a human, each with who may approve it; the
	// buttons show only while State is StatePending.
	Pending  []Pending `json:"pending,omitempty"`
	Deadline time.Time `json:"deadline,omitzero"`
	State    State     `json:"state"`
	Decision *Decided  `json:"decision,omitempty"`
	// Results are the actions carried out, each with its verified state.
	Results []Result `json:"results,omitempty"`
	Outcome string   `json:"outcome,omitempty"`
	// Links to the investigation (Temporal Web UI) and the threat (SentinelOne console).
	InvestigationURL string `json:"investigationUrl,omitempty"`
	ThreatURL        string `json:"threatUrl,omitempty"`
}

// State is where the message's decision stands.
type State string

const (
	// StateTriaged: analysed; nothing for a human to decide (or not yet).
	StateTriaged State = "triaged"
	// StatePending: a decision waits for a human; the buttons are live.
	StatePending State = "pending"
	// StateDecided: a human approved or rejected (Decision says who, when, why).
	StateDecided State = "decided"
	// StateNoDecision: the deadline passed; no action was taken.
	StateNoDecision State = "no_decision"
	// StateClosedInConsole: an analyst closed the threat in SentinelOne first.
	StateClosedInConsole State = "closed_in_console"
)

// Pending is one action waiting for approval.
type Pending struct {
	Action string `json:"action"`
	// MayApprove names the roles and their members, e.g. "senior [carol@example.com]".
	MayApprove string `json:"mayApprove"`
}

// Decided is a human's decision as the message shows it.
type Decided struct {
	Approved bool   `json:"approved"`
	By       string `json:"by"`
	// Identity is how the approver was authenticated (package identity's methods).
	Identity string    `json:"identity,omitempty"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason,omitempty"`
	// Actions chosen by an "approve some"; empty means every pending action.
	Actions []string `json:"actions,omitempty"`
}

// Result is one action's verified state: success, failed, pending-reboot, timed_out,
// refused or not_taken.
type Result struct {
	Action string `json:"action"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// Title is the message's one-line summary (the notification text).
func (c Card) Title() string {
	return fmt.Sprintf("%s %s: %s on %s", verdictIcon(c.Verdict), c.Verdict, orDash(c.ThreatName), orDash(c.Host))
}

// DecisionLine says who decided what, when and why; "" before any decision.
func (c Card) DecisionLine() string {
	switch c.State {
	case StateNoDecision:
		return fmt.Sprintf("No decision before the deadline %s: no action taken.", stamp(c.Deadline))
	case StateClosedInConsole:
		return "Closed in the SentinelOne console before s1copilot acted: no action taken."
	}
	d := c.Decision
	if d == nil {
		return ""
	}
	what := "Approved"
	if !d.Approved {
		what = "Rejected"
	} else if len(d.Actions) > 0 {
		what = "Approved " + strings.Join(d.Actions, ", ") + " only"
	}
	line := fmt.Sprintf("%s by %s", what, d.By)
	if d.Identity != "" {
		line += " (identity: " + d.Identity + ")"
	}
	line += " at " + stamp(d.At)
	if d.Reason != "" {
		line += ": " + d.Reason
	}
	return line + "."
}

func verdictIcon(v string) string {
	switch v {
	case "true_positive":
		return "🔴"
	case "suspicious":
		return "🟠"
	case "false_positive":
		return "🟢"
	}
	return "⚪"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
