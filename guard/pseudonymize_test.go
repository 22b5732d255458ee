package guard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/guard/guardtest"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/investigation/investigationtest"
)

// everyString returns all strings reachable from v.
func everyString(v any) []string {
	var out []string
	visitStrings(v, func(_, s string) { out = append(out, s) })
	return out
}

func TestPseudonymizeReplacesEveryName(t *testing.T) {
	ev := investigationtest.Personal()
	before := fmt.Sprintf("%#v", ev)
	sent, names := Pseudonymize(ev)

	assert.Equal(t, before, fmt.Sprintf("%#v", ev), "the real evidence must not change")
	for _, s := range everyString(&sent) {
		for _, name := range []string{"FS-PROD-01", "mkowalski", "SALES-LT-042"} {
			assert.False(t, guardtest.Mentions(s, name), "%q still names %s", s, name)
		}
	}
	f := sent.Facts
	assert.Equal(t, "HOST-1", f.AgentName)
	assert.Equal(t, `FABRIKAM\USER-1`, f.ProcessUser, "the domain stays, the user goes")
	assert.Equal(t, `\Device\HarddiskVolume2\Users\USER-1\AppData\Local\Temp\lockbit3.exe`, f.FilePath)
	assert.Equal(t, `"C:\Users\USER-1\AppData\Local\Temp\lockbit3.exe" -path \\HOST-1\Finance -log HOST-1.fabrikam.local`, f.CommandLine,
		"same host, same token, in a UNC path and an FQDN")
	assert.Equal(t, `User FABRIKAM\USER-1 logged on to HOST-1 from HOST-2`, sent.Timeline[1].Description,
		"a second host named in the timeline gets its own token")
	assert.Equal(t, 3, names.Len())

	// Untouched: what is not a name.
	assert.Equal(t, ev.Facts.SHA1, f.SHA1)
	assert.Equal(t, ev.Facts.Indicators, f.Indicators)
	assert.Equal(t, ev.Facts.OSName, f.OSName)
	assert.Equal(t, ev.Timeline[0].At, sent.Timeline[0].At)
}

func TestPseudonymizeWordBoundaries(t *testing.T) {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{AgentName: "SRV", ProcessUser: `CORP\jo`}}
	for _, tc := range []struct{ in, want string }{
		{"SRVHOST", "SRVHOST"},
		{"SRV-01", "SRV-01"},
		{"SRV_backup", "SRV_backup"},
		{"XSRV", "XSRV"},
		{"srv", "HOST-1"},
		{"srv.corp.local", "HOST-1.corp.local"},
		{`\\SRV\c$`, `\\HOST-1\c$`},
		{`SRV$`, `HOST-1$`},
		{`net use \\srv\share & ping SRV2 & ping srv`, `net use \\HOST-1\share & ping SRV2 & ping HOST-1`},
		{`jo@corp.example logged on to srv`, `USER-1@corp.example logged on to HOST-1`},
		// joan is another user of the same domain; jones is just a word.
		{`CORP\jo and CORP\joan and jones`, `CORP\USER-1 and CORP\USER-2 and jones`},
		{"/home/jo/.ssh/authorized_keys", "/home/USER-1/.ssh/authorized_keys"},
		{"Jo's laptop", "USER-1's laptop"},
	} {
		ev.Facts.CommandLine = tc.in
		sent, _ := Pseudonymize(ev)
		assert.Equal(t, tc.want, sent.Facts.CommandLine, "in %q", tc.in)
	}
}

func TestPseudonymizeFindsNamesByShape(t *testing.T) {
	for _, tc := range []struct {
		text  string
		names []string // expected to be replaced
		kept  []string // expected to stay
	}{
		{`C:\Users\Anna Berg\Desktop\x.exe`, []string{"Anna Berg"}, nil},
		{`C:\Users\Public\x.exe C:\Users\Default\y`, nil, []string{"Public", "Default"}},
		{`\Device\HarddiskVolume3\Documents and Settings\pnguyen\z.dll`, []string{"pnguyen"}, nil},
		{`/Users/skim/Downloads/a.pkg`, []string{"skim"}, nil},
		{`Rubeus.exe asktgt /user:svc_backup /ptt`, []string{"svc_backup"}, nil},
		{`curl --user=deploy https://x`, []string{"deploy"}, nil},
		{`User tlee logged on interactively`, []string{"tlee"}, nil},
		{`PsExec64.exe \\FAB-APP-11 -s cmd`, []string{"FAB-APP-11"}, nil},
		{`copy x \\corp.fabrikam.com\NETLOGON\it\y`, nil, []string{"corp", "NETLOGON"}},
		{`logon from WKS-0042 over RDP from 185.220.101.33`, []string{"WKS-0042"}, []string{"185.220.101.33"}},
		{`downloaded from example and from T1059-x`, nil, []string{"example"}},
		{`Custom rule 'X' raised an alert on web-prod-03`, []string{"web-prod-03"}, nil},
		{`NT AUTHORITY\SYSTEM and root and www-data and FABRIKAM\Administrator`, nil, []string{"SYSTEM", "root", "www-data", "Administrator"}},
		{`IIS APPPOOL\intranet`, nil, []string{"intranet"}},
	} {
		ev := investigation.Evidence{Timeline: []investigation.TimelineItem{{Description: tc.text}}}
		sent, _ := Pseudonymize(ev)
		got := sent.Timeline[0].Description
		for _, n := range tc.names {
			assert.False(t, guardtest.Mentions(got, n), "%q: %s should be pseudonymised, got %q", tc.text, n, got)
		}
		for _, n := range tc.kept {
			assert.True(t, guardtest.Mentions(got, n), "%q: %s should stay, got %q", tc.text, n, got)
		}
	}
}

func TestPseudonymizeHostForms(t *testing.T) {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{
		AgentName:   "payments-api-7d9c6b7f9-x2kqp.prod.example.com",
		CommandLine: `PAYMENTS-API-7D\svc and payments-api-7d9c6b7f9-x2kqp and payments-api-7d9c6b7f9-x2kqp.prod.example.com`,
	}}
	sent, names := Pseudonymize(ev)
	assert.Equal(t, `HOST-1\svc and HOST-1 and HOST-1`, sent.Facts.CommandLine, "FQDN, short name and NetBIOS name are one host")
	assert.Equal(t, 1, names.Len())
	assert.Equal(t, "payments-api-7d9c6b7f9-x2kqp.prod.example.com", names.Restore("HOST-1"))
}

func TestPseudonymizeTokensNeverCollideWithTheData(t *testing.T) {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{
		AgentName: "FIN-FS-01", CommandLine: `ping HOST-1 && ping FIN-FS-01`,
	}}
	sent, names := Pseudonymize(ev)
	assert.Equal(t, "ping HOST-1 && ping HOST-2", sent.Facts.CommandLine)
	assert.Equal(t, "HOST-1 is not FIN-FS-01", names.Restore("HOST-1 is not HOST-2"),
		"a token-shaped string of the data is not a pseudonym and stays")
}

// fillStrings sets every exported string reachable from the pointer v to val,
// growing nil slices and maps to one element so nested fields are reached too.
func fillStrings(v reflect.Value, val string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(val)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillStrings(v.Field(i), val)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		if v.Len() == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		}
		for i := range v.Len() {
			fillStrings(v.Index(i), val)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillStrings(v.Index(i), val)
		}
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillStrings(v.Elem(), val)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fillStrings(k, val)
		fillStrings(e, val)
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		v.SetMapIndex(k, e)
	}
}

// TestPseudonymizeCoversEveryStringFieldOfEvidence fills every string field of
// investigation.Evidence, including fields added after this test was written
// (Evidence.Context, ...), with text naming the host and the user: none may
// survive.
func TestPseudonymizeCoversEveryStringFieldOfEvidence(t *testing.T) {
	var ev investigation.Evidence
	fillStrings(reflect.ValueOf(&ev).Elem(), `C:\Users\jdoe\x.exe on FS-PROD-01 (FS-PROD-01.corp)`)
	ev.Facts.AgentName = "FS-PROD-01"
	n := len(everyString(&ev))
	require.Greater(t, n, 25, "the fill must reach the string fields")

	sent, names := Pseudonymize(ev)
	require.Equal(t, 2, names.Len())
	got := everyString(&sent)
	require.Len(t, got, n)
	for _, s := range got {
		assert.False(t, guardtest.Mentions(s, "FS-PROD-01") || guardtest.Mentions(s, "jdoe"), "not pseudonymised: %q", s)
	}
	assert.True(t, guardtest.Mentions(fmt.Sprint(ev), "FS-PROD-01"), "the real evidence keeps its names")
}

// futureEvidence stands for string fields nobody has written yet: nested
// structs, pointers, maps (keys too), arrays, interfaces and named string types.
type futureEvidence struct {
	Evidence investigation.Evidence
	Context  *struct {
		ProcessTree []struct {
			Image, CommandLine string
			User               string
			Children           []map[string]string
		}
		Prevalence map[string]int
		Cloud      struct {
			Labels    [2]string
			Extra     any
			Namespace investigation.Verdict // a named string type
		}
	}
	unexported string
}

func TestPseudonymizeWalksUnknownFields(t *testing.T) {
	var fe futureEvidence
	fillStrings(reflect.ValueOf(&fe).Elem(), "ran on FS-PROD-01 as CORP\\jdoe")
	fe.Evidence.Facts.AgentName = "FS-PROD-01"
	fe.Context.ProcessTree[0].User = `CORP\jdoe`
	fe.Context.Cloud.Extra = map[string]any{"node": []any{"FS-PROD-01"}}
	fe.unexported = "kept as is"

	p := newPseudonyms(&fe)
	out := rewrite(fe, p.pseudonymize)
	for _, s := range everyString(&out) {
		assert.False(t, guardtest.Mentions(s, "FS-PROD-01") || guardtest.Mentions(s, "jdoe"), "not pseudonymised: %q", s)
	}
	assert.Equal(t, `CORP\USER-1`, out.Context.ProcessTree[0].User)
	assert.Contains(t, out.Context.Prevalence, `ran on HOST-1 as CORP\USER-1`, "map keys too")
	assert.Equal(t, []any{"HOST-1"}, out.Context.Cloud.Extra.(map[string]any)["node"])
	assert.Equal(t, "kept as is", out.unexported)
	// A deep copy: the original is untouched.
	assert.Equal(t, `CORP\jdoe`, fe.Context.ProcessTree[0].User)
	assert.Equal(t, []any{"FS-PROD-01"}, fe.Context.Cloud.Extra.(map[string]any)["node"])
	assert.Contains(t, fe.Context.Prevalence, `ran on FS-PROD-01 as CORP\jdoe`)
}

func TestPseudonymsRestoreAnalysis(t *testing.T) {
	_, names := Pseudonymize(investigationtest.Personal())
	a := investigation.Analysis{
		Summary:        "USER-1 ran lockbit on HOST-1; HOST-2 was the source. HOST-9 and USER-7 are made up. HOST-10 too.",
		AttackTimeline: []investigation.AttackStep{{Step: "host-1 encrypted", Evidence: `\\HOST-1\Finance`}},
		ActionReasons:  []investigation.ActionReason{{Action: investigation.ActionIsolate, Reason: "keep HOST-1 off the network"}},
		OpenQuestions:  []string{"Did USER-1 open the mail on HOST-2?"},
		CorrectionNote: "first answer rejected: cites HOST-1",
	}
	got := names.RestoreAnalysis(a)
	assert.Equal(t, "mkowalski ran lockbit on FS-PROD-01; SALES-LT-042 was the source. HOST-9 and USER-7 are made up. HOST-10 too.", got.Summary)
	assert.Equal(t, investigation.AttackStep{Step: "FS-PROD-01 encrypted", Evidence: `\\FS-PROD-01\Finance`}, got.AttackTimeline[0])
	assert.Equal(t, "keep FS-PROD-01 off the network", got.ActionReasons[0].Reason)
	assert.Equal(t, []string{"Did mkowalski open the mail on SALES-LT-042?"}, got.OpenQuestions)
	assert.Equal(t, "first answer rejected: cites FS-PROD-01", got.CorrectionNote)
	assert.Equal(t, "USER-1 ran lockbit on HOST-1; HOST-2 was the source. HOST-9 and USER-7 are made up. HOST-10 too.", a.Summary, "input untouched")
}

func TestPseudonymsNeverPrinted(t *testing.T) {
	_, names := Pseudonymize(investigationtest.Personal())
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "names", names)
	js, err := json.Marshal(map[string]any{"names": names})
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(names), fmt.Sprintf("%+v", names), fmt.Sprintf("%#v", names), fmt.Sprintf("%s", names), string(js), logs.String()} {
		for _, leak := range []string{"mkowalski", "FS-PROD-01", "SALES-LT-042", "HOST-1", "USER-1"} {
			assert.NotContains(t, out, leak)
		}
	}
	assert.Contains(t, fmt.Sprint(names), "3 names")
}

func TestPseudonymizeNothingToHide(t *testing.T) {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{ThreatName: "x.exe", ProcessUser: `NT AUTHORITY\SYSTEM`}}
	sent, names := Pseudonymize(ev)
	assert.Equal(t, ev, sent)
	assert.Equal(t, 0, names.Len())
	a := investigation.Analysis{Summary: "HOST-1"}
	assert.Equal(t, a, names.RestoreAnalysis(a))
	assert.Equal(t, "HOST-1", (*Pseudonyms)(nil).Restore("HOST-1"))
}

func TestPseudonymizeIsDeterministic(t *testing.T) {
	a, _ := Pseudonymize(investigationtest.Personal())
	for range 5 {
		b, _ := Pseudonymize(investigationtest.Personal())
		require.Equal(t, a, b)
	}
	require.True(t, strings.Contains(a.Timeline[1].Description, "HOST-2"))
}

func BenchmarkPseudonymize(b *testing.B) {
	ev := investigationtest.Personal()
	for b.Loop() {
		sent, names := Pseudonymize(ev)
		_ = names.Restore(sent.Facts.CommandLine)
	}
}
