package fakeslack

import (
	"encoding/json"
	"testing"
	"time"

	"net/http"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenderReadsMrkdwnAsAReaderSeesIt(t *testing.T) {
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "🔴 true_positive: invoice.docm", false, false)),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{slack.NewTextBlockObject(slack.MarkdownType, "*Priority*\nHigh", false, false)}, nil),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Waiting* until <!date^1^{time}|2026-12-05 14:00 UTC> &lt;x&gt;", false, false), nil, nil),
		slack.NewActionBlock("b", slack.NewButtonBlockElement("a", "v", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "<http://ui|Investigation in Temporal>", false, false)),
	}
	raw, err := json.Marshal(blocks)
	require.NoError(t, err)
	assert.Equal(t, "== 🔴 true_positive: invoice.docm ==\n  Priority: High\nWaiting until 2026-12-05 14:00 UTC <x>\n[Approve]\n(Investigation in Temporal)", Render(raw))
}

func TestSignMatchesSlacksVerifier(t *testing.T) {
	body := []byte("payload=%7B%7D")
	req, _ := http.NewRequest(http.MethodPost, "http://bot/slack/interactions", nil)
	Sign(req, "s3cret", body, time.Now())
	sv, err := slack.NewSecretsVerifier(req.Header, "s3cret")
	require.NoError(t, err)
	_, _ = sv.Write(body)
	assert.NoError(t, sv.Ensure())
	sv, _ = slack.NewSecretsVerifier(req.Header, "other")
	_, _ = sv.Write(body)
	assert.Error(t, sv.Ensure())
}
