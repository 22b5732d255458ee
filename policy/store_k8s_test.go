package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configMapDir lays a policy out as the kubelet mounts a ConfigMap volume (its
// AtomicWriter): the file is a symlink into ..data, itself a symlink to a timestamped
// directory holding the real file.
//
//	dir/..2026_12_05_08_00_00.000000001/policy.yaml
//	dir/..data -> ..2026_12_05_08_00_00.000000001
//	dir/policy.yaml -> ..data/policy.yaml
type configMapDir struct {
	t       *testing.T
	dir     string
	current string // the timestamped directory ..data points to
	n       int
}

func newConfigMapDir(t *testing.T, content string, mtime time.Time) *configMapDir {
	t.Helper()
	c := &configMapDir{t: t, dir: t.TempDir()}
	c.current = c.writeVersion(content, mtime)
	require.NoError(t, os.Symlink(c.current, filepath.Join(c.dir, "..data")))
	require.NoError(t, os.Symlink(filepath.Join("..data", "policy.yaml"), filepath.Join(c.dir, "policy.yaml")))
	return c
}

func (c *configMapDir) path() string { return filepath.Join(c.dir, "policy.yaml") }

// writeVersion writes a new timestamped directory with the file, as the kubelet does
// before the swap; it returns the directory's name (relative, like the kubelet's links).
func (c *configMapDir) writeVersion(content string, mtime time.Time) string {
	c.t.Helper()
	c.n++
	name := "..2026_12_05_08_0" + string(rune('0'+c.n)) + "_00.00000000" + string(rune('0'+c.n))
	require.NoError(c.t, os.Mkdir(filepath.Join(c.dir, name), 0o755))
	file := filepath.Join(c.dir, name, "policy.yaml")
	require.NoError(c.t, os.WriteFile(file, []byte(content), 0o644))
	require.NoError(c.t, os.Chtimes(file, mtime, mtime))
	return name
}

// update swaps the ConfigMap the kubelet's way: a new timestamped directory, a new
// ..data_tmp symlink to it renamed atomically over ..data, then the old directory removed.
func (c *configMapDir) update(content string, mtime time.Time) {
	c.t.Helper()
	next := c.writeVersion(content, mtime)
	tmp := filepath.Join(c.dir, "..data_tmp")
	require.NoError(c.t, os.Symlink(next, tmp))
	require.NoError(c.t, os.Rename(tmp, filepath.Join(c.dir, "..data")))
	require.NoError(c.t, os.RemoveAll(filepath.Join(c.dir, c.current)))
	c.current = next
}

func TestStoreReloadsAKubernetesConfigMapUpdate(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	v1 := string(ExampleYAML)
	require.Contains(t, v1, `version: "2026-06-01.1"`)
	cm := newConfigMapDir(t, v1, clock.t)
	s, err := NewStore(cm.path(), clock.now)
	require.NoError(t, err)
	p1, err := s.Current()
	require.NoError(t, err)
	assert.Equal(t, "2026-06-01.1", p1.Version)

	// An ordinary update: new content, new mtime.
	v2 := strings.Replace(v1, `version: "2026-06-01.1"`, `version: "2026-06-02.1"`, 1)
	mtime := clock.t.Add(30 * time.Second)
	cm.update(v2, mtime)
	clock.advance(ReloadInterval)
	p2, err := s.Current()
	require.NoError(t, err)
	assert.Equal(t, "2026-06-02.1", p2.Version, "the ConfigMap update is picked up")

	// An update whose file has the same size and the same mtime as the one it replaces
	// (the kubelet sets no particular mtime; one edit may well be of the same length):
	// only the swapped ..data link tells. It must not be missed.
	v3 := strings.Replace(v1, `version: "2026-06-01.1"`, `version: "2026-06-03.1"`, 1)
	require.Len(t, v3, len(v2))
	cm.update(v3, mtime)
	clock.advance(ReloadInterval - time.Second)
	p, err := s.Current()
	require.NoError(t, err)
	assert.Same(t, p2, p, "not looked at again within ReloadInterval")
	clock.advance(time.Second)
	p3, err := s.Current()
	require.NoError(t, err)
	assert.Equal(t, "2026-06-03.1", p3.Version, "a same-size, same-mtime ConfigMap update is picked up")

	// Nothing changed: the same policy, not re-parsed.
	clock.advance(ReloadInterval)
	p, err = s.Current()
	require.NoError(t, err)
	assert.Same(t, p3, p)

	// An invalid update keeps the last valid policy and says why.
	cm.update(strings.Replace(v3, "mode: approve", "mode: yolo", 1), clock.t)
	clock.advance(ReloadInterval)
	p, err = s.Current()
	assert.Same(t, p3, p, "never a half-parsed policy")
	assert.ErrorContains(t, err, `unknown mode "yolo"`)
}
