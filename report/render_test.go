package report

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarkdownHoldsTheFigures(t *testing.T) {
	f := Compute(scenario())
	md := string(Markdown(f, RulesSummary(f, "no model configured")))
	for _, want := range []string{
		"# Weekly SOC report", "2026-11-30 00:00 to 2026-12-07 00:00 UTC", "_Summary written by rules; no model configured._",
		"| true_positive | 4 |", "| approval timed out | 1 |", "| time to triage | 6 | 4m | 10m | 10m |",
		"| time to respond | 2 | 3m | 15m | 15m |", "| soc-leads | 1 | 10m | 10m | 10m |", "| unassigned | 1 | 30m | 30m | 30m |",
		"| rollback | timed_out | 1 |", "| SALES-LT-042 | 2 |", "| 1 | 1 | 0 | 50% |", "| rules: model failed | 1 |",
		"| 4 | 6000 | 1000 | $0.0250 |", "SentinelOne returned no details for 1 investigated threat(s)",
	} {
		assert.Contains(t, md, want)
	}
}

func TestHTMLIsSelfContainedAccessibleAndEscaped(t *testing.T) {
	in := scenario()
	in.Threats[0].Name = `<script>alert("x")</script>`
	in.Threats[1].Name = in.Threats[0].Name
	f := Compute(in)
	page, err := HTML(f, RulesSummary(f, "no model configured"))
	require.NoError(t, err)
	html := string(page)
	assert.NotContains(t, html, "<script")
	assert.Contains(t, html, "&lt;script&gt;")
	// Nothing is fetched: the only URL is the SVG namespace.
	for _, u := range regexp.MustCompile(`(?:src|href)=|url\(|https?://[^"\s]+`).FindAllString(html, -1) {
		assert.Equal(t, "http://www.w3.org/2000/svg", u)
	}
	for _, id := range []string{"verdicts", "priorities", "outcomes", "actions", "mttt", "mttr"} {
		svg := regexp.MustCompile(`(?s)<svg id="chart-` + id + `".*?</svg>`).FindString(html)
		require.NotEmpty(t, svg, "chart %s", id)
		assert.Contains(t, svg, `role="img"`)
		assert.Contains(t, svg, `<title id="chart-`+id+`-title">`)
		assert.Contains(t, svg, `<desc id="chart-`+id+`-desc">`)
		assert.Contains(t, svg, `class="bar"`)
	}
	assert.Contains(t, html, `<desc id="chart-mttt-desc">6 measured: median 4m, 90th percentile 10m, longest 10m.`)
}

func TestEmptySectionsSaySo(t *testing.T) {
	f := Compute(Inputs{Window: week})
	page, err := HTML(f, RulesSummary(f, "no model configured"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "No action was carried out in this period.")
	assert.NotContains(t, string(page), `id="chart-actions"`)
	assert.NotContains(t, string(page), `id="chart-mttt"`)
}
