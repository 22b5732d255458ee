package llm_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/eval/evalset"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
)

// visibleAccounts are the well-known accounts pseudonymisation leaves visible
// on purpose (they are the same on every machine and identify nobody; see
// guard/pseudonymize.go). Every other host and user name must be hidden.
var visibleAccounts = map[string]bool{
	"system": true, "root": true, "administrator": true, "www-data": true, "public": true, "user": true,
}

// virtualDomains are the domains of virtual accounts (NT SERVICE\MSSQLSERVER,
// IIS APPPOOL\intranet), which pseudonymisation also leaves visible on purpose.
var virtualDomains = map[string]bool{"nt authority": true, "nt service": true, "iis apppool": true}

// scenarioFiles are the demo scenario and every eval scenario file.
func scenarioFiles(t *testing.T) []*evalset.File {
	t.Helper()
	files, err := evalset.LoadDir(filepath.Join("..", "tools", "eval", "scenarios"))
	require.NoError(t, err)
	demo, err := scenario.LoadFS(scenarios.FS, "demo")
	require.NoError(t, err)
	f := &evalset.File{Name: "demo.json", Scenario: demo}
	for _, th := range demo.Threats {
		f.Cases = append(f.Cases, evalset.Case{File: f.Name, ThreatID: th.ID, ThreatName: th.ThreatName})
	}
	return append(files, f)
}

var profileRE = regexp.MustCompile(`(?i)\\users\\([^\\]+)\\|/(?:home|Users)/([^/]+)/`)

func userPart(s string) string {
	if i := strings.LastIndexByte(s, '\\'); i >= 0 {
		if virtualDomains[strings.ToLower(strings.TrimSpace(s[:i]))] {
			return ""
		}
		s = s[i+1:]
	}
	s, _, _ = strings.Cut(s, "@")
	return strings.TrimSpace(s)
}

// threatNames lists, from the scenario file itself, the names one threat's
// request must not show: every computer name of the scenario, and the threat's
// own process user, its agent's last logged-in user and the profile directories
// of its file path and command line.
func threatNames(sc *scenario.Scenario, threatID string) []string {
	var names []string
	for _, ag := range sc.Agents {
		names = append(names, ag.ComputerName)
	}
	for _, th := range sc.Threats {
		if th.ID != threatID {
			continue
		}
		names = append(names, userPart(th.ProcessUser))
		for _, ag := range sc.Agents {
			if ag.ID == th.AgentID {
				names = append(names, userPart(ag.LastLoggedInUserName))
			}
		}
		for _, m := range profileRE.FindAllStringSubmatch(th.FilePath+" "+th.MaliciousProcessArguments, -1) {
			names = append(names, m[1]+m[2])
		}
	}
	var out []string
	for _, n := range names {
		if n != "" && !visibleAccounts[strings.ToLower(n)] {
			out = append(out, n)
		}
	}
	return out
}

// named reports whether name occurs in s, case-insensitively, not inside a
// longer name (letters, digits, '_' and '-' continue a name).
func named(s, name string) bool {
	return regexp.MustCompile(`(?i)(?:^|[^\pL\pN_-])` + regexp.QuoteMeta(name) + `(?:$|[^\pL\pN_-])`).MatchString(s)
}

// TestPseudonymizationOnEveryScenario runs every threat of the demo and of the
// eval set through the pseudonymising analyzer: the request shows none of the
// scenario's host and user names, and the analysis the analyst sees has them back.
func TestPseudonymizationOnEveryScenario(t *testing.T) {
	ctx := context.Background()
	threats, checked := 0, 0
	for _, f := range scenarioFiles(t) {
		evs, err := evalset.CollectEvidence(ctx, f)
		require.NoError(t, err)
		for i, ev := range evs {
			o, bodies := llm.NewEchoProviderForTest(t, true)
			a, err := o.Analyze(ctx, ev)
			require.NoError(t, err, "%s %s", f.Name, ev.Facts.ThreatID)
			raw := bodies()
			require.Len(t, raw, 1, "%s %s: the echoed citation is grounded", f.Name, ev.Facts.ThreatID)
			threats++
			for _, name := range threatNames(f.Scenario, f.Cases[i].ThreatID) {
				checked++
				assert.False(t, named(raw[0], name), "%s threat %s: the request names %q", f.Name, ev.Facts.ThreatID, name)
			}
			assert.True(t, a.Pseudonymized)
			assert.Contains(t, a.Summary, "ran on "+ev.Facts.AgentName, "%s %s: the real host is back", f.Name, ev.Facts.ThreatID)
			assert.Equal(t, `"`+ev.Facts.AgentName+`"`, a.AttackTimeline[0].Evidence)
			if ev.Facts.ProcessUser != "" {
				assert.Contains(t, a.Summary, " as "+ev.Facts.ProcessUser+".", "%s %s: the real user is back", f.Name, ev.Facts.ThreatID)
			}
			assert.NotRegexp(t, `(?i)\b(HOST|USER)-\d`, a.Summary)
		}
	}
	require.Greater(t, threats, 60)
	t.Logf("%d threats, %d name checks", threats, checked)
}
