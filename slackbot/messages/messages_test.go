package messages

import (
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/tools/fakeslack"
)

var update = flag.Bool("update", false, "rewrite the golden Block Kit files")

var deadline = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

func pendingCard() Card {
	return Card{
		ThreatID: "1910000000000000002", WorkflowID: "s1-threat/1910000000000000002", ThreatName: "invoice.docm",
		Host: "SALES-LT-042 (Windows 11, laptop)", S1Rating: "malicious", Verdict: "true_positive", Confidence: 0.93, Priority: "High",
		Analyzer: "rules", Summary: "Word macro started encoded PowerShell that beacons to 203.0.113.7.",
		Evidence: []string{"file C:\\Users\\jdoe\\Downloads\\invoice.docm (sha1 ab12)", "started by WINWORD.EXE"},
		Policy:   []string{"kill: auto (low impact, confident)", "isolate: approve (high impact)"},
		State:    StatePending, Deadline: deadline,
		Pending:          []Pending{{Action: "isolate", MayApprove: "analyst [alice@example.com]; senior [carol@example.com]"}, {Action: "rollback", MayApprove: "senior [carol@example.com]"}},
		Results:          []Result{{Action: "kill", State: "success"}},
		InvestigationURL: "http://127.0.0.1:8233/namespaces/default/workflows/s1-threat%2F1910000000000000002",
		ThreatURL:        "https://usea1.sentinelone.net/incidents/threats/1910000000000000002/overview",
	}
}

// cards are the message at each point of an investigation's life.
func cards() map[string]Card {
	at := deadline.Add(-time.Hour)
	pending := pendingCard()
	approved := pendingCard()
	approved.State, approved.Decision = StateDecided, &Decided{Approved: true, By: "alice@example.com", Identity: "slack", At: at, Reason: "approved in Slack"}
	some := approved
	some.Decision = &Decided{Approved: true, By: "carol@example.com", Identity: "signed-cli", At: at, Reason: "keep it online", Actions: []string{"rollback"}}
	rejected := pendingCard()
	rejected.State, rejected.Decision = StateDecided, &Decided{Approved: false, By: "bob@example.com", Identity: "slack", At: at, Reason: "lab machine"}
	rejected.Results = append(rejected.Results, Result{Action: "isolate", State: "not_taken", Detail: "rejected by bob@example.com: lab machine"})
	timedOut := pendingCard()
	timedOut.State = StateNoDecision
	timedOut.Results = append(timedOut.Results, Result{Action: "isolate", State: "not_taken", Detail: "no decision before the approval deadline: no action taken"})
	timedOut.Outcome = "approval_timed_out"
	settled := approved
	settled.Results = []Result{{Action: "kill", State: "success"}, {Action: "isolate", State: "success"}, {Action: "rollback", State: "timed_out", Detail: "accepted, never completed"}}
	settled.Outcome = "partially_mitigated"
	return map[string]Card{"pending": pending, "approved": approved, "approved_some": some, "rejected": rejected, "timed_out": timedOut, "settled": settled}
}

func TestBlocksAreExactlyTheGoldenOnes(t *testing.T) {
	for name, c := range cards() {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(Blocks(c), "", "  ")
			require.NoError(t, err)
			path := filepath.Join("testdata", "blocks_"+name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./slackbot/messages -update to write the golden files")
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

func TestOnlyAPendingMessageHasButtons(t *testing.T) {
	for name, c := range cards() {
		raw, err := json.Marshal(Blocks(c))
		require.NoError(t, err)
		assert.Equal(t, name == "pending", strings.Contains(string(raw), ActionApprove), name)
	}
	c := pendingCard()
	c.Pending = c.Pending[:1]
	raw, _ := json.Marshal(Blocks(c))
	assert.NotContains(t, string(raw), ActionApproveSome, "one action: nothing to choose among")
	assert.Contains(t, string(raw), ActionReject)
}

func TestUntrustedTextCannotMentionOrLink(t *testing.T) {
	c := pendingCard()
	c.ThreatName = "<!channel> invoice"
	c.Summary = "click <https://evil.example|here> & <@U0ADMIN>"
	c.Evidence = []string{"<!here>"}
	c.Host = "<!everyone>"
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(Blocks(c)))
	var mrkdwn []string
	collectMrkdwn(t, []byte(b.String()), &mrkdwn)
	all := strings.Join(mrkdwn, "\n")
	for _, bad := range []string{"<!channel>", "<https://evil.example|here>", "<@U0ADMIN>", "<!here>", "<!everyone>"} {
		assert.NotContains(t, all, bad, "mrkdwn must not carry it live")
	}
	assert.Contains(t, all, "&lt;!here&gt;")
	assert.Contains(t, all, "&amp;")
	assert.Contains(t, all, "<!date^", "our own date formatting stays live")
}

// collectMrkdwn gathers the text of every mrkdwn text object in the blocks' JSON.
func collectMrkdwn(t *testing.T, raw []byte, out *[]string) {
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "mrkdwn" {
				*out = append(*out, x["text"].(string))
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

func TestTextTellsTheWholeStory(t *testing.T) {
	c := cards()["settled"]
	txt := Text(c)
	for _, want := range []string{"🔴 true_positive: invoice.docm on SALES-LT-042", "Approved by alice@example.com (identity: slack) at 2026-12-05 13:00 UTC: approved in Slack.",
		"rollback: timed_out (accepted, never completed)", "Outcome: partially_mitigated"} {
		assert.Contains(t, txt, want)
	}
	assert.Contains(t, Text(pendingCard()), "[Approve] [Approve some…] [Reject…]")
}

func newPoster(t *testing.T) (*Poster, *fakeslack.Server) {
	fake := fakeslack.New("xoxb-test")
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return NewPoster("xoxb-test", srv.URL+"/api/", nil), fake
}

func TestPostUpdateAndReplyNeverTwice(t *testing.T) {
	ctx := context.Background()
	p, fake := newPoster(t)
	c := pendingCard()
	ts, err := p.Post(ctx, "C0SOC", c, false)
	require.NoError(t, err)
	again, err := p.Post(ctx, "C0SOC", c, true)
	require.NoError(t, err)
	assert.Equal(t, ts, again, "a retry finds the message the first attempt posted")
	require.Len(t, fake.Messages(), 1)

	other := c
	other.WorkflowID = "s1-threat/other"
	otherTS, err := p.Post(ctx, "C0SOC", other, true)
	require.NoError(t, err)
	assert.NotEqual(t, ts, otherTS, "another investigation's message is not ours")

	c.State, c.Decision = StateDecided, &Decided{Approved: true, By: "alice@example.com", At: deadline}
	require.NoError(t, p.Update(ctx, "C0SOC", ts, c))
	require.NoError(t, p.Update(ctx, "C0SOC", ts, c))
	msg := fake.Messages()[0]
	assert.Equal(t, 2, msg.Updates)
	assert.Contains(t, string(msg.Blocks), "Approved by alice@example.com")
	assert.NotContains(t, string(msg.Blocks), ActionApprove, "no buttons once decided")

	require.NoError(t, p.Reply(ctx, "C0SOC", ts, c.WorkflowID, "reminder", "isolate still waits", false))
	require.NoError(t, p.Reply(ctx, "C0SOC", ts, c.WorkflowID, "reminder", "isolate still waits", true))
	require.NoError(t, p.Reply(ctx, "C0SOC", ts, c.WorkflowID, "escalation", "<!subteam^S0> isolate still waits", true))
	var replies []fakeslack.Message
	for _, m := range fake.Messages() {
		if m.ThreadTS == ts {
			replies = append(replies, m)
		}
	}
	require.Len(t, replies, 2, "one reminder, one escalation")
	assert.Equal(t, "<!subteam^S0> isolate still waits", replies[1].Text, "our own mention is not escaped")
}

func TestSlackAnswersAreClassified(t *testing.T) {
	ctx := context.Background()
	p, fake := newPoster(t)
	fake.RateLimit(1, 7*time.Second)
	_, err := p.Post(ctx, "C0SOC", pendingCard(), false)
	require.Error(t, err)
	retryAfter, permanent := Classify(err)
	assert.Equal(t, 7*time.Second, retryAfter)
	assert.False(t, permanent)

	_, err = p.Post(ctx, "", pendingCard(), false)
	_, permanent = Classify(err)
	assert.True(t, permanent, "channel_not_found: no retry helps")

	fake.SetDown(true)
	_, err = p.Post(ctx, "C0SOC", pendingCard(), false)
	retryAfter, permanent = Classify(err)
	assert.Zero(t, retryAfter)
	assert.False(t, permanent, "an outage is retried")

	bad := NewPoster("xoxb-wrong", strings.TrimSuffix(fake2URL(t), "/")+"/api/", nil)
	_, err = bad.Post(ctx, "C0SOC", pendingCard(), false)
	_, permanent = Classify(err)
	assert.True(t, permanent, "invalid_auth")
	assert.NotContains(t, err.Error(), "xoxb", "the token never reaches an error")
	var se slack.SlackErrorResponse
	assert.ErrorAs(t, err, &se)
}

func fake2URL(t *testing.T) string {
	srv := httptest.NewServer(fakeslack.New("xoxb-test"))
	t.Cleanup(srv.Close)
	return srv.URL
}
