package activities_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// outbreak is the simulator's outbreak scenario (one file on many endpoints) behind
// handler wrap, with activities that coalesce within a window long enough for the
// test's goroutines to meet.
type outbreak struct {
	sim     *simulator.Simulator
	acts    *activities.Activities
	threats []s1client.Threat
	// before are the requests of the set-up (listing the threats).
	before map[string]int
}

func newOutbreak(t *testing.T, wrap func(http.Handler) http.Handler) *outbreak {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "outbreak")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: "coalesce-token"})
	require.NoError(t, err)
	h := sim.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := activitytest.NewClient(t, srv.URL, "coalesce-token")
	o := &outbreak{sim: sim, acts: &activities.Activities{S1: c, Rules: rules.New(), CoalesceWindow: 150 * time.Millisecond,
		Settings: activities.Settings{MitigationPoll: time.Millisecond}}}
	require.NoError(t, c.EachThreat(t.Context(), s1client.ListThreatsParams{Limit: 1000}, func(th s1client.Threat) error {
		o.threats = append(o.threats, th)
		return nil
	}))
	o.before = sim.Counters().Requests
	return o
}

// each runs activity once per input, concurrently, every run in its own test workflow
// (so each gets the SDK's retries) against the same Activities.
func each[In, Out any](t *testing.T, acts *activities.Activities, activity string, ins []In) []Out {
	t.Helper()
	outs := make([]Out, len(ins))
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Go(func() {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterActivity(acts)
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
					RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 3}})
				return workflow.ExecuteActivity(ctx, activity, in).Get(ctx, &outs[i])
			}, workflow.RegisterOptions{Name: "each"})
			env.ExecuteWorkflow("each")
			errs[i] = env.GetWorkflowError()
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "run %d", i)
	}
	return outs
}

// requests counts the requests to key since the set-up.
func (o *outbreak) requests(key string) int { return o.sim.Counters().Requests[key] - o.before[key] }

// Forty investigations of one outbreak enrich, kill and verify at once: one GET
// /threats and one GET /agents for the forty enrichments (the timelines stay per
// threat), one POST for the forty kills, and each investigation its own result and
// its batch's name.
func TestAnOutbreakSharesItsRequests(t *testing.T) {
	o := newOutbreak(t, nil)
	threats := o.threats[:40]
	ids := make([]string, len(threats))
	for i, th := range threats {
		ids[i] = string(th.ID)
	}

	evs := each[string, investigation.Evidence](t, o.acts, "EnrichThreat", ids)
	for i, ev := range evs {
		assert.Equal(t, ids[i], ev.Facts.ThreatID, "each enrichment gets its own threat")
		assert.Equal(t, string(threats[i].AgentRealtimeInfo.AgentID), ev.Facts.AgentID)
		assert.NotEmpty(t, ev.Facts.AgentName)
	}
	assert.Equal(t, 1, o.requests("GET /web/api/v2.1/threats"), "forty threat reads in one request")
	assert.Equal(t, 1, o.requests("GET /web/api/v2.1/agents"), "their agents in one request")
	assert.Equal(t, 40, o.requests("GET /web/api/v2.1/threats/{id}/timeline"), "timelines are per threat")

	ins := make([]activities.MitigateInput, len(ids))
	for i, id := range ids {
		ins[i] = activities.MitigateInput{ThreatID: id, AgentID: evs[i].Facts.AgentID, Action: investigation.ActionKill, FirstRequest: true}
	}
	res := each[activities.MitigateInput, activities.MitigateResult](t, o.acts, "Mitigate", ins)
	assert.Equal(t, 1, o.requests("POST /web/api/v2.1/threats/mitigate/kill"), "forty kills in one POST")
	for i, r := range res {
		assert.Empty(t, r.Refused, ids[i])
		assert.False(t, r.AlreadyRequested)
		assert.Equal(t, 40, r.Batch.Size)
		assert.Equal(t, res[0].Batch.ID, r.Batch.ID, "every action names the one batch")
		assert.Equal(t, 1, o.sim.Counters().Mitigations[ids[i]]["kill"], "killed once: %s", ids[i])
	}

	reads := o.requests("GET /web/api/v2.1/threats")
	vr := each[activities.MitigateInput, activities.VerifyResult](t, o.acts, "VerifyMitigation", ins)
	for _, v := range vr {
		assert.Equal(t, s1client.MitigationStatusSuccess, v.State)
	}
	assert.LessOrEqual(t, o.requests("GET /web/api/v2.1/threats")-reads, 3, "forty verifications share their reads")

	w := make([]activities.WriteBackInput, len(ids))
	for i, id := range ids {
		w[i] = activities.WriteBackInput{ThreatID: id, IncidentStatus: s1client.IncidentResolved, AnalystVerdict: s1client.VerdictTruePositive}
	}
	each[activities.WriteBackInput, struct{}](t, o.acts, "WriteBack", w)
	assert.Equal(t, 1, o.requests("POST /web/api/v2.1/threats/incident"), "one write-back for the forty")
	got, err := o.acts.S1.GetThreats(t.Context(), ids)
	require.NoError(t, err)
	for _, id := range ids {
		assert.Equal(t, s1client.IncidentResolved, got[id].ThreatInfo.IncidentStatus, id)
	}
}

// A console that answers a batch only with a count (older consoles: {"affected":N})
// and did not act on one of the threats: the threats' own entries tell which, so the
// one it skipped is refused and the others are not.
func TestACountOnlyAnswerIsSplitByReadingTheThreats(t *testing.T) {
	stripDetails := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.Path, "/threats/mitigate/") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body struct {
				Data struct {
					Affected int `json:"affected"`
				} `json:"data"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			fmt.Fprintf(w, `{"data":{"affected":%d}}`, body.Data.Affected)
		})
	}
	o := newOutbreak(t, stripDetails)
	gone := "1999999999999999999" // not in the console: it cannot be affected
	ins := []activities.MitigateInput{{ThreatID: gone, Action: investigation.ActionQuarantine, FirstRequest: true}}
	for _, th := range o.threats[:5] {
		ins = append(ins, activities.MitigateInput{ThreatID: string(th.ID), Action: investigation.ActionQuarantine, FirstRequest: true})
	}
	res := each[activities.MitigateInput, activities.MitigateResult](t, o.acts, "Mitigate", ins)
	assert.Equal(t, 1, o.requests("POST /web/api/v2.1/threats/mitigate/quarantine"))
	assert.Contains(t, res[0].Refused, "applied quarantine to no threat", "the threat the console did not act on")
	for i, r := range res[1:] {
		assert.Empty(t, r.Refused, ins[i+1].ThreatID)
		assert.Equal(t, 6, r.Batch.Size)
	}
}

// The answer to a batched POST is lost (the console acted; the worker never heard):
// every activity in the batch fails, and each retry reads its own threat, finds the
// action and does not post it again. Nothing is acted on twice, nothing is lost.
func TestALostBatchIsRetriedWithoutActingTwice(t *testing.T) {
	o := newOutbreak(t, func(h http.Handler) http.Handler { return loseFirstAnswer(h, "/web/api/v2.1/threats/mitigate/kill") })
	var ins []activities.MitigateInput
	for _, th := range o.threats[:25] {
		ins = append(ins, activities.MitigateInput{ThreatID: string(th.ID), Action: investigation.ActionKill, FirstRequest: true})
	}
	res := each[activities.MitigateInput, activities.MitigateResult](t, o.acts, "Mitigate", ins)
	c := o.sim.Counters()
	assert.Equal(t, 1, o.requests("POST /web/api/v2.1/threats/mitigate/kill"), "the lost POST is not sent again")
	for i, r := range res {
		assert.True(t, r.AlreadyRequested, "the retry found the kill of the lost batch: %s", ins[i].ThreatID)
		assert.Equal(t, 1, c.Mitigations[ins[i].ThreatID]["kill"], ins[i].ThreatID)
	}
	assert.LessOrEqual(t, o.requests("GET /web/api/v2.1/threats"), 3, "the retries' checks shared their reads")
}

// A batch of isolations: one POST /agents/actions/disconnect for the agents of
// concurrent investigations.
func TestIsolationsShareOneRequest(t *testing.T) {
	o := newOutbreak(t, nil)
	var ins []activities.MitigateInput
	seen := map[string]bool{}
	for _, th := range o.threats {
		if id := string(th.AgentRealtimeInfo.AgentID); !seen[id] && len(ins) < 10 {
			seen[id] = true
			ins = append(ins, activities.MitigateInput{ThreatID: string(th.ID), AgentID: id, Action: investigation.ActionIsolate})
		}
	}
	res := each[activities.MitigateInput, activities.MitigateResult](t, o.acts, "Mitigate", ins)
	assert.Equal(t, 1, o.requests("POST /web/api/v2.1/agents/actions/disconnect"))
	for _, r := range res {
		assert.Empty(t, r.Refused)
		assert.Equal(t, 10, r.Batch.Size)
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(res[0])
	assert.Contains(t, buf.String(), `"batch":{"id":"disconnect/`, "the batch is in the activity's result (and so in history)")
}

// shareableNotes are an outbreak's triage notes: the same analysis and plan, each with
// its own host line and marker.
func shareableNotes(threats []s1client.Threat, shared string) []activities.NoteInput {
	var ins []activities.NoteInput
	for _, th := range threats {
		host := fmt.Sprintf("Host: host-of-%s (windows, laptop), network connected", th.ID)
		ins = append(ins, activities.NoteInput{ThreatID: string(th.ID), Marker: "[s1copilot s1-threat-" + string(th.ID) + " triage]",
			Text: "s1copilot triage: true_positive\n" + host + "\n" + shared, FirstPost: true, Shareable: true, OwnLines: []string{host}})
	}
	return ins
}

// Thirty triage notes alike but for their hosts go out in one POST /threats/notes; a
// note with another analysis goes alone, as it reads. Each threat's note carries its
// own marker (what a retry looks for) and its own host line.
func TestAnOutbreaksNotesGoOutAsOne(t *testing.T) {
	o := newOutbreak(t, nil)
	ins := shareableNotes(o.threats[:30], "Summary: the dropper ran on every host.\nPlan (v1):\n- kill [medium impact]: auto")
	other := shareableNotes(o.threats[30:31], "Summary: another reading.")
	res := each[activities.NoteInput, activities.NoteResult](t, o.acts, "PostNote", append(ins, other...))
	assert.Equal(t, 2, o.requests("POST /web/api/v2.1/threats/notes"), "one note for the thirty, one for the other")
	for i, in := range ins {
		notes := o.sim.Notes(in.ThreatID)
		require.Len(t, notes, 1, in.ThreatID)
		assert.Contains(t, notes[0], in.Marker)
		assert.Contains(t, notes[0], in.OwnLines[0])
		assert.Contains(t, notes[0], "One note for 30 threats")
		assert.Equal(t, 1, strings.Count(notes[0], "Summary: the dropper ran"), "the shared lines once")
		assert.Equal(t, 30, res[i].Batch.Size)
	}
	lone := o.sim.Notes(other[0].ThreatID)
	require.Len(t, lone, 1)
	assert.Equal(t, other[0].Text+"\n"+other[0].Marker, lone[0], "a note alone reads as written")
}

// The answer to a shared note is lost (SentinelOne added it; the worker never heard):
// each retry finds its marker on its threat and does not post again.
func TestALostSharedNoteIsNotPostedTwice(t *testing.T) {
	o := newOutbreak(t, func(h http.Handler) http.Handler { return loseFirstAnswer(h, "/web/api/v2.1/threats/notes") })
	ins := shareableNotes(o.threats[:12], "Summary: same.")
	res := each[activities.NoteInput, activities.NoteResult](t, o.acts, "PostNote", ins)
	assert.Equal(t, 1, o.requests("POST /web/api/v2.1/threats/notes"), "the lost note is not posted again")
	for i, in := range ins {
		assert.True(t, res[i].AlreadyPosted, in.ThreatID)
		assert.Len(t, o.sim.Notes(in.ThreatID), 1, in.ThreatID)
	}
}
