package s1client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func TestListThreatsWorkloadFilters(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, []byte(`{"data":[]}`)) })
	_, err := c.ListThreats(context.Background(), ListThreatsParams{
		K8sClusterNameContains:     []string{"prod-eu", "staging"},
		K8sNamespaceNameContains:   []string{"payments"},
		ContainerImageNameContains: []string{"registry.example.com/payments/api:1.4.2"},
	})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		"k8sClusterName__contains":     {"prod-eu,staging"},
		"k8sNamespaceName__contains":   {"payments"},
		"containerImageName__contains": {"registry.example.com/payments/api:1.4.2"},
		"limit":                        {"100"},
	}, rec.all()[0].Query)

	_, err = c.ListThreats(context.Background(), ListThreatsParams{ContainerImageNameContains: []string{"a,b"}})
	assert.ErrorIs(t, err, ErrValidation, "a comma would split the value in two filters")
	assert.Len(t, rec.all(), 1)
}

// Against the simulator's kubernetes scenario: the filters select by substring, so
// prod-eu also finds the prod-eu-canary cluster's threat; callers compare exactly.
func TestWorkloadFiltersAgainstSimulator(t *testing.T) {
	sc, err := scenario.LoadFS(scenarios.FS, "kubernetes")
	require.NoError(t, err)
	clock := fakeclock.New(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	sim, err := simulator.New(sc, simulator.Options{Token: testToken, Now: clock.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, testToken, WithRateLimiter(nil))
	require.NoError(t, err)

	page, err := c.ListThreats(context.Background(), ListThreatsParams{
		K8sClusterNameContains: []string{"prod-eu"}, CreatedAtGte: clock.Now().Add(-time.Hour), SortBy: "createdAt", SortOrder: "desc",
	})
	require.NoError(t, err)
	var clusters []string
	for _, th := range page.Items {
		require.NotNil(t, th.KubernetesInfo)
		clusters = append(clusters, th.KubernetesInfo.Cluster)
	}
	assert.Equal(t, []string{"prod-eu", "prod-eu", "prod-eu-canary", "prod-eu", "prod-eu"}, clusters, "newest first, the hour only")

	page, err = c.ListThreats(context.Background(), ListThreatsParams{ContainerImageNameContains: []string{"redis:7"}})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, "docker.io/library/redis:7.2", page.Items[0].ContainerInfo.Image)
	assert.Empty(t, page.Items[0].KubernetesInfo.Cluster, "a plain container has no cluster")
}
