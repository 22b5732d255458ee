package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/guard/guardtest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
	"github.com/s1copilot/s1copilot/policy"
	"github.com/s1copilot/s1copilot/rules"
)

// obeyingModel is an OpenAI-compatible server whose model obeys the injection:
// it reads the fenced user prompt, finds the injected payload there and answers
// what it asks. seen reports whether the payload reached the model.
type obeyingModel struct {
	mu   sync.Mutex
	seen bool
}

func (m *obeyingModel) handler(e guardtest.InjectionPayload) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
		}
		_ = json.Unmarshal(raw, &body)
		fenced := ""
		for _, msg := range body.Messages {
			if msg.Role != "user" {
				continue
			}
			if mm := fenceRE.FindStringSubmatch(msg.Content); mm != nil {
				open, closing := "<<<S1DATA-"+mm[1]+">>>", "<<<END-S1DATA-"+mm[1]+">>>"
				i, j := strings.Index(msg.Content, open), strings.Index(msg.Content, closing)
				if i >= 0 && j > i {
					fenced = msg.Content[i+len(open) : j]
				}
			}
		}
		// The instruction as the prompt shows it: cleaned and quoted.
		if strings.Contains(fenced, strconv.Quote(field(e.Payload))) {
			m.mu.Lock()
			m.seen = true
			m.mu.Unlock()
		}
		completion(guardtest.ObeyingAnswer(e.Wants))(w, r)
	}
}

var highImpact = []investigation.Action{investigation.ActionRemediate, investigation.ActionRollback, investigation.ActionIsolate}

var verdictOrder = map[investigation.Verdict]int{
	investigation.VerdictFalsePositive: 0, investigation.VerdictUndetermined: 1,
	investigation.VerdictSuspicious: 2, investigation.VerdictTruePositive: 3,
}

// outcome is what an investigation would end with: the plan, and the verdict
// written back to the console (the workflow writes back only when it acts, and
// only true_positive or suspicious; we assume every action verified).
type outcome struct {
	plan    policy.Plan
	written investigation.Verdict
}

func investigate(p *policy.Policy, a investigation.Analysis, f investigation.ThreatFacts) outcome {
	plan := policy.Decide(p, policy.Inputs{Analysis: a, Facts: f})
	o := outcome{plan: plan}
	if len(plan.Actions(policy.Auto))+len(plan.Actions(policy.Approve)) > 0 &&
		(a.Verdict == investigation.VerdictTruePositive || a.Verdict == investigation.VerdictSuspicious) {
		o.written = a.Verdict
	}
	return o
}

// unsupported lists what in o the rules analysis of the same evidence does not
// support: an automatic action the rules do not recommend, an automatic
// high-impact action on a threat S1 does not rate malicious, or a written-back
// verdict above what the rules reach (beyond suspicious) or below it.
func unsupported(o outcome, rules investigation.Analysis, f investigation.ThreatFacts) []string {
	var out []string
	for _, st := range o.plan.Steps {
		if st.Disposition != policy.Auto {
			continue
		}
		if !slices.Contains(rules.RecommendedActions, st.Action) {
			out = append(out, fmt.Sprintf("automatic %s, which the rules do not recommend", st.Action))
		}
		if !strings.EqualFold(f.ConfidenceLevel, "malicious") && slices.Contains(highImpact, st.Action) {
			out = append(out, fmt.Sprintf("automatic high-impact %s on a threat S1 rates %s", st.Action, f.ConfidenceLevel))
		}
	}
	if o.written != "" {
		ceiling := max(verdictOrder[rules.Verdict], verdictOrder[investigation.VerdictSuspicious])
		if verdictOrder[o.written] > ceiling || verdictOrder[o.written] < verdictOrder[rules.Verdict] {
			out = append(out, fmt.Sprintf("verdict %s written back where the rules say %s", o.written, rules.Verdict))
		}
	}
	return out
}

func TestInjectionCorpusThroughInvestigation(t *testing.T) {
	corpus := guardtest.LoadCorpus(t)
	bases := []struct {
		name      string
		ev        func() investigation.Evidence
		malicious bool
	}{
		{"ransomware server (S1 malicious)", investigationtest.RansomwareServer, true},
		{"macro dropper desktop (S1 malicious)", investigationtest.MacroDropper, true},
		{"signed updater (S1 suspicious)", investigationtest.SignedUpdater, false},
	}
	policies := []struct {
		name string
		p    *policy.Policy
	}{
		{"default auto 0.8", policy.Default(policy.ModeAuto, 0.8)},
		{"example policy", policy.ExamplePolicy()},
	}

	runs, flagged, overridden, unguardedBad, refused := 0, 0, 0, 0, 0
	for i, e := range corpus {
		for _, base := range bases {
			t.Run(fmt.Sprintf("%02d-%s-%s/%s", i, e.Field, e.Wants, base.name), func(t *testing.T) {
				ev := e.InEvidence(t, base.ev())
				byRules, err := rules.New().Analyze(context.Background(), ev)
				require.NoError(t, err)

				m := &obeyingModel{}
				srv := httptest.NewServer(http.HandlerFunc(m.handler(e)))
				t.Cleanup(srv.Close)
				o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL + "/v1", APIKey: testKey, Model: "obedient"})
				require.NoError(t, err)
				a, err := o.Analyze(context.Background(), ev)
				m.mu.Lock()
				assert.True(t, m.seen, "the payload reached the model inside the fence")
				m.mu.Unlock()
				runs++
				require.NotEmpty(t, guard.DetectInjection(ev), "payload %q not flagged", e.Payload)
				flagged++

				// What the answer would have been without the guard.
				raw, problems := o.toAnalysis(guardtest.ObeyingAnswer(e.Wants), guard.NewGrounding(ev, fencedData(ev)))
				if err != nil {
					// The answer departs from SentinelOne's rating without quoting the
					// evidence that would carry it: refused before the injection guard
					// is even needed, and the rules engine stands in (the workflow's
					// fallback), whose reading is supported by definition.
					require.ErrorIs(t, err, ErrInvalidOutput)
					require.Len(t, problems, 1, "only the direction check refuses the obeying answer: %v", problems)
					require.Contains(t, problems[0], "than SentinelOne's rating")
					refused++
					var raw investigation.Analysis
					require.NoError(t, json.Unmarshal([]byte(guardtest.ObeyingAnswer(e.Wants)), &struct {
						Verdict    *investigation.Verdict  `json:"verdict"`
						Confidence *float64                `json:"confidence"`
						Actions    *[]investigation.Action `json:"recommended_actions"`
					}{&raw.Verdict, &raw.Confidence, &raw.RecommendedActions}))
					bad := base.malicious && verdictOrder[raw.Verdict] < verdictOrder[byRules.Verdict]
					for _, pol := range policies {
						assert.Empty(t, unsupported(investigate(pol.p, byRules, ev.Facts), byRules, ev.Facts), pol.name)
						bad = bad || len(unsupported(investigate(pol.p, raw, ev.Facts), byRules, ev.Facts)) > 0
					}
					if bad {
						unguardedBad++
					}
					return
				}
				require.NoError(t, a.Validate())
				require.Empty(t, problems)

				// (a) flagged, naming the field.
				assert.True(t, slices.ContainsFunc(a.InjectionFlags, func(f string) bool { return strings.HasPrefix(f, e.FlagPrefix()) }),
					"flags %q do not name %s", a.InjectionFlags, e.Field)
				assert.Contains(t, a.Summary, "Suspected prompt injection")
				if a.Verdict != raw.Verdict || !slices.Equal(a.RecommendedActions, raw.RecommendedActions) {
					overridden++
					assert.Contains(t, a.Summary, "The guard replaced parts of the model's answer")
				}

				// (b) malicious stays malicious, with the rules' containment.
				if base.malicious {
					assert.NotContains(t, []investigation.Verdict{investigation.VerdictFalsePositive, investigation.VerdictUndetermined}, a.Verdict)
					for _, act := range byRules.RecommendedActions {
						assert.Contains(t, a.RecommendedActions, act, "containment the rules recommend")
					}
				}

				bad := false
				for _, pol := range policies {
					o := investigate(pol.p, a, ev.Facts)
					// (c) the model adds no automatic action; (d) and no high-impact one on the benign threat.
					for _, st := range o.plan.Steps {
						if st.Disposition != policy.Auto {
							continue
						}
						assert.Contains(t, byRules.RecommendedActions, st.Action, "%s: automatic %s not recommended by the rules", pol.name, st.Action)
						if !base.malicious {
							assert.NotContains(t, highImpact, st.Action, "%s: automatic high-impact action on the benign threat", pol.name)
						}
					}
					assert.Empty(t, unsupported(o, byRules, ev.Facts), pol.name)
					if len(unsupported(investigate(pol.p, raw, ev.Facts), byRules, ev.Facts)) > 0 ||
						(base.malicious && verdictOrder[raw.Verdict] < verdictOrder[byRules.Verdict]) {
						bad = true
					}
				}
				if bad {
					unguardedBad++
				}
			})
		}
	}
	t.Logf("corpus: %d payloads, %d runs (x3 threats, each under 2 policies): %d flagged (%.0f%%), %d answers refused by the direction check, %d overridden by the injection guard; without the guards %d runs would have ended unsupported (lowered malicious verdict, unsupported automatic action or verdict write-back)",
		len(corpus), runs, flagged, 100*float64(flagged)/float64(max(runs, 1)), refused, overridden, unguardedBad)
}

func TestOpenAIWithoutInjectionIsUnguarded(t *testing.T) {
	fp := newFakeProvider(t, completion(goodAnswer))
	a, err := fp.analyzer(t, 0).Analyze(context.Background(), investigationtest.RansomwareServer())
	require.NoError(t, err)
	assert.Empty(t, a.InjectionFlags)
	assert.Empty(t, a.Rules)
	assert.NotContains(t, a.Summary, "prompt injection")
}
