package policy

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// write replaces the file and moves its mtime on, as an editor would.
func write(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	require.NoError(t, os.Chtimes(path, mtime, mtime))
}

func TestStoreHotReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	clock := &fakeClock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	v1 := string(ExampleYAML)
	write(t, path, v1, clock.t)
	s, err := NewStore(path, clock.now)
	require.NoError(t, err)
	p1, err := s.Current()
	require.NoError(t, err)
	assert.Equal(t, "2026-06-01.1", p1.Version)

	// A valid change is picked up, but only once 5 s have passed since the last look.
	v2 := strings.Replace(v1, `version: "2026-06-01.1"`, `version: "2026-06-02.1"`, 1)
	write(t, path, v2, clock.t.Add(time.Second))
	clock.advance(4 * time.Second)
	p, err := s.Current()
	require.NoError(t, err)
	assert.Same(t, p1, p, "not re-read within 5 s")
	clock.advance(time.Second)
	p2, err := s.Current()
	require.NoError(t, err)
	assert.Equal(t, "2026-06-02.1", p2.Version)
	assert.NotEqual(t, p1.VersionString(), p2.VersionString())

	// Nothing changed: the same policy, not re-parsed.
	clock.advance(10 * time.Second)
	p, err = s.Current()
	require.NoError(t, err)
	assert.Same(t, p2, p)

	// An invalid change keeps the previous policy and reports why, until it is fixed.
	write(t, path, strings.Replace(v2, "mode: approve", "mode: yolo", 1), clock.t.Add(time.Second))
	clock.advance(5 * time.Second)
	p, err = s.Current()
	assert.Same(t, p2, p, "never a half-parsed policy")
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+`:23:7: mode: unknown mode "yolo"`)
	assert.Contains(t, err.Error(), "keeping the previous policy 2026-06-02.1 (sha256:")
	clock.advance(5 * time.Second)
	p, err2 := s.Current()
	assert.Same(t, p2, p)
	assert.Equal(t, err, err2, "the same error until the file changes")

	// Fixed (same size as the broken file, so only the mtime tells): picked up again.
	fixed := strings.Replace(v2, "mode: approve", "mode: off    ", 1)
	write(t, path, fixed, clock.t.Add(2*time.Second))
	clock.advance(5 * time.Second)
	p3, err := s.Current()
	require.NoError(t, err)
	assert.Equal(t, ModeOff, p3.Mode)

	// The file disappears: keep the policy, report it; it comes back: reload.
	require.NoError(t, os.Remove(path))
	clock.advance(5 * time.Second)
	p, err = s.Current()
	assert.Same(t, p3, p)
	assert.ErrorIs(t, err, os.ErrNotExist)
	write(t, path, v1, clock.t)
	clock.advance(5 * time.Second)
	p, err = s.Current()
	require.NoError(t, err)
	assert.Equal(t, p1.VersionString(), p.VersionString())
}

func TestStoreNeedsAValidFileToStart(t *testing.T) {
	dir := t.TempDir()
	_, err := NewStore(filepath.Join(dir, "missing.yaml"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
	path := filepath.Join(dir, "bad.yaml")
	write(t, path, "mode: yolo\n", time.Now())
	_, err = NewStore(path, nil)
	assert.ErrorContains(t, err, "bad.yaml:1:7: mode: unknown mode")
}

func TestStoreIsSafeForConcurrentUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	clock := &fakeClock{t: time.Unix(0, 0)}
	write(t, path, string(ExampleYAML), clock.t)
	s, err := NewStore(path, clock.now)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				clock.advance(time.Second)
				p, err := s.Current()
				assert.NoError(t, err)
				assert.NotNil(t, p)
			}
		})
	}
	wg.Wait()
}
