// Package fakeslack is a fake of the Slack Web API for tests and the demo: the methods
// s1copilot calls (chat.postMessage, chat.update, chat.postEphemeral, views.open,
// users.info, conversations.history, conversations.replies, auth.test), with the
// responses slack-go decodes, a record of every call, and faults to inject (Slack down,
// rate limited with Retry-After). Point slack-go at it with slack.OptionAPIURL(URL+"/api/").
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one request the fake received.
type Call struct {
	Method string
	// Args are the request's arguments: form fields, or a JSON body's top-level
	// fields (objects kept as JSON text).
	Args url.Values
}

// Message is a message the fake holds.
type Message struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Updates counts chat.update calls on it.
	Updates int `json:"-"`
}

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Channel, User, Text string
	Blocks              json.RawMessage
}

// User is a workspace member users.info answers for.
type User struct {
	ID, Name, Email string
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	// Token is the bot token requests must carry (Authorization: Bearer).
	Token string
	// OnMessage, when set, is called after each message is posted or updated (the demo
	// prints it); it runs outside the fake's lock.
	OnMessage func(kind string, m Message)

	mu         sync.Mutex
	calls      []Call
	messages   []*Message
	ephemerals []Ephemeral
	views      []json.RawMessage
	responses  []Response
	users      map[string]User
	next       int64
	down       bool
	limited    int
	retryAfter time.Duration
}

// New makes a fake that accepts token and knows users.
func New(token string, users ...User) *Server {
	s := &Server{Token: token, users: map[string]User{}, next: 1_700_000_000_000100}
	for _, u := range users {
		s.users[u.ID] = u
	}
	return s
}

// SetDown makes every call fail with 503 (Slack unreachable) until SetDown(false).
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// RateLimit answers the next n calls 429 with Retry-After.
func (s *Server) RateLimit(n int, retryAfter time.Duration) {
	s.mu.Lock()
	s.limited, s.retryAfter = n, retryAfter
	s.mu.Unlock()
}

// Calls returns the calls received so far, optionally only those of some methods.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns copies of the messages posted (top level and replies), in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Ephemerals returns the ephemeral messages posted.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ephemerals)
}

// Views returns the views (modals) opened.
func (s *Server) Views() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.views)
}

// ServeHTTP answers /api/<method>, and /response/<id> as a slash command's response_url.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ResponsePath) {
		s.serveResponse(w, r)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	args, err := readArgs(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Args: args})
	switch {
	case s.down:
		s.mu.Unlock()
		http.Error(w, "slack is down", http.StatusServiceUnavailable)
		return
	case s.limited > 0:
		s.limited--
		ra := s.retryAfter
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(ra.Seconds())))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		return
	}
	// slack-go sends the token as a header on JSON calls, as a form field on form ones.
	if r.Header.Get("Authorization") != "Bearer "+s.Token && (s.Token == "" || args.Get("token") != s.Token) {
		s.mu.Unlock()
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	resp, notify := s.handle(method, args)
	s.mu.Unlock()
	if notify != nil && s.OnMessage != nil {
		s.OnMessage(method, *notify)
	}
	writeJSON(w, resp)
}

// handle runs one method under the lock; notify is a message to report to OnMessage.
func (s *Server) handle(method string, a url.Values) (resp map[string]any, notify *Message) {
	fail := func(e string) map[string]any { return map[string]any{"ok": false, "error": e} }
	switch method {
	case "auth.test":
		return map[string]any{"ok": true, "user_id": "UBOT", "team_id": "T0001", "bot_id": "BBOT"}, nil
	case "chat.postMessage":
		if a.Get("channel") == "" {
			return fail("channel_not_found"), nil
		}
		m := &Message{Channel: a.Get("channel"), TS: s.ts(), ThreadTS: a.Get("thread_ts"), Text: a.Get("text"),
			Blocks: raw(a.Get("blocks")), Metadata: raw(a.Get("metadata"))}
		s.messages = append(s.messages, m)
		cp := *m
		return map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "message": m}, &cp
	case "chat.update":
		m := s.find(a.Get("channel"), a.Get("ts"))
		if m == nil {
			return fail("message_not_found"), nil
		}
		m.Text, m.Updates = a.Get("text"), m.Updates+1
		if b := a.Get("blocks"); b != "" {
			m.Blocks = raw(b)
		}
		if md := a.Get("metadata"); md != "" {
			m.Metadata = raw(md)
		}
		cp := *m
		return map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text}, &cp
	case "chat.postEphemeral":
		s.ephemerals = append(s.ephemerals, Ephemeral{Channel: a.Get("channel"), User: a.Get("user"), Text: a.Get("text"), Blocks: raw(a.Get("blocks"))})
		return map[string]any{"ok": true, "message_ts": s.ts()}, nil
	case "views.open":
		if a.Get("trigger_id") == "" {
			return fail("invalid_trigger_id"), nil
		}
		s.views = append(s.views, raw(a.Get("view")))
		return map[string]any{"ok": true, "view": map[string]any{"id": fmt.Sprintf("V%d", len(s.views))}}, nil
	case "users.info":
		u, ok := s.users[a.Get("user")]
		if !ok {
			return fail("user_not_found"), nil
		}
		return map[string]any{"ok": true, "user": map[string]any{"id": u.ID, "name": u.Name,
			"profile": map[string]any{"email": u.Email, "real_name": u.Name}}}, nil
	case "conversations.history":
		var out []*Message
		for i := len(s.messages) - 1; i >= 0; i-- {
			if m := s.messages[i]; m.Channel == a.Get("channel") && m.ThreadTS == "" {
				out = append(out, s.withMetadata(m, a))
			}
		}
		return map[string]any{"ok": true, "messages": out, "has_more": false}, nil
	case "conversations.replies":
		var out []*Message
		for _, m := range s.messages {
			if m.Channel == a.Get("channel") && (m.TS == a.Get("ts") || m.ThreadTS == a.Get("ts")) {
				out = append(out, s.withMetadata(m, a))
			}
		}
		if len(out) == 0 {
			return fail("thread_not_found"), nil
		}
		return map[string]any{"ok": true, "messages": out, "has_more": false}, nil
	}
	return fail("unknown_method"), nil
}

// withMetadata returns m as conversations.* answer it: metadata only when asked for.
func (s *Server) withMetadata(m *Message, a url.Values) *Message {
	cp := *m
	if a.Get("include_all_metadata") != "true" && a.Get("include_all_metadata") != "1" {
		cp.Metadata = nil
	}
	return &cp
}

func (s *Server) find(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) ts() string {
	s.next++
	return fmt.Sprintf("%d.%06d", s.next/1_000_000, s.next%1_000_000)
}

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// readArgs reads a form or a JSON body into one set of arguments.
func readArgs(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("reading the form: %w", err)
		}
		return r.Form, nil
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("reading the JSON body: %w", err)
	}
	out := url.Values{}
	for k, v := range body {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out.Set(k, s)
		} else {
			out.Set(k, string(v))
		}
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
