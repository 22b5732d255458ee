package activities_test

import (
	"net/http"
	"net/http/httptest"
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
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
)

const getThreats = "GET /web/api/v2.1/threats"

// loseFirstAnswer lets the first request matching path reach the simulator, then answers
// 502: SentinelOne applied it, the client never heard (a worker crash after the POST
// looks the same to the next attempt).
func loseFirstAnswer(next http.Handler, path string) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lost := false
		if r.URL.Path == path {
			once.Do(func() { lost = true })
		}
		if !lost {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(httptest.NewRecorder(), r)
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})
}

// attemptsOf runs one activity in a test workflow, so that it gets the SDK's retries
// (attempt 2, 3…) rather than a single call.
func attemptsOf(t *testing.T, acts *activities.Activities, activity string, in any, out any) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(acts)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 3}})
		return workflow.ExecuteActivity(ctx, activity, in).Get(ctx, out)
	}, workflow.RegisterOptions{Name: "attempts"})
	env.ExecuteWorkflow("attempts")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
}

// A first request skips the read on its first attempt only: when that attempt's answer
// is lost, the retry reads, finds the kill, and does not POST it again.
func TestFirstRequestReadsOnRetry(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(loseFirstAnswer(f.sim.Handler(), "/web/api/v2.1/threats/mitigate/kill"))
	t.Cleanup(ts.Close)
	f.acts.S1 = activitytest.NewClient(t, ts.URL, simtest.Token)

	in := activities.MitigateInput{ThreatID: simtest.ThreatMacro, AgentID: "1900000000000000002", Action: investigation.ActionKill, FirstRequest: true}
	var res activities.MitigateResult
	attemptsOf(t, f.acts, "Mitigate", in, &res)

	c := f.sim.Counters()
	assert.True(t, res.AlreadyRequested, "the retry finds the kill its lost attempt requested")
	assert.Equal(t, 1, c.Mitigations[simtest.ThreatMacro]["kill"], "exactly one POST /threats/mitigate/kill")
	assert.Equal(t, 1, c.Requests[getThreats], "one read: by the retry, none before the first POST")
}

func TestFirstRequestPostsWithoutReading(t *testing.T) {
	f := newFixture(t)
	in := activities.MitigateInput{ThreatID: simtest.ThreatMacro, AgentID: "1900000000000000002", Action: investigation.ActionKill, FirstRequest: true}
	res, err := activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.False(t, res.AlreadyRequested)
	assert.Empty(t, res.Refused)
	assert.Equal(t, 1, res.Batch.Size, "sent alone")
	c := f.sim.Counters()
	assert.Equal(t, 1, c.Mitigations[simtest.ThreatMacro]["kill"])
	assert.Zero(t, c.Requests[getThreats], "nothing to find on a first request's first attempt")

	// Without the flag the same call reads first and finds it.
	in.FirstRequest = false
	res, err = activitytest.Run[activities.MitigateResult](t, f.env, f.acts.Mitigate, in)
	require.NoError(t, err)
	assert.True(t, res.AlreadyRequested)
	assert.Equal(t, 1, f.sim.Counters().Requests[getThreats])
}

// The same for notes: the first post's first attempt does not list the notes; its retry
// does, and finds the note whose answer was lost.
func TestFirstPostListsNotesOnRetry(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(loseFirstAnswer(f.sim.Handler(), "/web/api/v2.1/threats/notes"))
	t.Cleanup(ts.Close)
	f.acts.S1 = activitytest.NewClient(t, ts.URL, simtest.Token)

	in := activities.NoteInput{ThreatID: simtest.ThreatMacro, Marker: "[s1copilot:t:triage]", Text: "verdict", FirstPost: true}
	var res activities.NoteResult
	attemptsOf(t, f.acts, "PostNote", in, &res)

	c := f.sim.Counters()
	assert.True(t, res.AlreadyPosted)
	assert.Equal(t, 1, c.Notes[simtest.ThreatMacro], "exactly one note")
	assert.Equal(t, 1, c.Requests["GET /web/api/v2.1/threats/{id}/notes"], "listed once, by the retry")
}

// Parallel verifications of one threat's actions share a read made within
// VerifyReadShare; a later poll reads again.
func TestVerificationsOfOneThreatShareARead(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(f.sim.Handler())
	t.Cleanup(ts.Close)
	cfg := config.Defaults()
	cfg.S1URL, cfg.S1Token = ts.URL, simtest.Token
	acts, err := activities.New(cfg)
	require.NoError(t, err)
	acts.Now = f.clock.Now
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)

	for _, act := range []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine} {
		_, err := activitytest.Run[activities.MitigateResult](t, env, acts.Mitigate, activities.MitigateInput{ThreatID: simtest.ThreatMacro, Action: act, FirstRequest: true})
		require.NoError(t, err)
	}
	f.clock.Advance(mitigationDelay)
	before := f.sim.Counters().Requests[getThreats]
	for _, act := range []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine} {
		res, err := activitytest.Run[activities.VerifyResult](t, env, acts.VerifyMitigation, activities.VerifyInput{ThreatID: simtest.ThreatMacro, Action: act})
		require.NoError(t, err, "%s settled", act)
		assert.Equal(t, "success", res.State)
	}
	assert.Equal(t, before+1, f.sim.Counters().Requests[getThreats], "two verifications, one read")

	f.clock.Advance(activities.VerifyReadShare + time.Millisecond)
	_, err = activitytest.Run[activities.VerifyResult](t, env, acts.VerifyMitigation, activities.VerifyInput{ThreatID: simtest.ThreatMacro, Action: investigation.ActionKill})
	require.NoError(t, err)
	assert.Equal(t, before+2, f.sim.Counters().Requests[getThreats], "an older read is not reused")
}

// A workload threat pays one request more than an ordinary endpoint's enrichment (the
// threat, its agent, its timeline), and nothing else does.
func TestOnlyAWorkloadThreatPaysForItsNeighbours(t *testing.T) {
	f := newFixture(t) // the demo console: ordinary endpoints
	before := sum(f.sim.Counters().Requests)
	_, err := activitytest.Run[investigation.Evidence](t, f.env, f.acts.EnrichThreat, "1910000000000000002")
	require.NoError(t, err)
	endpoint := sum(f.sim.Counters().Requests) - before

	k := newK8sConsole(t, nil)
	before = sum(k.sim.Counters().Requests)
	ev := k.enrich(t, k8sPayments1)
	workload := sum(k.sim.Counters().Requests) - before
	require.NotNil(t, ev.CoLocated)
	assert.Equal(t, 3, endpoint, "threat, agent, timeline")
	assert.Equal(t, endpoint+1, workload, "one GET /threats for the whole workload")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
