package fakeslack

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
)

// ResponsePath is where the fake takes the posts to a response_url: give a slash
// command URL+ResponsePath+"<anything>" as its response_url.
const ResponsePath = "/response/"

// Response is a message posted to a response_url.
type Response struct {
	// ID is the part of the path after ResponsePath.
	ID           string          `json:"-"`
	ResponseType string          `json:"response_type"`
	Text         string          `json:"text"`
	Blocks       json.RawMessage `json:"blocks,omitempty"`
	// ReplaceOriginal and DeleteOriginal are as the poster sent them.
	ReplaceOriginal bool `json:"replace_original"`
	DeleteOriginal  bool `json:"delete_original"`
}

// Responses returns the messages posted to response URLs, in order.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.responses)
}

// serveResponse records a post to a response_url; Slack answers such posts "ok".
func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	var resp Response
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&resp); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	resp.ID = strings.TrimPrefix(r.URL.Path, ResponsePath)
	s.mu.Lock()
	down := s.down
	if !down {
		s.responses = append(s.responses, resp)
	}
	s.mu.Unlock()
	if down {
		http.Error(w, "slack is down", http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ok")
}
