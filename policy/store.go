package policy

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// ReloadInterval is how often, at most, a Store looks at its file again.
const ReloadInterval = 5 * time.Second

// Store serves the policy of one file and reloads it when the file changes (hot reload).
// It is safe for concurrent use. It is meant for activities and the worker, never for
// workflow code: it reads the file system and the clock.
type Store struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	current *Policy
	err     error // of the last load attempt; nil once a valid file is loaded
	checked time.Time
	modTime time.Time
	size    int64
}

// NewStore loads the policy at path; it fails if the file is missing or invalid. now is
// the clock (time.Now in production).
func NewStore(path string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{path: path, now: now}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	p, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	s.current, s.checked, s.modTime, s.size = p, now(), fi.ModTime(), fi.Size()
	return s, nil
}

// Current returns the policy in force. At most every ReloadInterval (by the injected
// clock) it stats the file and reloads it if its modification time or size changed. If
// the file has become unreadable or invalid, Current keeps returning the last valid policy
// together with the error — never a half-parsed policy — until the file is fixed; the
// caller logs the error (it is the same error value until the file changes again).
func (s *Store) Current() (*Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.checked) < ReloadInterval {
		return s.current, s.err
	}
	s.checked = now
	fi, err := os.Stat(s.path)
	if err != nil {
		s.err = fmt.Errorf("policy file %s: %w; keeping %s", s.path, err, s.current.VersionString())
		s.modTime, s.size = time.Time{}, -1 // reload as soon as it is back
		return s.current, s.err
	}
	if fi.ModTime().Equal(s.modTime) && fi.Size() == s.size {
		return s.current, s.err
	}
	s.modTime, s.size = fi.ModTime(), fi.Size()
	p, err := LoadFile(s.path)
	if err != nil {
		s.err = fmt.Errorf("%w\nkeeping the previous policy %s", err, s.current.VersionString())
		return s.current, s.err
	}
	s.current, s.err = p, nil
	return s.current, nil
}
