package audit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The file is fsynced after every record, before Write returns.
func TestFileSyncsEveryRecord(t *testing.T) {
	f, err := OpenFile(filepath.Join(t.TempDir(), "audit.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	require.NotNil(t, f.sync, "OpenFile must enable fsync")
	osSync, syncs := f.sync, 0
	f.sync = func() error { syncs++; return osSync() }
	for i, step := range []string{"a", "b", "c"} {
		r := Record{Time: time.Now(), ID: "inv/" + step, Kind: KindNote, InvestigationID: "inv", ThreatID: "t", Actor: SystemActor}
		require.NoError(t, f.Write(context.Background(), r))
		require.Equal(t, i+1, syncs)
	}
}
