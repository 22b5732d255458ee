package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/activities/activitytest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/tools/s1sim/simtest"
)

func TestGatherContextOnlyWhenAModelWillReadIt(t *testing.T) {
	t.Run("no model", func(t *testing.T) {
		ev, acts, env := analyzeEnv(t, nil)
		c, err := activitytest.Run[investigation.Context](t, env, acts.GatherContext, ev)
		require.NoError(t, err)
		assert.Contains(t, c.Skipped, "no model configured")
		assert.Empty(t, c.ProcessChains)
	})
	t.Run("model", func(t *testing.T) {
		ev, acts, env := analyzeEnv(t, &stubModel{})
		c, err := activitytest.Run[investigation.Context](t, env, acts.GatherContext, ev)
		require.NoError(t, err)
		assert.Empty(t, c.Skipped)
		require.NotEmpty(t, c.ProcessChains, "the demo ransomware's storyline")
		require.NotNil(t, c.Prevalence)
		assert.GreaterOrEqual(t, c.Prevalence.Endpoints, 1, "at least the host itself")
	})
	t.Run("obvious case", func(t *testing.T) {
		f := newFixture(t)
		ev, err := activitytest.Run[investigation.Evidence](t, f.env, f.acts.EnrichThreat, simtest.ThreatAdware) // signed PUA
		require.NoError(t, err)
		f.acts.Model = &stubModel{}
		c, err := activitytest.Run[investigation.Context](t, f.env, f.acts.GatherContext, ev)
		require.NoError(t, err)
		assert.Contains(t, c.Skipped, "obvious case")
	})
	t.Run("analysis cached", func(t *testing.T) {
		model := &stubModel{an: investigation.Analysis{Verdict: investigation.VerdictTruePositive, Confidence: 0.9,
			Priority: investigation.PriorityHigh, Summary: "s", Analyzer: "stub"}}
		ev, acts, env := analyzeEnv(t, model)
		acts.Cache = llm.NewCache(model, time.Hour, 10, time.Now)
		_, err := acts.Cache.Analyze(context.Background(), ev)
		require.NoError(t, err)
		c, err := activitytest.Run[investigation.Context](t, env, acts.GatherContext, ev)
		require.NoError(t, err)
		assert.Contains(t, c.Skipped, "cached")
		other := ev
		other.Facts.SHA1, other.Facts.SHA256 = "ffffffffffffffffffffffffffffffffffffffff", ""
		c, err = activitytest.Run[investigation.Context](t, env, acts.GatherContext, other)
		require.NoError(t, err)
		assert.Empty(t, c.Skipped, "another file is not cached")
	})
}
