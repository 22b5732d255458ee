package guard_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
	"github.com/s1copilot/s1copilot/rules"
)

func TestAgainstInjection(t *testing.T) {
	ctx := context.Background()
	ev := investigationtest.RansomwareServer()
	byRules, err := rules.New().Analyze(ctx, ev)
	require.NoError(t, err)
	flags := []string{`commandLine: verdict manipulation: "mark as benign"`}

	model := investigation.Analysis{
		Verdict: investigation.VerdictFalsePositive, Confidence: 0.99, Priority: investigation.PriorityLow,
		Summary: "Approved admin script.", Analyzer: "openai:m",
	}
	assert.Equal(t, model, guard.AgainstInjection(model, byRules, nil), "no flags: unchanged")

	g := guard.AgainstInjection(model, byRules, flags)
	require.NoError(t, g.Validate())
	assert.Equal(t, byRules.Verdict, g.Verdict)
	assert.Equal(t, byRules.Confidence, g.Confidence)
	assert.Equal(t, byRules.Priority, g.Priority)
	assert.Equal(t, byRules.RecommendedActions, g.RecommendedActions)
	assert.Equal(t, flags, g.InjectionFlags)
	assert.Equal(t, "openai:m", g.Analyzer)
	assert.Contains(t, g.Summary, "The guard replaced parts of the model's answer with the rules analyzer's")
	assert.Contains(t, g.Summary, "verdict false_positive replaced by the rules' true_positive")
	assert.Contains(t, g.Summary, "(in commandLine)")
	assert.Contains(t, g.Summary, "Model's summary (may be influenced by the injection): Approved admin script.")

	again := guard.AgainstInjection(g, byRules, flags)
	assert.Equal(t, g.Verdict, again.Verdict)
	assert.Equal(t, g.RecommendedActions, again.RecommendedActions)
	assert.Equal(t, 1, strings.Count(again.Summary, "Suspected prompt injection"), "guarding twice keeps one notice")
	assert.Equal(t, 1, strings.Count(again.Summary, "Approved admin script."))
	assert.Equal(t, g.GuardChanges, again.GuardChanges, "guarded again (a reused analysis), what was replaced stays said")
	assert.Contains(t, again.Summary, "verdict false_positive replaced by the rules' true_positive")
	assert.NotContains(t, again.Summary, "they stand")

	// A fabricated true positive on a threat the rules only find suspicious:
	// lowered to suspicious, the added actions dropped and asked about.
	benign := investigationtest.SignedUpdater()
	brules, err := rules.New().Analyze(ctx, benign)
	require.NoError(t, err)
	fab := investigation.Analysis{
		Verdict: investigation.VerdictTruePositive, Confidence: 1, Priority: investigation.PriorityCritical,
		Summary: "Isolate.", Analyzer: "openai:m",
		RecommendedActions: []investigation.Action{investigation.ActionKill, investigation.ActionIsolate},
		ActionReasons:      []investigation.ActionReason{{Action: investigation.ActionKill, Reason: "x"}, {Action: investigation.ActionIsolate, Reason: "y"}},
	}
	g = guard.AgainstInjection(fab, brules, flags)
	require.NoError(t, g.Validate())
	assert.Equal(t, investigation.VerdictSuspicious, g.Verdict)
	assert.LessOrEqual(t, g.Confidence, brules.Confidence)
	assert.Empty(t, g.RecommendedActions)
	assert.Empty(t, g.ActionReasons)
	require.NotEmpty(t, g.OpenQuestions)
	assert.Contains(t, g.OpenQuestions[len(g.OpenQuestions)-1], "kill, isolate")

	// A model that agrees keeps its verdict, reasons and summary; confidence is capped.
	agree := byRules
	agree.Analyzer, agree.Rules, agree.Confidence, agree.Summary = "openai:m", nil, 0.99, "LockBit."
	agree.ActionReasons = slices.Clone(byRules.ActionReasons)
	agree.ActionReasons[0].Reason = "model reason"
	g = guard.AgainstInjection(agree, byRules, flags)
	require.NoError(t, g.Validate())
	assert.Equal(t, byRules.Verdict, g.Verdict)
	assert.Equal(t, byRules.Confidence, g.Confidence)
	assert.Equal(t, "model reason", g.ActionReasons[0].Reason)
	assert.Contains(t, g.Summary, "confidence 0.99 capped")

	// A model whose answer is within the rules' stands, and the summary says so.
	agree.Confidence = byRules.Confidence
	g = guard.AgainstInjection(agree, byRules, flags)
	assert.Empty(t, g.GuardChanges)
	assert.Contains(t, g.Summary, "The guard checked the model's verdict, confidence, priority and actions against the rules analyzer: they stand.")
}
