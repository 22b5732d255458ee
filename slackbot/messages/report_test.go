package messages

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportIsPostedOnceWithItsMarkdownInTheThread(t *testing.T) {
	p, fake := newPoster(t)
	var md strings.Builder
	md.WriteString("# Weekly SOC report\n\n| Verdict | Investigations |\n")
	for i := range 300 { // longer than one Slack part
		fmt.Fprintf(&md, "| verdict-%03d | %d |\n", i, i)
	}
	ctx := context.Background()
	ts, posted, err := p.PostReport(ctx, "C1", "soc-report-a--b", "Weekly SOC report: 6 investigations <b>", md.String())
	require.NoError(t, err)
	require.NotEmpty(t, ts)
	parts := len(splitReport(md.String(), maxReportPart))
	require.GreaterOrEqual(t, parts, 2)
	assert.Equal(t, parts, posted)

	// A retried delivery (the activity's result was lost) posts nothing more.
	ts2, posted2, err := p.PostReport(ctx, "C1", "soc-report-a--b", "Weekly SOC report: 6 investigations <b>", md.String())
	require.NoError(t, err)
	assert.Equal(t, ts, ts2)
	assert.Equal(t, 0, posted2)

	msgs := fake.Messages()
	require.Len(t, msgs, 1+parts)
	assert.Equal(t, "Weekly SOC report: 6 investigations &lt;b&gt;", msgs[0].Text)
	assert.Contains(t, string(msgs[0].Metadata), `"report_id":"soc-report-a--b"`)
	var joined strings.Builder
	for _, m := range msgs[1:] {
		assert.Equal(t, ts, m.ThreadTS)
		assert.LessOrEqual(t, len(m.Text), maxReportPart+10)
		joined.WriteString(strings.TrimSuffix(strings.TrimPrefix(m.Text, "```\n"), "\n```") + "\n")
	}
	assert.Equal(t, strings.TrimSpace(md.String()), strings.TrimSpace(joined.String()), "the parts are the whole Markdown, in order")

	// Another week's report is another message.
	_, posted3, err := p.PostReport(ctx, "C1", "soc-report-b--c", "next week", "short")
	require.NoError(t, err)
	assert.Equal(t, 1, posted3)
	assert.Len(t, fake.Calls("chat.postMessage"), 1+parts+2)
}

func TestSplitReportKeepsCharactersWhole(t *testing.T) {
	parts := splitReport(strings.Repeat("é", 10), 5)
	assert.Equal(t, strings.Repeat("é", 10), strings.Join(parts, ""))
	for _, p := range parts {
		assert.True(t, strings.ToValidUTF8(p, "?") == p)
	}
}
