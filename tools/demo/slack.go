package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/tools/fakeslack"
)

// The demo's Slack: a fake Slack Web API the worker posts to and the bot answers
// through, printing each message as a reader would see it; the demo plays Slack's part
// when a user clicks (a request signed with the app's signing secret).
const (
	slackToken   = "xoxb-demo-token"
	slackSecret  = "demo-signing-secret"
	slackChannel = "C0DEMOSOC"
	// slackClicker is the workspace member who approves from Slack in the demo; the
	// bot reads their e-mail from users.info.
	slackClicker      = "U0ALICE"
	slackClickerEmail = "alice@example.com"
	// slackApprovedAgent is the host whose investigation the demo approves from Slack
	// (the others by CLI).
	slackApprovedAgent = "SALES-LT-042"
)

type demoSlack struct {
	fake    *fakeslack.Server
	srv     *http.Server
	botURL  string
	out     io.Writer
	mu      sync.Mutex
	printed map[string]string // message ts → the text printed last
}

// startSlack serves the fake Slack Web API and writes the bot's key; it returns the
// environment the worker, the poller and the bot need.
func startSlack(o options, out io.Writer) (*demoSlack, []string, []string, error) {
	s := &demoSlack{out: out, printed: map[string]string{}, botURL: fmt.Sprintf("http://127.0.0.1:%d", o.botPort),
		fake: fakeslack.New(slackToken, fakeslack.User{ID: slackClicker, Name: "alice", Email: slackClickerEmail})}
	s.fake.OnMessage = s.print
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", o.slackPort))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fake Slack: %w", err)
	}
	s.srv = &http.Server{Handler: s.fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("the bot's key: %w", err)
	}
	pem, err := identity.MarshalPrivateKey(priv)
	if err != nil {
		return nil, nil, nil, err
	}
	keyFile, _ := filepath.Abs(filepath.Join(o.logs, "slackbot.key"))
	if err := os.WriteFile(keyFile, pem, 0o600); err != nil {
		return nil, nil, nil, fmt.Errorf("writing the bot's key: %w", err)
	}
	shared := []string{
		"S1C_SLACK_BOT_TOKEN=" + slackToken,
		"S1C_SLACK_CHANNEL=" + slackChannel,
		fmt.Sprintf("S1C_SLACK_API_URL=http://%s/api/", ln.Addr()),
		fmt.Sprintf("S1C_WEB_UI_URL=http://127.0.0.1:%d", o.uiPort),
		"S1C_SLACK_BOT_PUBLIC_KEY=" + identity.FormatPublicKey(pub),
		"S1C_SLACK_ESCALATION_MENTION=<!subteam^S0DEMOSOC>",
	}
	bot := []string{
		"S1C_SLACK_SIGNING_SECRET=" + slackSecret,
		fmt.Sprintf("S1C_SLACK_LISTEN_ADDR=127.0.0.1:%d", o.botPort),
		"S1C_SLACK_DECISION_KEY_FILE=" + keyFile,
	}
	return s, shared, bot, nil
}

func (s *demoSlack) close() { _ = s.srv.Close() }

// print shows a posted or updated message: whole the first time, then only the lines
// that changed; thread replies on one line.
func (s *demoSlack) print(kind string, m fakeslack.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.ThreadTS != "" {
		text := m.Text
		if lines := strings.Split(text, "\n"); len(lines) > 4 { // the SOC report's Markdown
			text = strings.Join(lines[:4], " ") + fmt.Sprintf(" … (%d more lines)", len(lines)-4)
		}
		fmt.Fprintf(s.out, "          [slack] ↳ in the thread: %s\n", text)
		return
	}
	text := fakeslack.Render(m.Blocks)
	before, seen := s.printed[m.TS]
	s.printed[m.TS] = text
	if !seen {
		fmt.Fprintf(s.out, "          [slack] new message in #soc:\n%s\n", indent(text))
		return
	}
	title := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(m.Text)
	old := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		old[l] = true
	}
	var changed []string
	for _, l := range strings.Split(text, "\n") {
		if !old[l] {
			changed = append(changed, l)
		}
	}
	if len(changed) > 0 {
		fmt.Fprintf(s.out, "          [slack] message updated (%s):\n%s\n", title, indent(strings.Join(changed, "\n")))
	}
}

func indent(s string) string {
	return "            │ " + strings.ReplaceAll(s, "\n", "\n            │ ")
}

// messageOf finds the investigation's message and whether its buttons are live.
func (s *demoSlack) messageOf(threatID string) (ts string, live bool) {
	for _, m := range s.fake.Messages() {
		if m.ThreadTS == "" && strings.Contains(string(m.Metadata), `"threat_id":"`+threatID+`"`) {
			return m.TS, strings.Contains(string(m.Blocks), `"s1c_approve"`)
		}
	}
	return "", false
}

// click plays Slack: alice clicks Approve on the threat's message. It reports false
// while the message has no live buttons yet.
func (s *demoSlack) click(ctx context.Context, threatID string) (bool, error) {
	ts, live := s.messageOf(threatID)
	if !live {
		return false, nil
	}
	now := time.Now()
	c := fakeslack.Click{Team: "T0DEMO", User: slackClicker, UserName: "alice", ActionID: "s1c_approve", Value: threatID,
		Channel: slackChannel, MessageTS: ts, TriggerID: fmt.Sprintf("trigger.%d", now.UnixNano()), ActionTS: fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)}
	resp, err := fakeslack.Post(&http.Client{Timeout: 5 * time.Second}, s.botURL+"/slack/interactions", slackSecret, c.Form(), now)
	if err != nil {
		return false, fmt.Errorf("clicking Approve in Slack: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return false, fmt.Errorf("the bot answered the click %s: %s", resp.Status, body)
	}
	fmt.Fprintf(s.out, "          [slack] %s clicks Approve (a request signed as Slack signs it, sent to the bot)\n", slackClickerEmail)
	return true, nil
}

// check verifies what Slack saw: one message per investigation that posted, the one
// approved from Slack says who approved it (authenticated by Slack) and how it ended,
// and nobody was refused.
func (s *demoSlack) check(slackThreat string) []string {
	var problems []string
	perThreat := map[string]int{}
	for _, m := range s.fake.Messages() {
		if m.ThreadTS != "" {
			continue
		}
		perThreat[string(m.Metadata)]++
	}
	for md, n := range perThreat {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("Slack: %d messages for %s", n, md))
		}
	}
	if slackThreat == "" {
		return append(problems, "Slack: no investigation was approved from Slack")
	}
	ts, _ := s.messageOf(slackThreat)
	var final string
	for _, m := range s.fake.Messages() {
		if m.TS == ts {
			final = fakeslack.Render(m.Blocks)
		}
	}
	for _, want := range []string{"Approved by " + slackClickerEmail + " (identity: slack)", "Outcome: mitigated"} {
		if !strings.Contains(final, want) {
			problems = append(problems, fmt.Sprintf("Slack: the message of %s does not say %q:\n%s", slackThreat, want, final))
		}
	}
	// The bot answers each click only to the clicker: a confirmation, or why not.
	for _, e := range s.fake.Ephemerals() {
		if !strings.HasPrefix(e.Text, "Approved") {
			problems = append(problems, "Slack: the bot refused a click: "+e.Text)
		}
	}
	return problems
}
