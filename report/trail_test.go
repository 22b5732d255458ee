package report

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/audit"
)

// writeLog writes records as the worker's audit writer does.
func writeLog(t *testing.T, name string, recs ...audit.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := audit.NewWriter(&buf)
	for _, r := range recs {
		require.NoError(t, w.Write(context.Background(), r))
	}
	require.NoError(t, os.WriteFile(name, buf.Bytes(), 0o600))
	return buf.Bytes()
}

func TestReadAuditFollowsRotationAndKeepsTheWindowsInvestigations(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.jsonl")
	old := writeLog(t, filepath.Join(dir, "tmp"), rec("s1-threat/t1", "triage", audit.KindTriage, at(8, 2), triage("rules", "no LLM configured", at(8, 0), 0, 0, 0)))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(old)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(live+".1.gz", gz.Bytes(), 0o600))
	writeLog(t, live,
		rec("s1-threat/t1", "action/auto/kill", audit.KindActionVerified, at(8, 3), action("kill", "success")),
		rec("s1-threat/other", "triage", audit.KindTriage, at(8, 3)))
	f, err := os.OpenFile(live, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.WriteString(`{"id": "cut short by a cra`) // a crash mid-line
	require.NoError(t, f.Close())
	// The rotated file is older than the live one.
	require.NoError(t, os.Chtimes(live+".1.gz", at(9, 0), at(9, 0)))
	require.NoError(t, os.Chtimes(live, at(10, 0), at(10, 0)))
	// A file last written before the period holds none of it.
	writeLog(t, live+".2", rec("s1-threat/t1", "triage", audit.KindTriage, at(1, 0)))
	require.NoError(t, os.Chtimes(live+".2", week.From.Add(-time.Hour), week.From.Add(-time.Hour)))

	files, err := AuditFiles([]string{live}, week.From)
	require.NoError(t, err)
	assert.Equal(t, []string{live + ".1.gz", live}, files)

	recs, skipped, err := ReadAudit(files, map[string]bool{"s1-threat/t1": true})
	require.NoError(t, err)
	assert.Equal(t, 1, skipped)
	require.Len(t, recs, 2)
	assert.Equal(t, audit.KindTriage, recs[0].Kind)
	assert.Equal(t, at(8, 0), recs[0].ThreatCreatedAt)
	tr := Trails(recs, nil)
	require.Len(t, tr, 1)
	assert.Equal(t, RulesNoModel, tr[0].RulesReason)
	assert.Equal(t, at(8, 3), tr[0].MitigatedAt)
	assert.True(t, tr[0].AutoActions)

	_, _, err = ReadAudit([]string{filepath.Join(dir, "missing")}, nil)
	assert.ErrorContains(t, err, "opening the audit log")
}

func TestRulesReasonOf(t *testing.T) {
	assert.Equal(t, "", RulesReasonOf("openai:gpt", "suspected prompt injection in 1 field(s)"))
	assert.Equal(t, RulesObvious, RulesReasonOf("rules", "obvious case, the model was not asked: EICAR"))
	assert.Equal(t, RulesDisagreed, RulesReasonOf("rules", "the model contradicts SentinelOne's rating (malicious)"))
	assert.Equal(t, RulesModelFailed, RulesReasonOf("none", "model failed: x; rules failed: y"))
	assert.Equal(t, RulesOther, RulesReasonOf("rules", ""))
}
