package fakeslack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// What Slack itself sends to an app: the demo and the tests play Slack's part with
// these, signed as Slack signs.

// Sign sets the headers Slack puts on every request to an app: the timestamp and the
// v0 signature, HMAC-SHA256 of "v0:<timestamp>:<body>" with the signing secret.
func Sign(req *http.Request, secret string, body []byte, at time.Time) {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
}

// Click is a user clicking a button of a message.
type Click struct {
	Team, User, UserName string
	ActionID, Value      string
	Channel, MessageTS   string
	TriggerID, ActionTS  string
}

// Form is the click as Slack posts it to the interactivity URL: payload=<block_actions JSON>.
func (c Click) Form() url.Values {
	payload := map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": c.Team},
		"user":       map[string]any{"id": c.User, "name": c.UserName, "team_id": c.Team},
		"trigger_id": c.TriggerID,
		"channel":    map[string]any{"id": c.Channel},
		"container":  map[string]any{"type": "message", "message_ts": c.MessageTS, "channel_id": c.Channel},
		"message":    map[string]any{"ts": c.MessageTS},
		"actions": []map[string]any{{
			"type": "button", "action_id": c.ActionID, "block_id": "s1c_buttons", "value": c.Value, "action_ts": c.ActionTS,
		}},
	}
	raw, _ := json.Marshal(payload)
	return url.Values{"payload": {string(raw)}}
}

// Post sends a form to an app's endpoint, signed with secret at the given time.
func Post(client *http.Client, endpoint, secret string, form url.Values, at time.Time) (*http.Response, error) {
	body := []byte(form.Encode())
	req, err := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	Sign(req, secret, body, at)
	return client.Do(req)
}

// readable drops mrkdwn's markup: *bold*, <url|label> links, <!date^…|fallback>, entities.
func readable(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		inner := s[i+1 : i+j]
		if _, label, ok := strings.Cut(inner, "|"); ok {
			b.WriteString(label)
		} else {
			b.WriteString(inner)
		}
		s = s[i+j+1:]
	}
	out := strings.ReplaceAll(b.String(), "*", "")
	out = strings.NewReplacer(":white_check_mark:", "✅", ":x:", "❌", ":hourglass:", "⏳", ":warning:", "⚠️", ":lock:", "🔒").Replace(out)
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.TrimRight(out, "\n"))
}
