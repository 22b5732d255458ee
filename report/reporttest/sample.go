// Package reporttest holds a demo-like week of investigations for the SOC report: the
// browser test renders it, and `go run ./tools/reportshot` screenshots it for the README.
package reporttest

import (
	"fmt"
	"time"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/report"
)

// Week is the sample's period.
var Week = report.Window{From: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}

// Sample returns the figures and rules summary of a demo-like week: the demo's
// threats, repeated over the week with fixed variations (no randomness).
func Sample() (report.Figures, report.Summary) {
	type kind struct {
		name, host, sha1, verdict, priority, outcome, approval, actor string
		actions                                                       []string
		triage, respond, decide                                       time.Duration
		analyzer, reason, feedback                                    string
	}
	kinds := []kind{
		{"invoice.docm", "SALES-LT-042", "3395856ce81f2b7382dee72602f798b642f14140", "true_positive", "High", "mitigated", "", "", []string{"kill", "quarantine"}, 95 * time.Second, 4 * time.Minute, 0, "openai:gpt-4o-mini", "", "agree"},
		{"mimikatz.exe", "DC-01", "0123456789abcdef0123456789abcdef01234567", "true_positive", "Critical", "mitigated", "approved", "alice@example.com", []string{"isolate"}, 2 * time.Minute, 26 * time.Minute, 21 * time.Minute, "openai:gpt-4o-mini", "", "agree"},
		{"xmrig", "WEB-02", "9f1c2b7c1e4f5d6a7b8c9d0e1f2a3b4c5d6e7f80", "true_positive", "Medium", "rejected", "rejected", "bob@example.com", nil, 3 * time.Minute, 0, 48 * time.Minute, "openai:gpt-4o-mini", "", "disagree"},
		{"backup-agent.exe", "FIN-07", "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f", "false_positive", "Low", "recommended", "", "", nil, 70 * time.Second, 0, 0, "rules", "obvious case, the model was not asked: signed backup tool", ""},
		{"loader.dll", "HR-LT-011", "aa11bb22cc33dd44ee55ff6677889900aabbccdd", "suspicious", "High", "approval_timed_out", "timed_out", "", nil, 6 * time.Minute, 0, 0, "rules", "model failed: timed out", ""},
	}
	var invs []report.Investigation
	var records []audit.Record
	var threats []report.Threat
	n := 0
	for day := range 7 {
		for i, k := range kinds {
			if (day+i)%3 == 2 && i > 0 { // not every kind every day
				continue
			}
			n++
			id := fmt.Sprintf("19%02d%015d", day, n)
			wf := "s1-threat/" + id
			created := Week.From.Add(time.Duration(day)*24*time.Hour + time.Duration(i+1)*97*time.Minute)
			triage := k.triage * time.Duration(1+(n%4)) / 2
			invs = append(invs, report.Investigation{WorkflowID: wf, ThreatID: id, Verdict: k.verdict, Priority: k.priority, Outcome: k.outcome,
				Status: "Completed", Start: created.Add(20 * time.Second), Close: created.Add(time.Hour)})
			threats = append(threats, report.Threat{ID: id, Name: k.name, AgentName: k.host, SHA1: k.sha1, CreatedAt: created})
			rec := func(step string, kind audit.Kind, at time.Time, mod func(*audit.Record)) {
				r := audit.Record{ID: audit.RecordID(wf, step), Kind: kind, InvestigationID: wf, ThreatID: id, Actor: audit.SystemActor, Time: at}
				if mod != nil {
					mod(&r)
				}
				records = append(records, r)
			}
			rec("triage", audit.KindTriage, created.Add(triage), func(r *audit.Record) {
				r.Analyzer, r.Reason, r.ThreatCreatedAt = k.analyzer, k.reason, created
				if k.reason == "" {
					r.ModelUsage = &investigation.ModelUsage{Calls: 1, PromptTokens: 2400 + int64(n*37), CompletionTokens: 310 + int64(n*5)}
				}
			})
			step := "action/auto/"
			if k.approval != "" {
				rec("approval_requested/isolate", audit.KindApprovalRequested, created.Add(triage), nil)
				decided := created.Add(triage + k.decide*time.Duration(1+n%3)/2)
				if k.approval == "timed_out" {
					decided = created.Add(triage + 24*time.Hour)
				}
				rec("approval", audit.KindApproval, decided, func(r *audit.Record) { r.Decision = k.approval; r.Actor = k.actor })
				step = "action/approved/"
			}
			for j, a := range k.actions {
				result := "success"
				if a == "isolate" && n%5 == 0 {
					result = "failed"
				}
				rec(step+a, audit.KindActionVerified, created.Add(k.respond*time.Duration(1+n%3)/2+time.Duration(j)*time.Second), func(r *audit.Record) { r.Action, r.Decision = a, result })
			}
			if k.feedback != "" && n%2 == 0 {
				rec("feedback/console/x", audit.KindAnalystFeedback, created.Add(2*time.Hour), func(r *audit.Record) { r.Decision = k.feedback })
			}
		}
	}
	roles := map[string][]string{"soc-leads": {"alice@example.com"}, "tier2": {"carol@example.com"}}
	f := report.Compute(report.Inputs{Window: Week, Investigations: invs, Trails: report.Trails(records, roles), Threats: threats,
		Pricing: &report.Pricing{PromptPerMillion: 0.15, CompletionPerMillion: 0.6}})
	return f, report.RulesSummary(f, "no model configured")
}
