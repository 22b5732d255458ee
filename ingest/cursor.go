package ingest

import "time"

// StreamState is the durable cursor of one stream.
type StreamState struct {
	// Since is the newest timestamp seen so far (SentinelOne's clock, not ours).
	Since time.Time `json:"since"`
	// Seen holds, for threats inside the overlap window, the timestamp already handled,
	// so re-reading the window does not handle them again, and counting its entries tells
	// whether the console holds anything in the window the poller has not handled.
	Seen map[string]time.Time `json:"seen,omitempty"`
	// SweptAt is when (the poller's clock) the stream last re-listed its whole overlap
	// window; zero (a state from before sweeps, or a new poller) means the next poll does.
	SweptAt time.Time `json:"sweptAt,omitzero"`
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
	c := StreamState{Since: s.Since, Seen: make(map[string]time.Time, len(s.Seen)), SweptAt: s.SweptAt}
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

// window is the overlap window behind the cursor, [lo, hi). Both bounds are on the
// console's microsecond grid (its timestamps and the wire format have no finer digit), so
// the Seen entries counted in the window and the threats the console counts in it are
// bounded exactly alike.
func (s StreamState) window(overlap time.Duration) (lo, hi time.Time) {
	return s.Since.Add(-overlap).Truncate(time.Microsecond), s.Since.Truncate(time.Microsecond)
}

// seenIn counts the Seen entries in [lo, hi).
func (s StreamState) seenIn(lo, hi time.Time) int {
	n := 0
	for _, at := range s.Seen {
		if !at.Before(lo) && at.Before(hi) {
			n++
		}
	}
	return n
}

// forget drops what has left the overlap window; the cursor alone covers it now.
func (s *StreamState) forget(overlap time.Duration) {
	horizon, _ := s.window(overlap)
	for id, at := range s.Seen {
		if at.Before(horizon) {
			delete(s.Seen, id)
		}
	}
}
