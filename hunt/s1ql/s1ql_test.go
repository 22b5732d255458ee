package s1ql_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/hunt/s1ql"
)

// The real queries of API reference §4.5 (and the s1client doc example).
var referenceQueries = []string{
	`TgtProcName = "at.exe" AND TgtProcCmdLine ContainsCIS "/interactive "`,
	`(SrcProcParentName In Contains ("WINWORD.EXE","EXCEL.EXE") AND SrcProcName In Contains Anycase ("cmd.exe","powershell.exe")) OR IndicatorName = "SuspiciousDocument"`,
	`(FileFullName ContainsCIS "amsi.dll" AND FileFullName Does Not ContainCIS "System32") AND EventType = "File Creation"`,
	`RegistryKeyPath In Contains Anycase ("\shell\open\command") AND EventType In ("Registry Value Create","Registry Value Modified")`,
	`EventType = "Process Creation" AND SrcProcName ContainsCIS "powershell"`,
	`AgentName IS NOT EMPTY`,
}

func TestReferenceQueriesParse(t *testing.T) {
	for _, q := range referenceQueries {
		parsed, err := s1ql.Parse(q)
		require.NoError(t, err, q)
		// The canonical form parses to itself.
		again, err := s1ql.Parse(parsed.String())
		require.NoError(t, err, parsed.String())
		assert.Equal(t, parsed.String(), again.String())
	}
}

type ev map[string]string

func (e ev) get(name string) string { return e[name] }

func TestMatch(t *testing.T) {
	word := ev{"EventType": "Process Creation", "SrcProcName": "powershell.exe", "SrcProcParentName": "WINWORD.EXE",
		"SrcProcCmdLine": `powershell.exe -NoP -enc SQBFAFgA`, "DstPort": "4444", "AgentName": "WS-01"}
	cases := []struct {
		q    string
		want bool
	}{
		{`SrcProcName = "powershell.exe"`, true},
		{`SrcProcName = "PowerShell.exe"`, false}, // = is case-sensitive
		{`srcprocname in anycase ("POWERSHELL.EXE")`, true},
		{`SrcProcName != "cmd.exe"`, true},
		{`SrcProcName In ("cmd.exe","powershell.exe")`, true},
		{`SrcProcName In ("cmd.exe")`, false},
		{`SrcProcParentName In Contains ("WINWORD","EXCEL")`, true},
		{`SrcProcParentName In Contains ("winword")`, false},
		{`SrcProcParentName In Contains Anycase ("winword")`, true},
		{`SrcProcCmdLine Contains "-enc"`, true},
		{`SrcProcCmdLine Contains "-ENC"`, false},
		{`SrcProcCmdLine ContainsCIS "-ENC"`, true},
		{`SrcProcCmdLine Contains Anycase "-ENC"`, true},
		{`SrcProcCmdLine Does Not Contain "-enc"`, false},
		{`SrcProcCmdLine Does Not ContainCIS "-ENC"`, false},
		{`SrcProcCmdLine Does Not ContainCIS "bypass"`, true},
		{`SrcProcName StartsWith "POWER"`, true},
		{`SrcProcName EndsWith ".EXE"`, true},
		{`SrcProcName EndsWith ".dll"`, false},
		{`SrcProcCmdLine RegExp "-enc\s+[A-Za-z0-9+/=]{8,}"`, true},
		{`SrcProcCmdLine RegExp "^-enc"`, false},
		{`DstPort > 1024`, true},
		{`DstPort > "4444"`, false},
		{`DstPort >= 4444 AND DstPort <= 4444`, true},
		{`DstPort < 1024`, false},
		{`DstPort = 4444`, true},
		{`DstPort In ("80","443")`, false},
		{`DstPort != 443`, true},
		{`SrcPort > 0`, false}, // no value compares false
		{`SrcPort != 0`, true}, // and differs from every number
		{`SrcPort Is Empty`, true},
		{`DnsRequest Is Not Empty`, false},
		{`DnsRequest Does Not Contain "evil"`, true},
		{`DnsRequest Contains "x"`, false},
		{`AgentName IS NOT EMPTY`, true},
		{`NOT SrcProcName = "cmd.exe"`, true},
		{`NOT (SrcProcName = "powershell.exe" AND DstPort = 4444)`, false},
		{`SrcProcName = "cmd.exe" OR SrcProcName = "powershell.exe" AND DstPort = 1`, false}, // AND binds tighter
		{`(SrcProcName = "cmd.exe" OR SrcProcName = "powershell.exe") AND DstPort = 4444`, true},
		{`EventType = "Process Creation"`, true},
		{`EventType In ("File Creation","Process Creation")`, true},
		{`EventType != "Process Creation"`, false},
		{`EndpointOs = "WINDOWS"`, false}, // the event has no EndpointOs
		{`SrcProcName = 'powershell.exe'`, true},
	}
	for _, c := range cases {
		q, err := s1ql.Parse(c.q)
		require.NoError(t, err, c.q)
		assert.Equal(t, c.want, q.Match(word.get), c.q)
		// The canonical form evaluates the same.
		q2, err := s1ql.Parse(q.String())
		require.NoError(t, err, q.String())
		assert.Equal(t, c.want, q2.Match(word.get), "%s → %s", c.q, q.String())
	}
}

func TestErrors(t *testing.T) {
	long := strings.Repeat(`SrcProcName = "a" OR `, 201) + `SrcProcName = "a"`
	cases := []struct {
		q    string
		pos  int      // 1-based character, 0 = do not check
		want []string // substrings of the message
	}{
		{``, 1, []string{"empty query"}},
		{`SrcProcCmdline2 Contains "x"`, 1, []string{"unknown field", "did you mean SrcProcCmdLine?"}},
		{`ProcName = "x"`, 1, []string{"did you mean"}},
		{`Bogus = "x"`, 1, []string{"unknown field", "known fields: EventType"}},
		{`SrcProcName Like "x"`, 13, []string{"unknown operator", "Does Not ContainCIS"}},
		{`SrcProcName Does Contain "x"`, 13, []string{"unknown operator"}},
		{`SrcProcName Is "x"`, 13, []string{"Is Empty or Is Not Empty"}},
		{`SrcProcName = "cmd.exe`, 15, []string{"unterminated string"}},
		{`(SrcProcName = "cmd.exe"`, 1, []string{"unbalanced parentheses", "never closed"}},
		{`SrcProcName = "cmd.exe")`, 24, []string{"unbalanced parentheses", "closes nothing"}},
		{`()`, 2, []string{"condition is expected"}},
		{`SrcProcName In ()`, 16, []string{"empty In ()"}},
		{`SrcProcName In ("a",)`, 21, []string{"expected a quoted value"}},
		{`SrcProcName In ("a"`, 16, []string{"never closed"}},
		{`SrcProcName In "a"`, 16, []string{"parenthesised list"}},
		{`SrcProcName RegExp "(a"`, 13, []string{"not a valid RE2"}},
		{`SrcProcName RegExp "a(?=b)"`, 13, []string{"not a valid RE2"}},
		{`SrcProcName RegExp "((a{100}){100}){100}"`, 13, []string{"RegExp"}},
		{`SrcProcName RegExp "` + strings.Repeat("[a-z]{1000}", 4) + `"`, 13, []string{"too complex"}},
		{`SrcProcName RegExp "` + strings.Repeat("a", 600) + `"`, 13, []string{"longer than 500"}},
		{`SrcProcName > 5`, 13, []string{"SrcProcName is text", "numbers only", "DstPort"}},
		{`DstPort Contains "44"`, 9, []string{"DstPort is a number"}},
		{`DstPort = "http"`, 9, []string{"not an integer"}},
		{`EventType = "Process Create"`, 11, []string{`not a valid EventType value`, `did you mean "Process Creation"?`}},
		{`EventType = "process creation"`, 11, []string{`did you mean "Process Creation"?`}},
		{`EventType In ("File Creation","Proces Creation")`, 11, []string{"not a valid EventType value"}},
		{`SrcProcName = cmd.exe`, 15, []string{"needs a quoted value"}},
		{`SrcProcName = "a" AND`, 22, []string{"ends where a condition"}},
		{`SrcProcName = "a" "b"`, 19, []string{"expected AND, OR"}},
		{`AND SrcProcName = "a"`, 1, []string{"AND needs a condition"}},
		{`SrcProcName ContainsCIS ""`, 13, []string{"empty value"}},
		{`SrcProcName = "a" | filter x`, 19, []string{"unexpected character"}},
		{`SrcProcName ! "a"`, 13, []string{"!="}},
		{long, 0, []string{"more than 200 conditions"}},
		{strings.Repeat(" ", 10001), 10001, []string{"limit is 10000"}},
		{strings.Repeat("(", 40) + `SrcProcName = "a"` + strings.Repeat(")", 40), 33, []string{"deeper than 32"}},
		{strings.Repeat("NOT ", 40) + `SrcProcName = "a"`, 0, []string{"deeper than 32"}},
	}
	for _, c := range cases {
		_, err := s1ql.Parse(c.q)
		require.Error(t, err, c.q)
		var pe *s1ql.Error
		require.True(t, errors.As(err, &pe), c.q)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, c.q)
		}
		if c.pos > 0 {
			assert.Equal(t, c.pos, pe.Pos+1, "%s: %v", c.q, err)
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	q, err := s1ql.Parse(`srcprocname containscis "PS" and (dstport>=1 or not eventtype = "IP Connect") OR agentname is not empty`)
	require.NoError(t, err)
	assert.Equal(t, `SrcProcName ContainsCIS "PS" AND (DstPort >= "1" OR NOT EventType = "IP Connect") OR AgentName Is Not Empty`, q.String())
	q, err = s1ql.Parse(`NOT (SrcProcName = "a" OR SrcProcName In Anycase ('say "hi"', "b"))`)
	require.NoError(t, err)
	assert.Equal(t, `NOT (SrcProcName = "a" OR SrcProcName In Anycase ('say "hi"', "b"))`, q.String())
	conds := q.Conditions()
	require.Len(t, conds, 2)
	assert.Equal(t, s1ql.OpInAnycase, conds[1].Op)
	assert.Equal(t, []string{`say "hi"`, "b"}, conds[1].Values)
}

func TestBoundsAccepted(t *testing.T) {
	q := strings.Repeat(`SrcProcName = "a" OR `, 199) + `SrcProcName = "b"`
	parsed, err := s1ql.Parse(q)
	require.NoError(t, err)
	assert.Len(t, parsed.Conditions(), 200)
	assert.True(t, parsed.Match(ev{"SrcProcName": "b"}.get))
}

func TestFields(t *testing.T) {
	fs := s1ql.Fields()
	names := map[string]s1ql.Field{}
	for _, f := range fs {
		names[f.Name] = f
	}
	for _, n := range []string{"EventType", "SrcProcName", "SrcProcParentName", "SrcProcCmdLine", "SrcProcCmdScript", "SrcProcUser",
		"SrcProcImagePath", "SrcProcImageSha1", "TgtProcName", "TgtProcCmdLine", "TgtFilePath", "FileFullName", "FileSha1", "FileSha256",
		"FileMd5", "RegistryKeyPath", "RegistryPath", "IndicatorName", "IndicatorCategory", "AgentName", "EndpointName", "EndpointOs",
		"DstIp", "DstPort", "SrcIp", "SrcPort", "DnsRequest", "NetworkUrl", "ProcessCmd", "ProcessName", "TaskName", "LoginsUserName"} {
		f, ok := names[n]
		if assert.True(t, ok, n) {
			assert.NotEmpty(t, f.Description, n)
		}
	}
	assert.Equal(t, s1ql.Number, names["DstPort"].Type)
	assert.Equal(t, s1ql.Enum, names["EventType"].Type)
	assert.Contains(t, names["EventType"].Values, "Registry Value Modified")
	// Fields returns a copy.
	fs[0].Values[0] = "changed"
	assert.NotEqual(t, "changed", s1ql.Fields()[0].Values[0])
	f, ok := s1ql.LookupField("dstport")
	assert.True(t, ok)
	assert.Equal(t, "DstPort", f.Name)
}

func FuzzParse(f *testing.F) {
	for _, q := range referenceQueries {
		f.Add(q)
	}
	f.Add(`DstPort >= 4444 AND NOT (SrcProcCmdLine RegExp "(?i)-e(nc)?\s")`)
	f.Add(`SrcProcName In ("a", 'b') OR x`)
	f.Add(`((((`)
	f.Add(`"unterminated`)
	f.Fuzz(func(t *testing.T, q string) {
		parsed, err := s1ql.Parse(q)
		if err != nil {
			var pe *s1ql.Error
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v is not an *s1ql.Error", q, err)
			}
			if pe.Pos < 0 || pe.Pos > len(q) && len(q) <= s1ql.MaxLength {
				t.Fatalf("%q: position %d out of range", q, pe.Pos)
			}
			return
		}
		ev := map[string]string{"SrcProcName": "a", "DstPort": "4444", "EventType": "Process Creation"}
		got := parsed.Match(func(n string) string { return ev[n] })
		again, err := s1ql.Parse(parsed.String())
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", q, parsed.String(), err)
		}
		if again.Match(func(n string) string { return ev[n] }) != got {
			t.Fatalf("%q: canonical form %q evaluates differently", q, parsed.String())
		}
	})
}
