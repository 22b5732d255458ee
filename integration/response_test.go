package integration

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/handoff/handofftest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
	"github.com/s1copilot/s1copilot/workflows"
)

// demoForensicsScripts are the simulator's collection scripts, as an operator would set
// them for the built-in policy.
var demoForensicsScripts = "windows=" + simulator.ScriptForensicsWindows + ",linux=" + simulator.ScriptForensicsLinux + ",macos=" + simulator.ScriptForensicsMacOS

// The demo's ransomware on a Windows server: the rules recommend collecting forensics,
// the policy asks a human, and once approved the script runs once, its task is followed
// to completion, and the package's link is in the note and the audit log.
func TestForensicCollectionEndToEnd(t *testing.T) {
	s := newStack(t, stackOptions{
		config: func(c *config.Config) { c.ForensicsScripts = demoForensicsScripts },
		sim:    func(o *simulator.Options) { o.ScriptDelay = 2 * time.Second },
	})
	s.startPoller()
	const ransom, ransomAgent = "1910000000000000001", "1900000000000000001" // FIN-FS-01
	const macro = "1910000000000000002"                                      // laptop: no forensics recommended
	ids := []string{ransom, macro}
	approved := map[string]bool{}
	waitUntil(t, s.ctx, "both investigations finished", func() bool {
		s.approveWaiting(ids, approved)
		return len(s.investigations()) >= 2 && !s.anyRunning(ids)
	})

	r := s.result(ransom)
	var collected *workflows.ActionResult
	for i, a := range r.Actions {
		if a.Action == investigation.ActionCollectForensics {
			collected = &r.Actions[i]
		}
	}
	require.NotNil(t, collected, "actions: %+v", r.Actions)
	assert.Equal(t, workflows.ActionSucceeded, collected.State, collected.Detail)
	require.NotNil(t, collected.Forensics)
	assert.Equal(t, "completed", collected.Forensics.Status)
	assert.Contains(t, collected.Forensics.DownloadURL, s.cfg.S1URL)
	assert.Equal(t, map[string]int{simulator.ScriptForensicsWindows: 1}, s.sim.Counters().ScriptExecutions[ransomAgent], "the script ran once")

	notes := strings.Join(s.sim.Notes(ransom), "\n")
	assert.Contains(t, notes, "collect_forensics [collection impact]: approve")
	assert.Contains(t, notes, "Forensic collection: parent task "+collected.Forensics.ParentTaskID)
	assert.Contains(t, notes, "package "+collected.Forensics.FileName+": "+collected.Forensics.DownloadURL)

	var rec *audit.Record
	for _, a := range s.audit.records(t) {
		if a.ThreatID == ransom && a.Kind == audit.KindActionVerified && a.Action == string(investigation.ActionCollectForensics) {
			rec = &a
		}
	}
	require.NotNil(t, rec, "the collection's audit record")
	require.NotNil(t, rec.Forensics)
	assert.Equal(t, collected.Forensics.TaskID, rec.Forensics.TaskID)
	assert.Equal(t, "completed", rec.Forensics.Status)
	assert.Equal(t, collected.Forensics.DownloadURL, rec.Forensics.DownloadURL)

	for _, a := range s.result(macro).Actions {
		assert.NotEqual(t, investigation.ActionCollectForensics, a.Action, "a macro dropper is contained, not collected")
	}
	assert.Empty(t, s.sim.Counters().ScriptExecutions["1900000000000000002"])
}

// Every investigation hands its case to a receiver that is down at first: the deliveries
// are retried, each stage reaches it once, signed and valid against the schema, and the
// ticket it opens is on the threat in the console and in the outcome note.
func TestCaseHandOffEndToEnd(t *testing.T) {
	const secret = "handoff-secret-0123456789abcdef0123456789"
	rv := handofftest.NewReceiver([]byte(secret))
	rv.FailNext(3, http.StatusServiceUnavailable)
	srv := httptest.NewServer(rv)
	t.Cleanup(srv.Close)
	s := newStack(t, stackOptions{config: func(c *config.Config) {
		c.Handoff = config.Handoff{URL: srv.URL + "/cases", Secret: secret, RetryFor: time.Minute}
		c.Slack.WebUIURL = "http://ui.example"
	}})
	s.startPoller()
	ids := s.threatIDs
	approved := map[string]bool{}
	waitUntil(t, s.ctx, "every investigation finished", func() bool {
		s.approveWaiting(ids, approved)
		return len(s.investigations()) >= len(ids) && !s.anyRunning(ids)
	})

	for _, r := range rv.Rejections() {
		assert.Equal(t, handofftest.Rejection{Status: http.StatusServiceUnavailable, Reason: "injected failure"}, r,
			"only the injected outages were refused: every case is signed and valid against the schema")
	}
	assert.Len(t, rv.Rejections(), 3)
	s1, err := s1client.New(s.cfg.S1URL, token, s1client.WithoutRateLimits())
	require.NoError(t, err)
	for _, id := range ids {
		caseID := workflows.WorkflowID(id)
		for _, stage := range []string{"triage", "outcome"} {
			assert.Equal(t, 1, rv.DeliveriesFor(caseID+"/"+stage), "%s %s processed once", id, stage)
		}
		ticket := rv.Ticket(caseID)
		require.NotEmpty(t, ticket, id)
		r := s.result(id)
		assert.Equal(t, ticket, r.TicketID, id)
		assert.Contains(t, r.Handoff, "triage case delivered (ticket "+ticket+")", id)
		assert.Contains(t, r.Handoff, "outcome case delivered", id)
		th, err := s1.GetThreat(s.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, ticket, th.ThreatInfo.ExternalTicketID, "%s: the ticket is on the threat", id)
		assert.Contains(t, strings.Join(s.sim.Notes(id), "\n"), "Ticket: "+ticket, id)
	}
	var outcome *handofftest.Delivery
	for _, d := range rv.Deliveries() {
		if d.Case.CaseID == workflows.WorkflowID(ids[0]) && d.Case.Stage == handoff.StageOutcome {
			outcome = &d
		}
	}
	require.NotNil(t, outcome)
	assert.Equal(t, rv.Ticket(outcome.Case.CaseID), outcome.Case.TicketID, "the outcome carries the triage's ticket")
	assert.NotEmpty(t, outcome.Case.Actions)
	assert.Equal(t, "http://ui.example/namespaces/default/workflows/"+url.PathEscape(outcome.Case.CaseID), outcome.Case.Links.WebUI)
	assert.NotContains(t, s.audit.String(), secret, "the hand-off secret never reaches the audit log")
	assert.NotContains(t, string(outcome.Body), secret)
}
