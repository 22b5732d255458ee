package activities

import (
	"context"
	"sync"
	"time"

	"github.com/s1copilot/s1copilot/s1client"
)

// VerifyReadShare is how long New's activities let a verification reuse a GET /threats
// of the same threat. The actions of one investigation (kill and quarantine, say) are
// verified in parallel on the same schedule; one read tells them all their state.
// Successive polls of one action are MitigationPoll apart, far longer.
const VerifyReadShare = time.Second

// sharedReads lets verifications of one threat share a read still in flight or made
// within window. Only verification uses it: a read that decides whether to POST is
// always the console's answer of the moment. The zero value shares in-flight reads.
type sharedReads struct {
	window time.Duration
	mu     sync.Mutex
	reads  map[string]*sharedRead
}

type sharedRead struct {
	done chan struct{} // closed when t, err and at are set
	t    s1client.Threat
	err  error
	at   time.Time
}

func (s *sharedReads) threat(ctx context.Context, clock func() time.Time, id string, read func(context.Context, string) (s1client.Threat, error)) (s1client.Threat, error) {
	now := clock()
	s.mu.Lock()
	if s.reads == nil {
		s.reads = map[string]*sharedRead{}
	}
	for k, r := range s.reads {
		if !r.at.IsZero() && now.Sub(r.at) > s.window {
			delete(s.reads, k)
		}
	}
	if r, ok := s.reads[id]; ok {
		s.mu.Unlock()
		select {
		case <-r.done:
			return r.t, r.err
		case <-ctx.Done():
			return s1client.Threat{}, ctx.Err()
		}
	}
	r := &sharedRead{done: make(chan struct{})}
	s.reads[id] = r
	s.mu.Unlock()

	t, err := read(ctx, id)
	s.mu.Lock()
	r.t, r.err, r.at = t, err, clock()
	if err != nil || s.window == 0 {
		delete(s.reads, id) // waiters get the answer; the next attempt reads afresh
	}
	s.mu.Unlock()
	close(r.done)
	return t, err
}
