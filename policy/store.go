package policy

import (
	"fmt"
	"os"
	"path/filepath"
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
	seen    fileVersion
}

// fileVersion tells one version of the file from another. The modification time and size
// alone can miss a change: a Kubernetes ConfigMap update swaps a ..data symlink to a new
// directory, and the new file may have the same size and time as the old. The path the
// symlinks resolve to and the file's identity (device and inode) change on such a swap,
// and on any replacement by rename.
type fileVersion struct {
	info     os.FileInfo // nil: no file
	resolved string
}

func statVersion(path string) (fileVersion, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileVersion{}, err
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fileVersion{}, err
	}
	return fileVersion{info: fi, resolved: resolved}, nil
}

func (v fileVersion) same(w fileVersion) bool {
	return v.info != nil && w.info != nil && v.resolved == w.resolved &&
		os.SameFile(v.info, w.info) && v.info.ModTime().Equal(w.info.ModTime()) && v.info.Size() == w.info.Size()
}

// NewStore loads the policy at path; it fails if the file is missing or invalid. now is
// the clock (time.Now in production).
func NewStore(path string, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{path: path, now: now}
	seen, err := statVersion(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	p, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	s.current, s.checked, s.seen = p, now(), seen
	return s, nil
}

// Current returns the policy in force. At most every ReloadInterval (by the injected
// clock) it stats the file and reloads it if its modification time, size, identity or
// resolved path (through symlinks, as in a Kubernetes ConfigMap volume) changed. If
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
	seen, err := statVersion(s.path)
	if err != nil {
		s.err = fmt.Errorf("policy file %s: %w; keeping %s", s.path, err, s.current.VersionString())
		s.seen = fileVersion{} // reload as soon as it is back
		return s.current, s.err
	}
	if seen.same(s.seen) {
		return s.current, s.err
	}
	s.seen = seen
	p, err := LoadFile(s.path)
	if err != nil {
		s.err = fmt.Errorf("%w\nkeeping the previous policy %s", err, s.current.VersionString())
		return s.current, s.err
	}
	s.current, s.err = p, nil
	return s.current, nil
}
