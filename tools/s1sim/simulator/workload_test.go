package simulator_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
)

// The workload filters of GET /threats match substrings, case-insensitively, any of a
// comma-separated list, and refuse values shorter than two characters.
func TestWorkloadContainsFilters(t *testing.T) {
	sc, err := scenario.LoadFS(scenarios.FS, "kubernetes")
	if err != nil {
		t.Fatalf("kubernetes scenario: %v", err)
	}
	e := newEnv(t, sc)
	ids := func(query string) []string {
		t.Helper()
		resp := e.json("GET", apiURL+"/threats"+query, nil, 200)
		var out []string
		for _, th := range resp["data"].([]any) {
			out = append(out, strings.TrimPrefix(th.(obj)["id"].(string), "19120000000000000"))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		// prod-eu-canary (05) contains prod-eu: a substring filter, as the console's.
		{q("k8sClusterName__contains", "prod-eu", "limit", "100"), []string{"01", "02", "03", "04", "05", "07"}},
		{q("k8sClusterName__contains", "PROD-EU-CAN"), []string{"05"}},
		{q("k8sClusterName__contains", "canary,staging"), []string{"05", "06"}},
		{q("k8sClusterName__contains", "prod-eu", "k8sNamespaceName__contains", "web"), []string{"04"}},
		{q("containerImageName__contains", "payments/api:1.4.2"), []string{"01", "02", "03", "05", "06", "07"}},
		{q("containerImageName__contains", "redis"), []string{"08", "09"}},
		{q("k8sPodName__contains", "frontend"), []string{"04"}},
		{q("containerImageName__contains", "no-such-image"), nil},
	} {
		if got := ids(tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("GET /threats%s: got %v, want %v", tc.query, got, tc.want)
		}
	}
	// A threat outside Kubernetes never matches a cluster filter.
	if got := ids(q("k8sClusterName__contains", "redis")); got != nil {
		t.Errorf("cluster filter matched %v", got)
	}
	status, body := e.do("GET", apiURL+"/threats"+q("k8sClusterName__contains", "p"), nil)
	if status != 400 || !strings.Contains(string(body), "k8sClusterName__contains: 0: Shorter than minimum length 2.") {
		t.Errorf("one-character filter: status %d, body %s", status, body)
	}
}
