package activities_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// Threats of the kubernetes scenario: a miner in cluster prod-eu, namespace payments,
// image registry.example.com/payments/api:1.4.2, 2, 5 and 8 minutes ago; one in its
// namespace web 12 minutes ago; the image in clusters prod-eu-canary and staging-us;
// one in prod-eu three hours ago; two in plain Docker containers of redis:7.2.
const (
	k8sPayments1 = "1912000000000000001"
	k8sPayments2 = "1912000000000000002"
	k8sPayments3 = "1912000000000000003"
	k8sWeb       = "1912000000000000004"
	k8sRedis1    = "1912000000000000008"
	k8sRedis2    = "1912000000000000009"
	paymentsAPI  = "registry.example.com/payments/api:1.4.2"
)

type k8sConsole struct {
	sim   *simulator.Simulator
	clock *fakeclock.Clock
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
}

// newK8sConsole serves the kubernetes scenario, through wrap if set, to activities on
// the simulator's clock.
func newK8sConsole(t *testing.T, wrap func(http.Handler) http.Handler) *k8sConsole {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "kubernetes")
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	sim, err := simulator.New(sc, simulator.Options{Token: "k8s-token", Now: clock.Now})
	require.NoError(t, err)
	h := sim.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	acts := &activities.Activities{S1: activitytest.NewClient(t, srv.URL, "k8s-token"), Rules: rules.New(), Now: clock.Now}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &k8sConsole{sim: sim, clock: clock, acts: acts, env: env}
}

func (k *k8sConsole) enrich(t *testing.T, id string) investigation.Evidence {
	t.Helper()
	ev, err := activitytest.Run[investigation.Evidence](t, k.env, k.acts.EnrichThreat, id)
	require.NoError(t, err)
	return ev
}

func exampleIDs(c *investigation.CoLocated) []string {
	var ids []string
	for _, e := range c.Examples {
		ids = append(ids, e.ThreatID)
	}
	return ids
}

// Enrichment counts the other threats of the hour in the threat's cluster, namespace
// and image, exactly (prod-eu-canary contains "prod-eu" but is another cluster).
func TestEnrichmentCountsTheThreatsOfTheSameWorkload(t *testing.T) {
	k := newK8sConsole(t, nil)
	ev := k.enrich(t, k8sPayments1)
	c := ev.CoLocated
	require.NotNil(t, c)
	assert.Empty(t, c.Unavailable)
	assert.Equal(t, "prod-eu", c.Cluster)
	assert.Equal(t, "payments", c.Namespace)
	assert.Equal(t, paymentsAPI, c.Image)
	assert.Equal(t, time.Hour, c.Window)
	assert.Equal(t, k.clock.Now().Add(-time.Hour), c.Since)
	assert.Equal(t, 3, c.InCluster, "two pods of payments and one of web; not the canary cluster, not three hours ago")
	assert.Equal(t, 2, c.InNamespace)
	assert.Equal(t, 2, c.WithImage)
	assert.False(t, c.Capped)
	assert.Equal(t, []string{k8sPayments2, k8sPayments3, k8sWeb}, exampleIDs(c), "newest first, this one excluded")
	assert.Equal(t, "web", c.Examples[2].Namespace)
	assert.Equal(t, "kdevtmpfsi", c.Examples[0].ThreatName)

	// Without a cluster, the image is counted across the tenant.
	c = k.enrich(t, k8sRedis1).CoLocated
	require.NotNil(t, c)
	assert.Empty(t, c.Cluster)
	assert.Equal(t, "docker.io/library/redis:7.2", c.Image)
	assert.Equal(t, 1, c.WithImage)
	assert.Zero(t, c.InCluster)
	assert.Equal(t, []string{k8sRedis2}, exampleIDs(c))
}

// A failed read costs the counts, not the enrichment: the evidence says they could not
// be checked.
func TestAFailedNeighbourReadDoesNotFailTheEnrichment(t *testing.T) {
	k := newK8sConsole(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("k8sClusterName__contains") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"errors":[{"code":4000010,"detail":"k8sClusterName__contains: Unknown field.","title":"Validation Error"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ev := k.enrich(t, k8sPayments1)
	require.NotNil(t, ev.CoLocated)
	assert.Contains(t, ev.CoLocated.Unavailable, "reading the threats of the same cluster: ")
	assert.Contains(t, ev.CoLocated.Unavailable, "Unknown field")
	assert.Zero(t, ev.CoLocated.InCluster)
	assert.Len(t, ev.Timeline, 1, "the rest of the enrichment stands")
}

// The read is one page: a full page makes the counts lower bounds.
func TestAFullPageOfNeighboursIsALowerBound(t *testing.T) {
	k := newK8sConsole(t, nil)
	for i := range 120 {
		th := scenario.Threat{
			ID: fmt.Sprintf("19130000000000%05d", i), AgentID: "1902000000000000002", ThreatName: "kdevtmpfsi", Classification: "Miner",
			ClassificationSource: "Static", ConfidenceLevel: "malicious", SHA1: "5f1a7e3c9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a",
			FilePath: "/tmp/kdevtmpfsi", InitiatedBy: "agent_policy", DetectionType: "static", CreatedAgo: "1m",
			Workload: &scenario.Workload{Kubernetes: &scenario.Kubernetes{Cluster: "prod-eu", Namespace: "batch", Pod: fmt.Sprintf("job-%d", i), Node: "n"}},
		}
		require.NoError(t, k.sim.AddThreat(th))
	}
	c := k.enrich(t, k8sPayments1).CoLocated
	require.NotNil(t, c)
	assert.True(t, c.Capped)
	assert.Equal(t, 100, c.InCluster, "the page's hundred, all newer than this threat")
	assert.Zero(t, c.InNamespace)
	assert.Len(t, c.Examples, 5)
}

// The enrichments of a cluster's outbreak share one read of its threats.
func TestAClustersEnrichmentsShareTheirRead(t *testing.T) {
	k := newK8sConsole(t, nil)
	k.acts.CoalesceWindow = 150 * time.Millisecond
	before := k.sim.Counters().Requests["GET /web/api/v2.1/threats"]
	ids := []string{k8sPayments1, k8sPayments2, k8sPayments3, k8sWeb}
	evs := each[string, investigation.Evidence](t, k.acts, "EnrichThreat", ids)
	assert.Equal(t, 2, k.sim.Counters().Requests["GET /web/api/v2.1/threats"]-before, "one read of the four threats, one of their cluster's")
	for i, ev := range evs {
		require.NotNil(t, ev.CoLocated, ids[i])
		assert.Equal(t, 3, ev.CoLocated.InCluster, "%s: the other three of the hour", ids[i])
		assert.NotContains(t, exampleIDs(ev.CoLocated), ids[i], "never itself")
	}
	assert.Equal(t, 2, evs[0].CoLocated.InNamespace)
	assert.Zero(t, evs[3].CoLocated.InNamespace, "alone in namespace web")
	assert.Zero(t, evs[3].CoLocated.WithImage, "alone with its image")
}
