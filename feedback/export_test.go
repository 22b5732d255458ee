package feedback_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/eval/evalset"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

const (
	exportToken  = "sim-token-export-5b1e9d"
	threatMacro  = "1910000000000000002" // demo: Word macro on SALES-LT-042
	threatAdware = "1910000000000000003" // demo: signed adware on HR-DT-007
)

func demoConsole(t *testing.T) (*simulator.Simulator, *s1client.Client) {
	t.Helper()
	sim, err := simulator.New(demoScenario(t), simulator.Options{Token: exportToken, MitigationDelay: time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := s1client.New(srv.URL, exportToken, s1client.WithoutRateLimits())
	require.NoError(t, err)
	return sim, c
}

func demoScenario(t *testing.T) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	return sc
}

// demoEvidence is the evidence of a demo threat before anyone touched it, read as the
// eval reads it (EnrichThreat without Temporal).
func demoEvidence(t *testing.T, threatID string) investigation.Evidence {
	t.Helper()
	f := &evalset.File{Name: "demo.json", Scenario: demoScenario(t), Cases: []evalset.Case{{File: "demo.json", ThreatID: threatID}}}
	evs, err := evalset.CollectEvidence(context.Background(), f)
	require.NoError(t, err)
	return evs[0]
}

// Export a threat the analyst overrode (after the copilot had acted on it), load the
// file with the eval loader, and run the rules analyzer on it: the scenario is valid,
// its label is the analyst's, the evidence is the detection's (nothing of the response
// or the label leaks into it) and the token is nowhere in the file.
func TestExportCaseRoundTrip(t *testing.T) {
	ctx := context.Background()
	sim, s1 := demoConsole(t)
	original := demoEvidence(t, threatMacro)

	// The copilot acted and wrote back; then the analyst said false positive.
	_, err := s1.Mitigate(ctx, s1client.MitigationKill, []string{threatMacro})
	require.NoError(t, err)
	_, err = s1.SetIncidentStatus(ctx, []string{threatMacro}, s1client.IncidentInProgress, "")
	require.NoError(t, err)
	require.NoError(t, sim.UpdateThreat(threatMacro, simulator.ThreatUpdate{AnalystVerdict: "false_positive", IncidentStatus: "resolved"}))

	sc, err := feedback.ExportCase(ctx, s1, threatMacro, feedback.ExportOptions{})
	require.NoError(t, err)
	data, err := feedback.MarshalCase(sc)
	require.NoError(t, err)
	assert.NotContains(t, string(data), exportToken)
	assert.Empty(t, sc.Threats[0].AnalystVerdict+sc.Threats[0].IncidentStatus+sc.Threats[0].MitigationStatus, "written as detected, without its triage state")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "case-"+threatMacro+".json"), data, 0o600))

	files, err := evalset.LoadDir(dir)
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Len(t, files[0].Cases, 1)
	c := files[0].Cases[0]
	assert.Equal(t, threatMacro, c.ThreatID)
	assert.Equal(t, investigation.VerdictFalsePositive, c.Expect.Verdict, "the analyst's verdict is the label")
	require.NotNil(t, c.Expect.Actions)
	assert.True(t, c.Expect.Actions.None, "a false positive allows no action")
	assert.Contains(t, c.Expect.Why, "console")

	evs, err := evalset.CollectEvidence(ctx, files[0])
	require.NoError(t, err)
	ev := evs[0]
	for _, f := range []struct{ got, want string }{
		{ev.Facts.ThreatName, original.Facts.ThreatName}, {ev.Facts.SHA1, original.Facts.SHA1},
		{ev.Facts.SHA256, original.Facts.SHA256}, {ev.Facts.FilePath, original.Facts.FilePath},
		{ev.Facts.CommandLine, original.Facts.CommandLine}, {ev.Facts.ConfidenceLevel, original.Facts.ConfidenceLevel},
		{ev.Facts.AgentName, original.Facts.AgentName}, {ev.Facts.OSType, original.Facts.OSType},
		{ev.Facts.MachineType, original.Facts.MachineType}, {ev.Facts.NetworkStatus, original.Facts.NetworkStatus},
		{ev.Facts.SiteID, original.Facts.SiteID},
	} {
		assert.Equal(t, f.want, f.got)
	}
	assert.Equal(t, original.Facts.Tags, ev.Facts.Tags)
	assert.Equal(t, original.Facts.Techniques, ev.Facts.Techniques)
	assert.Equal(t, original.Facts.Indicators, ev.Facts.Indicators)
	assert.Equal(t, "undefined", ev.Facts.AnalystVerdict, "the label does not leak into the evidence")
	assert.Equal(t, "unresolved", ev.Facts.IncidentStatus)
	require.Len(t, ev.Timeline, len(original.Timeline), "the response (kill, status and verdict changes) is not evidence")
	for i := range ev.Timeline {
		assert.Equal(t, original.Timeline[i].Description, ev.Timeline[i].Description)
		assert.Equal(t, original.Timeline[i].ActivityType, ev.Timeline[i].ActivityType)
	}

	// The rules analyzer runs on it; it calls the macro malicious, which the case now
	// scores as a miss: the override became a failing eval case.
	an, err := rules.New().Analyze(ctx, ev)
	require.NoError(t, err)
	assert.Equal(t, investigation.VerdictTruePositive, an.Verdict)
	assert.False(t, evalset.Grade(c.Expect, an).VerdictOK)
}

func TestExportCaseNeedsAVerdict(t *testing.T) {
	ctx := context.Background()
	_, s1 := demoConsole(t)
	_, err := feedback.ExportCase(ctx, s1, threatAdware, feedback.ExportOptions{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, feedback.ErrNoAnalystVerdict))
	assert.ErrorContains(t, err, "--verdict")

	sc, err := feedback.ExportCase(ctx, s1, threatAdware, feedback.ExportOptions{Verdict: investigation.VerdictSuspicious, Actions: []string{"quarantine"}})
	require.NoError(t, err)
	e, err := feedback.ParseExpect(sc.Threats[0].Expect)
	require.NoError(t, err)
	assert.Equal(t, investigation.VerdictSuspicious, e.Verdict)
	assert.Equal(t, []investigation.Action{investigation.ActionQuarantine}, e.Actions.Required)
	assert.Contains(t, e.Why, "--verdict")

	_, err = feedback.ExportCase(ctx, s1, threatAdware, feedback.ExportOptions{Verdict: "benign"})
	assert.ErrorContains(t, err, `verdict "benign" is not one of`)
	_, err = feedback.ExportCase(ctx, s1, threatAdware, feedback.ExportOptions{Verdict: investigation.VerdictFalsePositive, Actions: []string{"kill"}})
	assert.ErrorContains(t, err, "cannot require actions")
	_, err = feedback.ExportCase(ctx, s1, threatAdware, feedback.ExportOptions{Verdict: investigation.VerdictTruePositive, Actions: []string{"nuke"}})
	assert.ErrorContains(t, err, `action "nuke" is not one of`)
}

func TestLabelForFollowsTheVerdict(t *testing.T) {
	for v, want := range map[investigation.Verdict]string{
		investigation.VerdictTruePositive:  "true_positive, need [kill quarantine]",
		investigation.VerdictSuspicious:    "suspicious, never [isolate rollback]",
		investigation.VerdictFalsePositive: "false_positive, no action",
		investigation.VerdictUndetermined:  "undetermined, no action",
	} {
		e, err := feedback.LabelFor(v, nil)
		require.NoError(t, err)
		assert.Equal(t, want, e.String())
	}
	e, err := feedback.LabelFor(investigation.VerdictTruePositive, []string{"none"})
	require.NoError(t, err)
	assert.True(t, e.Actions.None)
}
