package report

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/rules"
)

// Trail is what one investigation's audit records say, reduced to what the figures
// need (a few fields per investigation, so that a week of them fits an activity
// result).
type Trail struct {
	InvestigationID string `json:"investigationId"`
	// TriagedAt is when the triage was recorded (the triage note is posted right
	// after); ThreatCreatedAt, when SentinelOne created the threat (zero in records
	// written before the field existed).
	TriagedAt       time.Time `json:"triagedAt,omitzero"`
	ThreatCreatedAt time.Time `json:"threatCreatedAt,omitzero"`
	Analyzer        string    `json:"analyzer,omitempty"`
	// RulesReason is why the rules engine triaged (RulesReasonOf); empty when a model did.
	RulesReason      string `json:"rulesReason,omitempty"`
	ModelCalls       int    `json:"modelCalls,omitempty"`
	PromptTokens     int64  `json:"promptTokens,omitempty"`
	CompletionTokens int64  `json:"completionTokens,omitempty"`
	// ApprovalRequestedAt is the first approval request; DecidedAt when it ended,
	// Approval how (approved, rejected, timed_out, closed_in_console), Approver who
	// decided and ApproverGroups the policy roles naming them.
	ApprovalRequestedAt time.Time `json:"approvalRequestedAt,omitzero"`
	DecidedAt           time.Time `json:"decidedAt,omitzero"`
	Approval            string    `json:"approval,omitempty"`
	Approver            string    `json:"approver,omitempty"`
	ApproverGroups      []string  `json:"approverGroups,omitempty"`
	// AutoActions: the policy ran actions without waiting for anyone.
	AutoActions bool           `json:"autoActions,omitempty"`
	Actions     []ActionResult `json:"actions,omitempty"`
	// MitigatedAt is the first action verified successful.
	MitigatedAt time.Time `json:"mitigatedAt,omitzero"`
	// Feedback are the analysts' agreements (agree, disagree, n_a).
	Feedback []string `json:"feedback,omitempty"`
}

// ActionResult is one verified action.
type ActionResult struct {
	Action string `json:"action"`
	Result string `json:"result"`
}

// Why the rules engine triaged a threat, from the triage record's reason.
const (
	RulesNoModel     = "no model configured"
	RulesObvious     = "obvious case (model not asked)"
	RulesModelFailed = "model failed"
	RulesDisagreed   = "model read it lower (a human decided)"
	RulesOther       = "other"
)

// RulesReasonOf classifies a triage record: "" when a model triaged, else why the
// rules engine did (the activities' fallback reasons, see activities.AnalyzeThreat).
func RulesReasonOf(analyzer, reason string) string {
	if analyzer != rules.AnalyzerName && analyzer != "none" {
		return ""
	}
	switch {
	case strings.HasPrefix(reason, "no LLM configured"):
		return RulesNoModel
	case strings.HasPrefix(reason, "obvious case"):
		return RulesObvious
	case strings.HasPrefix(reason, "model failed"):
		return RulesModelFailed
	case strings.Contains(reason, "the model contradicts"):
		return RulesDisagreed
	}
	return RulesOther
}

// Trails reduces audit records to one Trail per investigation, in investigation
// ID order. roles maps a policy role to its members (approver identities); an
// approver is in every role naming them (case-insensitively). Records written twice
// by a retried activity (same ID) count once.
func Trails(records []audit.Record, roles map[string][]string) []Trail {
	seen := map[string]bool{}
	byInv := map[string]*Trail{}
	for _, r := range records {
		if seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		t := byInv[r.InvestigationID]
		if t == nil {
			t = &Trail{InvestigationID: r.InvestigationID}
			byInv[r.InvestigationID] = t
		}
		step := strings.TrimPrefix(r.ID, r.InvestigationID+"/")
		switch r.Kind {
		case audit.KindTriage:
			t.TriagedAt, t.ThreatCreatedAt, t.Analyzer = r.Time, r.ThreatCreatedAt, r.Analyzer
			t.RulesReason = RulesReasonOf(r.Analyzer, r.Reason)
			if u := r.ModelUsage; u != nil {
				t.ModelCalls, t.PromptTokens, t.CompletionTokens = u.Calls, u.PromptTokens, u.CompletionTokens
			}
		case audit.KindApprovalRequested:
			// Reminders and escalations (approval_reminder, approval_escalation) are not requests.
			if strings.HasPrefix(step, "approval_requested/") && (t.ApprovalRequestedAt.IsZero() || r.Time.Before(t.ApprovalRequestedAt)) {
				t.ApprovalRequestedAt = r.Time
			}
		case audit.KindApproval:
			t.DecidedAt, t.Approval = r.Time, r.Decision
			if r.Decision == "approved" || r.Decision == "rejected" {
				t.Approver = r.Actor
				t.ApproverGroups = groupsOf(r.Actor, roles)
			}
		case audit.KindActionVerified:
			t.Actions = append(t.Actions, ActionResult{Action: r.Action, Result: r.Decision})
			if strings.HasPrefix(step, "action/auto/") && r.Decision != "not_taken" {
				t.AutoActions = true
			}
			if r.Decision == "success" && (t.MitigatedAt.IsZero() || r.Time.Before(t.MitigatedAt)) {
				t.MitigatedAt = r.Time
			}
		case audit.KindAnalystFeedback:
			t.Feedback = append(t.Feedback, r.Decision)
		}
	}
	out := make([]Trail, 0, len(byInv))
	for _, id := range sortedKeys(byInv) {
		out = append(out, *byInv[id])
	}
	return out
}

// groupsOf lists the roles naming approver, sorted.
func groupsOf(approver string, roles map[string][]string) []string {
	var out []string
	for _, role := range sortedKeys(roles) {
		if slices.ContainsFunc(roles[role], func(m string) bool { return strings.EqualFold(strings.TrimSpace(m), approver) }) {
			out = append(out, role)
		}
	}
	return out
}

// ReadAudit reads the records of the given investigations from audit log files
// (JSON lines, plain or gzip-compressed as log rotation leaves them), in file order.
// Lines that are not records are counted in skipped, not fatal: a log cut short by
// a crash still reports.
func ReadAudit(files []string, investigations map[string]bool) (records []audit.Record, skipped int, err error) {
	for _, name := range files {
		n, err := readAuditFile(name, investigations, &records)
		skipped += n
		if err != nil {
			return nil, skipped, err
		}
	}
	return records, skipped, nil
}

func readAuditFile(name string, investigations map[string]bool, out *[]audit.Record) (skipped int, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("opening the audit log %s: %w", name, err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("reading the compressed audit log %s: %w", name, err)
		}
		defer gz.Close()
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var rec audit.Record
		if err := json.Unmarshal(line, &rec); err != nil || rec.InvestigationID == "" {
			skipped++
			continue
		}
		if investigations[rec.InvestigationID] {
			*out = append(*out, rec)
		}
	}
	if err := sc.Err(); err != nil {
		return skipped, fmt.Errorf("reading the audit log %s: %w", name, err)
	}
	return skipped, nil
}

// AuditFiles expands the configured audit log paths: each may be a glob, and a plain
// path also brings its rotated siblings (path.1, path-2026-11-30.gz…). Files last
// modified before since cannot hold the period's records and are left out. The result
// is sorted oldest first, so records come in the order they were written.
func AuditFiles(patterns []string, since time.Time) ([]string, error) {
	var found []string
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		globs := []string{p}
		if !strings.ContainsAny(p, "*?[") {
			globs = append(globs, p+".*", p+"-*")
		}
		for _, g := range globs {
			m, err := filepath.Glob(g)
			if err != nil {
				return nil, fmt.Errorf("audit log pattern %q: %w", g, err)
			}
			found = append(found, m...)
		}
	}
	slices.Sort(found)
	found = slices.Compact(found)
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, name := range found {
		st, err := os.Stat(name)
		if err != nil || st.IsDir() || st.ModTime().Before(since) {
			continue
		}
		files = append(files, file{name, st.ModTime()})
	}
	slices.SortStableFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	return out, nil
}
