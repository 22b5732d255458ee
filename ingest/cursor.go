package ingest

import "time"

// StreamState is the durable cursor of one stream.
type StreamState struct {
	// Since is the newest timestamp seen so far (SentinelOne's clock, not ours).
	Since time.Time `json:"since"`
	// Seen holds, for threats inside the overlap window, the timestamp already handled,
	// so re-reading the window does not handle them again.
	Seen map[string]time.Time `json:"seen,omitempty"`
}

// PollState is the poller's durable cursor, carried from one poll to the next by the
// poller workflow (and across its continue-as-new).
type PollState struct {
	// Created follows new threats by createdAt.
	Created StreamState `json:"created"`
	// Updated follows changed threats by updatedAt.
	Updated StreamState `json:"updated"`
}

func (s StreamState) clone() StreamState {
	c := StreamState{Since: s.Since, Seen: make(map[string]time.Time, len(s.Seen))}
	for id, at := range s.Seen {
		c.Seen[id] = at
	}
	return c
}

func (s *StreamState) advance(at time.Time) {
	if at.After(s.Since) {
		s.Since = at
	}
}

func (s *StreamState) markSeen(id string, at time.Time) {
	if at.After(s.Seen[id]) {
		s.Seen[id] = at
	}
}

// forget drops what has left the overlap window; the cursor alone covers it now.
func (s *StreamState) forget(overlap time.Duration) {
	horizon := s.Since.Add(-overlap)
	for id, at := range s.Seen {
		if at.Before(horizon) {
			delete(s.Seen, id)
		}
	}
}
