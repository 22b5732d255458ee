package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// audit appends records to the audit log. Records are built here, deterministically,
// with IDs derived from the investigation and the step, so a retried write is a
// duplicate a SIEM can drop, never a different record. A failed write is logged and
// does not stop the response: history remains the complete record.
func (inv *investigator) audit(records ...audit.Record) { inv.auditIn(inv.ctx, records...) }

// auditIn is audit from another coroutine (a signal or update handler), which must block
// on its own context.
func (inv *investigator) auditIn(ctx workflow.Context, records ...audit.Record) {
	if len(records) == 0 {
		return
	}
	info := workflow.GetInfo(ctx)
	now := workflow.Now(ctx)
	for i := range records {
		r := &records[i]
		r.Time, r.InvestigationID, r.RunID, r.ThreatID = now, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, inv.status.ThreatID
		r.ID = audit.RecordID(r.InvestigationID, r.ID)
		if r.Actor == "" {
			r.Actor = audit.SystemActor
		}
		if r.PolicyVersion == "" && inv.status.Plan != nil {
			r.PolicyVersion = inv.status.Plan.PolicyVersion
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.GetActivityOptions(inv.short("write audit records")))
	if err := workflow.ExecuteActivity(actx, a.RecordAudit, records).Get(ctx, nil); err != nil {
		inv.log.Error("Writing audit records failed.", "Error", err)
	}
}

func (inv *investigator) auditDecision(ev investigation.Evidence, an investigation.Analysis, plan policy.Plan) {
	digest, _ := audit.Digest(ev)
	conf := an.Confidence
	recs := []audit.Record{{
		ID: "triage", Kind: audit.KindTriage, AgentID: ev.Facts.AgentID, Analyzer: an.Analyzer,
		Verdict: string(an.Verdict), Confidence: &conf, InputsDigest: digest, Reason: triageReason(an),
		ModelUsage: an.Usage, ThreatCreatedAt: ev.Facts.CreatedAt,
	}}
	for _, st := range plan.Steps {
		recs = append(recs, audit.Record{
			ID: "decision/" + string(st.Action), Kind: audit.KindDecision, AgentID: ev.Facts.AgentID,
			Action: string(st.Action), Decision: string(st.Disposition), Reason: st.Reason, InputsDigest: digest,
		})
	}
	inv.audit(recs...)
}

func triageReason(an investigation.Analysis) string {
	reason := an.FallbackReason
	if len(an.InjectionFlags) > 0 {
		if reason != "" {
			reason += "; "
		}
		reason += fmt.Sprintf("suspected prompt injection in %d field(s)", len(an.InjectionFlags))
	}
	return reason
}

func (inv *investigator) auditActions(step string, results []ActionResult) {
	var recs []audit.Record
	for _, r := range results {
		recs = append(recs, audit.Record{
			ID: fmt.Sprintf("%s/%s", step, r.Action), Kind: audit.KindActionVerified,
			Action: string(r.Action), Decision: string(r.State), Reason: r.Detail,
			Batch: r.Batch.ID, BatchSize: r.Batch.Size, Forensics: auditForensics(r.Forensics),
		})
	}
	inv.audit(recs...)
}

func auditForensics(f *activities.Forensics) *audit.Forensics {
	if f == nil {
		return nil
	}
	return &audit.Forensics{ParentTaskID: f.ParentTaskID, TaskID: f.TaskID, Status: f.Status, FileName: f.FileName, DownloadURL: f.DownloadURL, NoFile: f.NoFile}
}

func decisionRecord(d Decision) audit.Record {
	word := "rejected"
	if d.Approved {
		word = "approved"
	}
	return audit.Record{ID: "approval", Kind: audit.KindApproval, Actor: d.Approver, Channel: d.Channel, Identity: d.Identity, Decision: word, Reason: d.Reason}
}
