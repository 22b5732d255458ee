package main

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThreatArgBeforeOrAfterFlags(t *testing.T) {
	for _, args := range [][]string{{"42", "--as", "alice"}, {"--as", "alice", "42"}} {
		fs := flag.NewFlagSet("approve", flag.ContinueOnError)
		as := fs.String("as", "", "")
		id, err := threatArg(fs, args)
		require.NoError(t, err)
		assert.Equal(t, "42", id)
		assert.Equal(t, "alice", *as)
	}
	_, err := threatArg(flag.NewFlagSet("status", flag.ContinueOnError), nil)
	assert.ErrorContains(t, err, "status needs a THREAT_ID")
}

// Bad input is refused before anything is sent, with what to fix.
func TestDecideNeedsIdentityAndReason(t *testing.T) {
	err := run(context.Background(), []string{"approve", "42"})
	assert.ErrorContains(t, err, "approve needs --as NAME and --reason TEXT")
	err = run(context.Background(), []string{"reject", "42", "--as", "bob"})
	assert.ErrorContains(t, err, "reject needs --reason TEXT")
	assert.ErrorContains(t, run(context.Background(), []string{"approve", "42", "--as", "a", "--reason", "r", "--only", "kill,nuke"}), `--only: unknown action "nuke"`)
	assert.ErrorContains(t, run(context.Background(), []string{"reject", "42", "--as", "a", "--reason", "r", "--only", "kill"}), "--only goes with approve")
	assert.ErrorIs(t, run(context.Background(), nil), flag.ErrHelp)
	assert.ErrorContains(t, run(context.Background(), []string{"frobnicate"}), `unknown command "frobnicate"`)
}

func TestReportPeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "24h": 24 * time.Hour, "30m": 30 * time.Minute} {
		got, err := parsePeriod(in)
		if err != nil || got != want {
			t.Errorf("parsePeriod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "-1h", "week"} {
		if _, err := parsePeriod(bad); err == nil {
			t.Errorf("parsePeriod(%q) accepted", bad)
		}
	}
}
