package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

func TestPromptCarriesTheContext(t *testing.T) {
	ev := investigationtest.WithContext(2)
	ev.Facts.Workload = &investigation.Workload{Cluster: "prod-eu", Namespace: "shop", Pod: "web-7d9c", Controller: "Deployment/web"}
	data := fencedData(ev)
	for _, want := range []string{
		`"explorer.exe > cmd.exe (cmd /c C:\\Users\\Public\\run.bat) > lockbit3.exe (lockbit3.exe -k) [threat]"`,
		"endpoints_with_same_sha1: 37",
		"prior_threats_on_host_total: 4",
		`mimikatz.exe (Hacktool, S1 malicious, analyst true_positive, mitigation mitigated)`,
		`"lockbit3.exe → 198.51.100.1:445"`,
		`k8s_namespace: "shop"`,
		`k8s_controller: "Deployment/web"`,
		`"left out when collecting: events after the first 300"`,
		`"Ransomware: Deleted volume shadow copies (lockbit3.exe)"`,
	} {
		assert.Contains(t, data, want)
	}
	assert.NotContains(t, data, "omitted to fit", "a small context fits the default budget whole")
	// What is rendered can be cited: a quote from the process tree grounds a step.
	g := guard.NewGrounding(ev, data)
	assert.True(t, g.Cites("endpoints_with_same_sha1"), "a context field is citable")
	assert.True(t, g.Cites(`cmd /c C:\Users\Public\run.bat`), "a quote of the process tree is citable")
}

func TestPromptStaysWithinItsBudget(t *testing.T) {
	ev := investigationtest.WithContext(400)
	for _, budget := range []int{MinPromptTokens, 4000, DefaultPromptTokens, 12000} {
		data := fencedDataWithin(ev, budget)
		total := fixedPromptTokens + estimateTokens(data)
		assert.LessOrEqual(t, total, budget, "budget %d", budget)
		assert.Greater(t, total, budget*8/10, "budget %d is used, not wasted", budget)
		// The facts always go in, whole.
		assert.Contains(t, data, `threat_name: "lockbit3.exe"`)
		assert.Contains(t, data, `agent_name: "FS-PROD-01"`)
		assert.Contains(t, data, "more omitted to fit the prompt budget", "budget %d: the cut is said", budget)
	}
	// Shares: a short section is shown whole whatever the others need; big lists share
	// the rest by weight (the process tree more than files), the chain through the
	// threat first.
	data := fencedDataWithin(ev, 4000)
	assert.Contains(t, data, "[threat]")
	assert.Contains(t, data, `[activityType 19] "Threat detected"`, "the one-entry timeline is shown whole")
	assert.Contains(t, data, "endpoints_with_same_sha1: 37")
	assert.Greater(t, strings.Count(sectionOf(data, "process_tree"), "\n"), strings.Count(sectionOf(data, "files"), "\n"))
}

// sectionOf returns the lines of the named section of fenced data.
func sectionOf(data, header string) string {
	i := strings.Index(data, "\n"+header)
	if i < 0 {
		return ""
	}
	rest := data[i+1:]
	if j := strings.Index(rest, "\n"); j >= 0 {
		rest = rest[j+1:]
	}
	var out []string
	for _, l := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestAnalyzerSendsTheBudgetedPrompt(t *testing.T) {
	fp := newFakeProvider(t, completion(goodAnswer))
	o, err := NewOpenAI(OpenAIConfig{BaseURL: fp.srv.URL + "/v1", APIKey: testKey, Model: "gpt-test", PromptTokens: 3000})
	require.NoError(t, err)
	_, err = o.Analyze(context.Background(), investigationtest.WithContext(400))
	require.NoError(t, err)
	reqs := fp.requests()
	require.Len(t, reqs, 1)
	msgs := reqs[0].Body["messages"].([]any)
	system := msgs[0].(map[string]any)["content"].(string)
	user := msgs[1].(map[string]any)["content"].(string)
	assert.LessOrEqual(t, estimateTokens(system)+estimateTokens(user), 3000, "the request on the wire respects the budget")
	assert.Contains(t, user, "endpoints_with_same_sha1: 37")
	assert.Contains(t, user, "more omitted to fit the prompt budget")

	_, err = NewOpenAI(OpenAIConfig{Model: "m", PromptTokens: 500})
	require.ErrorContains(t, err, "prompt budget 500 tokens is below the minimum 2000")
}
