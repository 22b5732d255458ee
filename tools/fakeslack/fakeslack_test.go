package fakeslack_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/tools/fakeslack"
)

func TestRenderMessageBlocks(t *testing.T) {
	blocks := json.RawMessage(`[
		{"type":"header","text":{"type":"plain_text","text":"Threat on web-01"}},
		{"type":"section","text":{"type":"mrkdwn","text":"*true_positive* 0.93"},"fields":[{"type":"mrkdwn","text":"Host: web-01"}]},
		{"type":"divider"},
		{"type":"actions","elements":[
			{"type":"button","text":{"type":"plain_text","text":"Approve"},"action_id":"s1c_approve","value":"1"},
			{"type":"button","text":{"type":"plain_text","text":"Console"},"url":"https://console.example/t/1"}]},
		{"type":"context","elements":[{"type":"mrkdwn","text":"policy v3"},{"type":"plain_text","text":"deadline 24h"}]},
		{"type":"image","image_url":"x"}]`)
	assert.Equal(t, "== Threat on web-01 ==\ntrue_positive 0.93\n  Host: web-01\n---\n[Approve] [Console → https://console.example/t/1]\n(policy v3 · deadline 24h)\n(image)",
		fakeslack.Render(blocks))
}

func TestRenderView(t *testing.T) {
	view := json.RawMessage(`{"type":"modal","title":{"type":"plain_text","text":"Approve some"},"blocks":[
		{"type":"input","block_id":"a","label":{"type":"plain_text","text":"Actions"},"element":{"type":"checkboxes","options":[
			{"text":{"type":"plain_text","text":"kill"},"value":"kill","description":{"type":"plain_text","text":"why"}},
			{"text":{"type":"plain_text","text":"quarantine"},"value":"quarantine"}]}},
		{"type":"input","block_id":"r","optional":true,"label":{"type":"plain_text","text":"Reason"},"element":{"type":"plain_text_input"}}]}`)
	assert.Equal(t, "== Approve some ==\nActions: \n  [ ] kill — why\n  [ ] quarantine\nReason (optional): ______", fakeslack.Render(view))
	assert.Contains(t, fakeslack.Render(json.RawMessage(`7`)), "unreadable blocks")
}

// slack-go sends the token as a form field on form methods, and response_url posts
// are recorded.
func TestFormTokenAndResponses(t *testing.T) {
	s := fakeslack.New("xoxb-t", fakeslack.User{ID: "U1", Name: "a", Email: "a@example.com"})
	srv := httptest.NewServer(s)
	defer srv.Close()
	api := slack.New("xoxb-t", slack.OptionAPIURL(srv.URL+"/api/"))
	u, err := api.GetUserInfoContext(context.Background(), "U1")
	require.NoError(t, err)
	assert.Equal(t, "a@example.com", u.Profile.Email)
	_, err = slack.New("xoxb-wrong", slack.OptionAPIURL(srv.URL+"/api/")).GetUserInfoContext(context.Background(), "U1")
	assert.ErrorContains(t, err, "invalid_auth")

	require.NoError(t, slack.PostWebhookContext(context.Background(), srv.URL+fakeslack.ResponsePath+"T1/abc",
		&slack.WebhookMessage{ResponseType: "ephemeral", Text: "hi"}))
	assert.Equal(t, []fakeslack.Response{{ID: "T1/abc", ResponseType: "ephemeral", Text: "hi"}}, s.Responses())
}
