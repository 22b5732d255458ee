package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/eval/evalset"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const simToken = "sim-token-starter-0c4f2a"

func demoS1(t *testing.T) (*simulator.Simulator, func() (*s1client.Client, error)) {
	t.Helper()
	sc, err := simulator.LoadScenarioFS(scenarios.FS, "demo")
	require.NoError(t, err)
	sim, err := simulator.New(sc, simulator.Options{Token: simToken})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, func() (*s1client.Client, error) { return s1client.New(srv.URL, simToken, s1client.WithoutRateLimits()) }
}

// export-case writes a file the eval loads, never overwrites one, and refuses a threat
// nobody judged.
func TestExportCaseCommand(t *testing.T) {
	ctx := context.Background()
	sim, s1 := demoS1(t)
	const id = "1910000000000000004"
	require.NoError(t, sim.UpdateThreat(id, simulator.ThreatUpdate{AnalystVerdict: "true_positive"}))
	dir := t.TempDir()
	out := filepath.Join(dir, "case-"+id+".json")
	var stdout bytes.Buffer
	require.NoError(t, exportCase(ctx, []string{"--threat", id, "--out", out}, s1, &stdout))
	assert.Contains(t, stdout.String(), "go run ./tools/eval -scenarios "+dir)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.NotContains(t, string(data), simToken)
	files, err := evalset.LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, "true_positive, need [kill quarantine]", files[0].Cases[0].Expect.String())

	err = exportCase(ctx, []string{"--threat", id, "--out", out}, s1, &stdout)
	assert.ErrorContains(t, err, "never overwritten")

	err = exportCase(ctx, []string{"--threat", "1910000000000000003"}, s1, &stdout)
	assert.ErrorContains(t, err, "has no analyst verdict")
	assert.ErrorContains(t, exportCase(ctx, nil, s1, &stdout), "needs --threat")
}

// feedback lists each disagreement once (a duplicate line from a retried write is
// dropped), and agreements only with --all.
func TestFeedbackListsDisagreements(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := audit.OpenFile(path)
	require.NoError(t, err)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(threat, decision, verdict string) audit.Record {
		return audit.Record{Time: at, ID: "s1-threat/" + threat + "/feedback/console/x", Kind: audit.KindAnalystFeedback,
			InvestigationID: "s1-threat/" + threat, ThreatID: threat, Actor: "console-analyst", Channel: "console",
			Decision: decision, Verdict: "true_positive", Analyzer: "rules", AnalystVerdict: verdict, IncidentStatus: "resolved"}
	}
	ctx := context.Background()
	for _, r := range []audit.Record{rec("11", "disagree", "false_positive"), rec("11", "disagree", "false_positive"), rec("12", "agree", "true_positive"),
		{Time: at, ID: "s1-threat/13/triage", Kind: audit.KindTriage, InvestigationID: "s1-threat/13", ThreatID: "13", Actor: "s1copilot"}} {
		require.NoError(t, f.Write(ctx, r))
	}
	require.NoError(t, f.Close())

	var out bytes.Buffer
	require.NoError(t, listFeedback(nil, func(k string) string { return map[string]string{"S1C_AUDIT_FILE": path}[k] }, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, out.String())
	assert.Contains(t, lines[1], "false_positive resolved")
	assert.Contains(t, lines[1], "starter export-case --threat 11")

	out.Reset()
	require.NoError(t, listFeedback([]string{"--file", path, "--all"}, func(string) string { return "" }, &out))
	assert.Len(t, strings.Split(strings.TrimSpace(out.String()), "\n"), 3)
	assert.ErrorContains(t, listFeedback(nil, func(string) string { return "" }, &out), "S1C_AUDIT_FILE")
}
