package evidence_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/evidence"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const (
	token   = "evidence-test-token"
	shaA    = "1111111111111111111111111111111111111111"
	shaB    = "2222222222222222222222222222222222222222"
	target  = "1930000000000000010"
	hostA   = "1920000000000000001"
	hostB   = "1920000000000000002"
	hostC   = "1920000000000000003"
	siteID  = "1880000000000000101"
	account = "1880000000000000001"
)

func agent(id, name string) scenario.Agent {
	return scenario.Agent{
		ID: id, UUID: "uuid-" + id, ComputerName: name, Domain: "CORP", OSType: "windows", OSName: "Windows 11",
		OSRevision: "1", OSArch: "64 bit", MachineType: "laptop", AgentVersion: "23.4.2.14",
		AccountID: account, AccountName: "Acme", SiteID: siteID, SiteName: "HQ",
		GroupID: "1880000000000001001", GroupName: "Default Group", NetworkStatus: "connected",
	}
}

func threat(id, agentID, sha1, ago string) scenario.Threat {
	return scenario.Threat{
		ID: id, AgentID: agentID, ThreatName: "evil.exe", Classification: "Trojan", ClassificationSource: "Engine",
		ConfidenceLevel: "malicious", SHA1: sha1, FilePath: `C:\Users\bob\Downloads\evil.exe`, InitiatedBy: "agent_policy",
		DetectionType: "static", CreatedAgo: ago,
	}
}

func evidenceScenario() *scenario.Scenario {
	tgt := threat(target, hostA, shaA, "1m")
	tgt.OriginatorProcess = "chrome.exe"
	tgt.Workload = &scenario.Workload{ECS: &scenario.ECS{ClusterName: "prod", TaskArn: "arn:aws:ecs:eu-west-1:1:task/prod/abc", TaskDefinitionFamily: "shop", TaskDefinitionRevision: "7", Type: "FARGATE"}}
	return &scenario.Scenario{
		Name:   "evidence",
		Agents: []scenario.Agent{agent(hostA, "LT-BOB"), agent(hostB, "LT-EVE"), agent(hostC, "LT-SAM")},
		Threats: []scenario.Threat{
			tgt,
			threat("1930000000000000001", hostA, shaB, "72h"), // earlier, other file
			threat("1930000000000000002", hostA, shaA, "2h"),  // earlier, same file
			threat("1930000000000000003", hostB, shaA, "30m"), // same file elsewhere
			threat("1930000000000000004", hostC, shaB, "10m"), // other file elsewhere
			threat("1930000000000000005", hostA, shaB, "10s"), // on the same host, after the threat
		},
	}
}

// serve runs the simulator behind an optional middleware and counts requests by path.
func serve(t *testing.T, mw func(http.Handler) http.Handler) (*s1client.Client, map[string]int) {
	sim, err := simulator.New(evidenceScenario(), simulator.Options{Token: token})
	require.NoError(t, err)
	var mu sync.Mutex
	calls := map[string]int{}
	var h http.Handler = sim.Handler()
	if mw != nil {
		h = mw(h)
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[strings.TrimPrefix(r.URL.Path, simulator.APIPrefix)]++
		mu.Unlock()
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(counted)
	t.Cleanup(srv.Close)
	c, err := s1client.New(srv.URL, token, s1client.WithoutRateLimits())
	require.NoError(t, err)
	return c, calls
}

func facts(t *testing.T, c *s1client.Client) investigation.ThreatFacts {
	th, err := c.GetThreat(context.Background(), target)
	require.NoError(t, err)
	return activities.ThreatFacts(th)
}

func TestGatherReadsTreePrevalenceAndHistory(t *testing.T) {
	c, calls := serve(t, nil)
	f := facts(t, c)
	require.NotNil(t, f.Workload, "the ECS block is read into the facts")
	assert.Equal(t, "shop:7", f.Workload.ECSTask)
	clear(calls)

	ctx, err := evidence.Gather(context.Background(), c, f)
	require.NoError(t, err)

	require.NotEmpty(t, ctx.ProcessChains, "the simulator derives a chain from the threat")
	var names []string
	for _, p := range ctx.ProcessChains[0].Processes {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"userinit.exe", "chrome.exe", "evil.exe"}, names)
	assert.True(t, ctx.ProcessChains[0].Processes[2].Malicious)

	require.NotNil(t, ctx.Prevalence)
	assert.Equal(t, 2, ctx.Prevalence.Endpoints, "shaA was seen on LT-BOB and LT-EVE")

	require.Len(t, ctx.PriorThreats, 2, "two earlier threats on LT-BOB, not the threat itself")
	assert.Equal(t, "1930000000000000002", ctx.PriorThreats[0].ThreatID, "newest first")
	assert.True(t, ctx.PriorThreats[0].SameFile)
	assert.False(t, ctx.PriorThreats[1].SameFile)
	assert.Equal(t, 2, ctx.PriorThreatsTotal)
	assert.Empty(t, ctx.Unavailable)

	assert.Equal(t, map[string]int{"/threats/" + target + "/explore/events": 1, "/agents": 1, "/threats": 1}, calls,
		"gathering costs exactly three requests")
}

// answerError is middleware that answers the requests match picks with status and a
// SentinelOne error body, and passes the rest on.
func answerError(match func(*http.Request) bool, status int, body string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		})
	}
}

func TestGatherKeepsWhatItCanWhenAPartIsRefused(t *testing.T) {
	forbidExplore := answerError(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/explore/events") },
		http.StatusForbidden, `{"errors":[{"code":4030010,"detail":"Insufficient permissions","title":"Forbidden"}]}`)
	c, _ := serve(t, forbidExplore)
	ctx, err := evidence.Gather(context.Background(), c, facts(t, c))
	require.NoError(t, err)
	require.Len(t, ctx.Unavailable, 1)
	assert.Contains(t, ctx.Unavailable[0], "explore events")
	assert.Empty(t, ctx.ProcessChains)
	assert.NotNil(t, ctx.Prevalence, "the other parts are still gathered")
	assert.Len(t, ctx.PriorThreats, 2)
}

func TestGatherLeavesOutAPartThatFails(t *testing.T) {
	failAgents := answerError(func(r *http.Request) bool {
		return r.URL.Path == simulator.APIPrefix+"/agents" && r.URL.Query().Get("threatContentHash") != ""
	}, http.StatusServiceUnavailable, `{"errors":[{"code":5030010,"detail":"try later","title":"Service Unavailable"}]}`)
	c, calls := serve(t, failAgents)
	f := facts(t, c)
	clear(calls)
	ctx, err := evidence.Gather(context.Background(), c, f)
	require.NoError(t, err, "context is best effort: a 503 leaves its part out")
	require.Len(t, ctx.Unavailable, 1)
	assert.Contains(t, ctx.Unavailable[0], "prevalence (failed, not retried)")
	assert.Nil(t, ctx.Prevalence)
	assert.NotEmpty(t, ctx.ProcessChains, "the other parts are kept")
	assert.Len(t, ctx.PriorThreats, 2)
	assert.Equal(t, 1, calls["/agents"], "the failed request is not re-sent")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = evidence.Gather(cancelled, c, f)
	require.ErrorIs(t, err, context.Canceled, "the caller's own cancellation is returned")
}

// The host's history is the host's threats before this one, whatever the console
// returns: one that ignores agentIds and createdAt__lte lists every host's threats and
// later ones, which are left out and counted.
func TestGatherHostHistoryDoesNotTrustTheConsolesFilters(t *testing.T) {
	ignoreFilters := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == simulator.APIPrefix+"/threats" {
				q := r.URL.Query()
				q.Del("agentIds")
				q.Del("createdAt__lte")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	}
	c, _ := serve(t, ignoreFilters)
	ctx, err := evidence.Gather(context.Background(), c, facts(t, c))
	require.NoError(t, err)
	var ids []string
	for _, p := range ctx.PriorThreats {
		ids = append(ids, p.ThreatID)
	}
	assert.Equal(t, []string{"1930000000000000002", "1930000000000000001"}, ids, "only LT-BOB's threats before this one")
	assert.Equal(t, 2, ctx.PriorThreatsTotal, "the console's total counted every host")
	assert.Contains(t, ctx.Cut, "3 threats the console listed for other hosts or after this one (its filters were not applied)")
}
