package guard

import (
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/s1copilot/s1copilot/investigation"
)

// Pseudonymisation (S1C_LLM_PSEUDONYMIZE).
//
// Host and user names are personal data the model does not need to judge a
// threat: "USER-1 ran HOST-1's copy of lockbit.exe" is as damning as the real
// names. Pseudonymize collects the names of one threat's evidence, then
// replaces every occurrence, case-insensitively and on name boundaries, in every
// string of a copy of the evidence with stable tokens (HOST-1, USER-1, ...). The
// copy goes to the model; the model's answer is checked against it, then
// Pseudonyms.RestoreAnalysis puts the real names back, so the analyst never
// sees a token. The real evidence is never modified: injection detection, the
// rules analyzer and the cache fingerprint keep working on it.
//
// Names collected:
//   - hosts: ThreatFacts.AgentName and any string field whose name says host
//     (computerName, hostname, machineName, nodeName, ...), with their short
//     (first DNS label) and NetBIOS (15 characters) forms; hosts named in free
//     text: UNC paths (\\HOST\share), "logged on to HOST", "from HOST" (when
//     HOST looks like a host name: a letter, a digit and a hyphen),
//     "host: HOST", "raised an alert on HOST", beside an IP address
//     ("10.1.2.3 (HOST)", "HOST (10.1.2.3)"), machine accounts (HOST$,
//     DOMAIN\HOST$), the domain of a local account (DESKTOP-7F3K2L\alice),
//     FQDNs under the customer's DNS domains (those of its hosts' FQDNs, of UPNs,
//     of \\domain\NETLOGON, the one whose registered label is a NetBIOS domain of
//     the evidence: fabrikam.com for FABRIKAM) or a private TLD (.local, .lan,
//     .internal, ...): the host label, or the whole name when that label is a
//     plain word (www, mail) that would match prose; and, after "host", "to",
//     "on", "at", "via", "from"..., a word shaped like a host already known
//     (FAB-FS-07 where FIN-LT-118 is);
//   - users: ThreatFacts.ProcessUser, .LastLoggedInUser and any string field
//     whose name ends in user/userName/users, as DOMAIN\user or user@domain;
//     profile directories (\Users\<name>\, \Documents and Settings\<name>\,
//     /home/<name>/, /Users/<name>/); "user: NAME", "user=NAME", "/user:NAME",
//     "User DOMAIN\NAME"; DOMAIN\NAME for any NetBIOS-style domain (upper-case
//     letters, digits, '-', '_') and, in any case, for every domain seen; and
//     Impacket's DOMAIN/NAME@target for a domain seen.
//
// Every name collected is then replaced wherever it stands as a whole word, so a
// user named once as FABRIKAM\svc_erp is hidden in "installed by svc_erp" too.
// Bare words are never guessed to be names from their context alone.
//
// Never taken for a name, whatever their shape: the process and file names of
// the evidence (php-fpm, python3), words with a file extension, techniques and
// CVEs, technical terms (SHA-256, UTF-8), IP addresses, registry keys
// (HKLM\SAM), paths (a DOMAIN\name followed by '\'), hidden shares (\\srv\C$),
// and public DNS names (update.microsoft.com): only names under the customer's
// domains are hosts.
//
// Left visible on purpose: well-known accounts that are the same on every
// machine and identify nobody (SYSTEM, LOCAL/NETWORK SERVICE, root, nobody,
// daemon, www-data, Administrator, Guest, user, admin, svc, krbtgt, virtual
// accounts of NT AUTHORITY, NT SERVICE, IIS APPPOOL, BUILTIN, Window Manager
// (DWM-n), Font Driver Host (UMFD-n), ...), built-in and AD groups (Domain
// Admins, Administrators, ...) and shared profiles (Public, Default, Shared),
// because they tell the model how privileged the process was; domain names (the
// FABRIKAM of FABRIKAM\jdoe, fabrikam.com); names of one character.
//
// The walk over the evidence is generic (reflection over every exported string,
// slice, array, map, pointer and interface), so string fields added to
// investigation.Evidence later are pseudonymised without a change here.

// Token prefixes. A name seen both as a host and as a user keeps its first token.
const (
	hostTokenPrefix = "HOST-"
	userTokenPrefix = "USER-"
	// minNameRunes: a one-letter name would replace every "a" in the evidence.
	minNameRunes = 2
	// maxNameRunes: longer strings are not names (a path or a sentence in a user field).
	maxNameRunes = 128
)

// Pseudonyms maps the real host and user names of one threat to tokens and
// back. It is made by Pseudonymize for one model call and must not
// outlive it. Its String, GoString, Format, MarshalJSON and LogValue say only
// how many names it holds: the map links the tokens a provider saw to real
// people and never goes to a log.
type Pseudonyms struct {
	forward  []pseudonym       // variants to replace, longest first
	patterns []*regexp.Regexp  // forward[i].re, for replaceBounded
	reverse  map[string]string // lower-cased token → real name
}

type pseudonym struct {
	name  string // a real name or one of its forms (short, NetBIOS)
	token string
	re    *regexp.Regexp // (?i) name, boundaries checked apart
}

// Len is the number of distinct names pseudonymised.
func (p *Pseudonyms) Len() int {
	if p == nil {
		return 0
	}
	return len(p.reverse)
}

func (p *Pseudonyms) String() string             { return fmt.Sprintf("guard.Pseudonyms{%d names}", p.Len()) }
func (p *Pseudonyms) GoString() string           { return p.String() }
func (p *Pseudonyms) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, p.String()) }
func (p *Pseudonyms) LogValue() slog.Value       { return slog.IntValue(p.Len()) }

// MarshalJSON keeps reflection-based encoders from printing the map.
func (p *Pseudonyms) MarshalJSON() ([]byte, error) { return []byte(strconv.Itoa(p.Len())), nil }

// Pseudonymize returns a deep copy of ev in which every host and user name (see
// the comment at the top of this file) is replaced by its token, and the
// Pseudonyms that reverse it. ev itself is not modified.
func Pseudonymize(ev investigation.Evidence) (investigation.Evidence, *Pseudonyms) {
	p := newPseudonyms(&ev)
	return p.apply(ev), p
}

// newPseudonyms collects the names of *v (any value, so tests can use other
// types than Evidence) and assigns their tokens.
func newPseudonyms(v any) *Pseudonyms {
	c := newCollector()
	var all []string
	// First the fields that name hosts and users outright, in field order, so the
	// agent and the process user get the low numbers.
	visitStrings(v, func(fieldName, s string) {
		all = append(all, s)
		c.noteProcess(fieldName, s)
		switch {
		case hostField(fieldName):
			c.addHost(s)
		case userField(fieldName):
			c.addUser(s)
		}
	})
	// Then names in free text that their shape gives away.
	for _, s := range all {
		c.scanText(s)
	}
	// Then the forms that need what the whole threat told: its domains (NetBIOS
	// and DNS) and the shape of its host names.
	c.learnDNSDomains(all)
	c.scanDomainForms(all)
	c.scanTenantHosts(all)
	return c.build(all)
}

// apply returns a deep copy of ev with every name replaced by its token.
func (p *Pseudonyms) apply(ev investigation.Evidence) investigation.Evidence {
	if p.Len() == 0 {
		return ev
	}
	return rewrite(ev, p.pseudonymize)
}

// RestoreAnalysis puts the real names back into every string of a. Tokens the
// model made up (not in the map) stay as they are.
func (p *Pseudonyms) RestoreAnalysis(a investigation.Analysis) investigation.Analysis {
	if p.Len() == 0 {
		return a
	}
	return rewrite(a, p.Restore)
}

// tokenRE matches anything shaped like one of our tokens; Restore looks each up.
var tokenRE = regexp.MustCompile(`(?i)(?:HOST|USER)-[0-9]+`)

// Restore replaces the tokens in s by the real names.
func (p *Pseudonyms) Restore(s string) string {
	if p.Len() == 0 || s == "" {
		return s
	}
	return replaceBounded(s, []*regexp.Regexp{tokenRE}, func(match string, _ int) (string, bool) {
		name, ok := p.reverse[strings.ToLower(match)]
		return name, ok
	})
}

func (p *Pseudonyms) pseudonymize(s string) string {
	if s == "" {
		return s
	}
	return replaceBounded(s, p.patterns, func(_ string, i int) (string, bool) { return p.forward[i].token, true })
}

// replaceBounded replaces the matches of the patterns in s that stand on name
// boundaries (see nameRune): "SRV" is not found in "SRVHOST" nor in "SRV-01",
// but is in "SRV.corp.local", "\\SRV\share" and "FABRIKAM\SRV". Where matches
// overlap, the earliest, then the longest, wins. repl gets the matched text and
// the index of its pattern, and may decline.
func replaceBounded(s string, res []*regexp.Regexp, repl func(match string, i int) (string, bool)) string {
	type hit struct {
		start, end int
		with       string
	}
	var hits []hit
	for i, re := range res {
		for _, loc := range re.FindAllStringIndex(s, -1) {
			if !boundaryBefore(s, loc[0]) || !boundaryAfter(s, loc[1]) {
				continue
			}
			if with, ok := repl(s[loc[0]:loc[1]], i); ok {
				hits = append(hits, hit{loc[0], loc[1], with})
			}
		}
	}
	if len(hits) == 0 {
		return s
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return (b.end - b.start) - (a.end - a.start)
	})
	var b strings.Builder
	last := 0
	for _, h := range hits {
		if h.start < last {
			continue // overlaps a hit already taken
		}
		b.WriteString(s[last:h.start])
		b.WriteString(h.with)
		last = h.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// nameRune reports whether r can be part of a host or user name, so a match
// next to it is inside a longer name. Dots, backslashes, slashes, '@' and '$'
// separate: "HOST.corp", "DOM\user", "user@dom", "HOST$".
func nameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !nameRune(r)
}

func boundaryAfter(s string, i int) bool {
	if i == len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !nameRune(r)
}

// collector gathers names and their kind in the order they are found.
type collector struct {
	names   []collected
	index   map[string]int  // lower-cased name → position in names
	domains map[string]bool // upper-cased NetBIOS domains of DOMAIN\user
	// dnsDomains are the customer's DNS domains (lower-cased): suffixes of its
	// hosts' FQDNs, UPN suffixes, the domain of \\domain\NETLOGON.
	dnsDomains map[string]bool
	// processes are the process and file names of the evidence (lower-cased, with
	// and without extension): never a host or a user, whatever their shape.
	processes map[string]bool
}

func newCollector() *collector {
	return &collector{index: map[string]int{}, domains: map[string]bool{}, dnsDomains: map[string]bool{}, processes: map[string]bool{}}
}

type collected struct {
	name    string
	host    bool
	aliasOf int // index of the name this is a form of, or -1
}

func (c *collector) add(name string, host bool, aliasOf int) int {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	if n < minNameRunes || n > maxNameRunes {
		return -1
	}
	key := strings.ToLower(name)
	if i, ok := c.index[key]; ok {
		return i
	}
	c.index[key] = len(c.names)
	c.names = append(c.names, collected{name: name, host: host, aliasOf: aliasOf})
	return len(c.names) - 1
}

// addHost records a host name with its short and NetBIOS forms as aliases.
func (c *collector) addHost(s string) {
	s = strings.TrimSpace(s)
	if s == "" || wellKnownHost(s) || ipLike(s) {
		return
	}
	i := c.add(s, true, -1)
	if i < 0 {
		return
	}
	short := s
	if dot := strings.IndexByte(s, '.'); dot > 0 {
		short = s[:dot]
		if !wellKnownHost(short) {
			c.add(short, true, i)
		}
		c.addDNSDomain(s[dot+1:])
	}
	if utf8.RuneCountInString(short) > 15 {
		c.add(string([]rune(short)[:15]), true, i)
	}
}

// addUser records the user of "DOMAIN\user", "user@domain" or "user", and the
// domain for the DOMAIN\name scan.
func (c *collector) addUser(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if dom, user, ok := strings.Cut(s, `\`); ok {
		if wellKnownDomain(dom) {
			return // a virtual account (NT AUTHORITY\SYSTEM, IIS APPPOOL\site, ...)
		}
		if d := strings.TrimSpace(dom); d != "" && !strings.ContainsAny(d, ` :/`) {
			c.domains[strings.ToUpper(d)] = true
		}
		s = user
	} else if user, dom, ok := strings.Cut(s, "@"); ok {
		c.addDNSDomain(dom) // a UPN's suffix is the customer's
		s = user
	}
	s = strings.TrimRight(strings.TrimSpace(s), ".,;")
	if host, ok := strings.CutSuffix(s, "$"); ok {
		c.addHost(host) // a machine account (FABRIKAM\WKS-0042$) names a computer
		return
	}
	if s == "" || wellKnownUser(s) || strings.ContainsAny(s, `\/@:"`) {
		return
	}
	c.add(s, false, -1)
}

// nameChars is what a user or host name captured from free text may contain.
const nameChars = `[\pL\pN][\pL\pN_.$-]*[\pL\pN_$-]|[\pL\pN]{2}`

var (
	// \Users\<name>\ with a closing separator (names may hold spaces), or at the
	// end of a word.
	winProfileRE    = regexp.MustCompile(`(?i)\\(?:users|documents and settings)\\([^\\/:*?"<>|\s][^\\/:*?"<>|\r\n]*)\\`)
	winProfileEndRE = regexp.MustCompile(`(?i)\\(?:users|documents and settings)\\([^\\/:*?"<>|\s]+)(?:$|[\s"',;])`)
	unixProfileRE   = regexp.MustCompile(`(?:^|[^\pL\pN_.-])/(?:home|Users)/([^/\s"':;,]+)(?:$|[/\s"',;])`)
	// "User FABRIKAM\jdoe logged on", "by user: CORP\jdoe", "account FAB\jdoe".
	userDomainPhraseRE = regexp.MustCompile(`(?i)\b(?:user(?:name)?|account)\s*[:=]?\s*([\pL\pN][\pL\pN_.-]{0,30}\\(?:` + nameChars + `))`)
	// "user: jdoe", "user=jdoe", "/user:svc_sql", "--username=jdoe", "upn: jdoe@corp.com".
	userAssignRE = regexp.MustCompile(`(?i)\b(?:user(?:name)?|upn)\s*[:=]\s*(` + nameChars + `)(@[\pL\pN.-]+)?`)
	// "User jdoe logged on".
	userLoggedRE = regexp.MustCompile(`(?i)\buser\s+(` + nameChars + `)\s+(?:logged|signed|authenticated)\b`)
	// \\HOST\share and \\HOST (not \\?\, \\.\ nor \\fqdn.domain\).
	uncRE = regexp.MustCompile(`(?:^|[\s"'=(,;])\\\\([\pL\pN][\pL\pN_-]{1,62})(?:$|[\\\s"',;)])`)
	// "logged on to HOST", "host: HOST", "raised an alert on HOST", "from HOST".
	hostPhraseRE = regexp.MustCompile(`(?i)\b(?:log(?:ged)?\s*(?:on|in|off)\s+(?:to|at|on)|(?:host|hostname|computer|computername|workstation|machine|endpoint)\s*[:=]|(?:host|computer|workstation|endpoint)\s+named|raised an alert on)\s+([\pL\pN][\pL\pN_-]{1,62})`)
	fromHostRE   = regexp.MustCompile(`(?i)\bfrom\s+([\pL\pN][\pL\pN_-]{1,62})`)
)

// scanText collects the names that a free-text string shows by its shape.
func (c *collector) scanText(s string) {
	for _, re := range []*regexp.Regexp{winProfileRE, winProfileEndRE, unixProfileRE} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			c.addUser(m[1])
		}
	}
	for _, m := range userDomainPhraseRE.FindAllStringSubmatch(s, -1) {
		c.addUser(m[1])
	}
	for _, re := range []*regexp.Regexp{userAssignRE, userLoggedRE} {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if m[3] < len(s) && s[m[3]] == '\\' {
				continue // "/user:FABRIKAM\jdoe": the domain, not the user (see scanNetBIOSUsers)
			}
			c.addUser(s[m[2]:m[3]])
		}
	}
	for _, m := range uncRE.FindAllStringSubmatch(s, -1) {
		if hostShaped(m[1], false) {
			c.addHost(m[1])
		}
	}
	for _, m := range hostPhraseRE.FindAllStringSubmatch(s, -1) {
		if hostShaped(m[1], false) {
			c.addHost(m[1])
		}
	}
	for _, m := range fromHostRE.FindAllStringSubmatch(s, -1) {
		if hostShaped(m[1], true) && !c.processes[strings.ToLower(m[1])] {
			c.addHost(m[1])
		}
	}
	c.scanNetBIOSUsers(s)
	c.scanIPAdjacentHosts(s)
	c.scanMachineAccounts(s)
}

var techniqueLikeRE = regexp.MustCompile(`(?i)^T\d{4}$|^CVE-|^KB\d+$|^MS\d\d-\d+$|^[0-9a-f]{12,}$`)

// hostShaped reports whether a word found in free text looks like a host name:
// a letter and a digit or hyphen (a plain word is prose); strict asks for both
// a digit and a hyphen (after the ambiguous "from").
func hostShaped(s string, strict bool) bool {
	var letter, digit, hyphen bool
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		case r == '-':
			hyphen = true
		}
	}
	if !letter || techniqueLikeRE.MatchString(s) || wellKnownHost(s) {
		return false
	}
	if strict {
		return digit && hyphen
	}
	return digit || hyphen
}

// Well-known names that identify no one: left visible (see the comment at the
// top of this file).
var (
	wellKnownUsers = map[string]bool{
		"system": true, "local service": true, "network service": true, "localservice": true,
		"networkservice": true, "localsystem": true, "root": true, "nobody": true, "daemon": true,
		"www-data": true, "administrator": true, "guest": true, "defaultaccount": true,
		"wdagutilityaccount": true, "public": true, "default": true, "default user": true,
		"all users": true, "shared": true, "n/a": true, "unknown": true, "none": true, "null": true,
		// Generic default account names: as tokens they would replace the word in all prose.
		"user": true, "admin": true, "svc": true,
		"krbtgt": true, // the AD Kerberos account: its use is what the model must see
	}
	// Virtual accounts of Window Manager and Font Driver Host, numbered per session.
	virtualUserRE = regexp.MustCompile(`(?i)^(?:DWM|UMFD)-\d+$`)
	// Built-in and AD groups written as DOMAIN\group: not a person.
	wellKnownGroups = []string{
		"domain admins", "domain users", "domain computers", "domain controllers", "domain guests",
		"enterprise admins", "schema admins", "administrators", "users", "guests", "everyone",
		"authenticated users", "remote desktop users", "backup operators", "account operators",
		"server operators", "print operators", "power users", "protected users", "dnsadmins",
	}
	wellKnownDomains = map[string]bool{
		"nt authority": true, "nt service": true, "iis apppool": true, "window manager": true,
		"font driver host": true, "builtin": true, "nt virtual machine": true,
	}
	wellKnownHosts = map[string]bool{
		"localhost": true, "tsclient": true, "wsl": true, "wsl.localhost": true, "n/a": true, "unknown": true,
		"x64": true, "x86": true, "x86_64": true, "win32": true, "win64": true, "amd64": true, "arm64": true,
		"i386": true, "utf-8": true, "sha1": true, "sha256": true, "md5": true,
	}
)

func wellKnownUser(s string) bool {
	s = strings.TrimSpace(s)
	return wellKnownUsers[strings.ToLower(s)] || virtualUserRE.MatchString(s)
}
func wellKnownDomain(s string) bool { return wellKnownDomains[strings.ToLower(strings.TrimSpace(s))] }
func wellKnownHost(s string) bool   { return wellKnownHosts[strings.ToLower(strings.TrimSpace(s))] }

var ipRE = regexp.MustCompile(`^[0-9.]+$|^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$`)

func ipLike(s string) bool { return ipRE.MatchString(s) }

// hostField and userField tell from a struct field's name that it holds a host
// or a user name (ThreatFacts.AgentName, .ProcessUser, and fields added later).
func hostField(name string) bool {
	n := strings.ToLower(name)
	for _, suffix := range []string{"agentname", "computername", "hostname", "machinename", "nodename", "netbiosname", "fqdn"} {
		if strings.HasSuffix(n, suffix) || strings.HasSuffix(n, suffix+"s") {
			return true
		}
	}
	return n == "host" || n == "hosts"
}

func userField(name string) bool {
	n := strings.ToLower(name)
	// Not "account": SentinelOne accounts are tenants (accountName), not people.
	for _, suffix := range []string{"user", "username", "users", "usernames"} {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}

// build assigns tokens. A token that already occurs in the evidence (a host
// really named HOST-1) is skipped, so restoring cannot turn it into a name.
func (c *collector) build(all []string) *Pseudonyms {
	p := &Pseudonyms{reverse: map[string]string{}}
	if len(c.names) == 0 {
		return p
	}
	taken := func(tok string) bool {
		re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(tok))
		for _, s := range all {
			if replaceBounded(s, []*regexp.Regexp{re}, func(string, int) (string, bool) { return "", true }) != s {
				return true
			}
		}
		return false
	}
	next := map[bool]int{true: 0, false: 0}
	tokens := make([]string, len(c.names))
	for i, n := range c.names {
		if n.aliasOf >= 0 {
			tokens[i] = tokens[n.aliasOf]
			continue
		}
		prefix := userTokenPrefix
		if n.host {
			prefix = hostTokenPrefix
		}
		for {
			next[n.host]++
			tok := prefix + strconv.Itoa(next[n.host])
			if !taken(tok) {
				tokens[i] = tok
				break
			}
		}
		p.reverse[strings.ToLower(tokens[i])] = n.name
	}
	for i, n := range c.names {
		p.forward = append(p.forward, pseudonym{name: n.name, token: tokens[i], re: regexp.MustCompile(`(?i)` + regexp.QuoteMeta(n.name))})
	}
	slices.SortStableFunc(p.forward, func(a, b pseudonym) int { return len(b.name) - len(a.name) })
	for _, f := range p.forward {
		p.patterns = append(p.patterns, f.re)
	}
	return p
}

// visitStrings calls fn for every string reachable from v (a pointer), with the
// name of the struct field holding it (of the nearest struct field for strings
// in slices, maps and pointers). Map keys are visited in sorted order so token
// numbers do not depend on map iteration.
func visitStrings(v any, fn func(fieldName, s string)) {
	var walk func(rv reflect.Value, field string)
	walk = func(rv reflect.Value, field string) {
		switch rv.Kind() {
		case reflect.String:
			fn(field, rv.String())
		case reflect.Struct:
			for i := range rv.NumField() {
				if f := rv.Type().Field(i); f.IsExported() {
					walk(rv.Field(i), f.Name)
				}
			}
		case reflect.Slice, reflect.Array:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				return // bytes, not text
			}
			for i := range rv.Len() {
				walk(rv.Index(i), field)
			}
		case reflect.Map:
			keys := rv.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			for _, k := range keys {
				walk(k, field)
				walk(rv.MapIndex(k), field)
			}
		case reflect.Pointer, reflect.Interface:
			if !rv.IsNil() {
				walk(rv.Elem(), field)
			}
		}
	}
	walk(reflect.ValueOf(v), "")
}

// rewrite returns a deep copy of v with fn applied to every exported string
// (struct fields, slice, array and map elements, map keys, through pointers and
// interfaces). Unexported fields are copied as they are. v is not modified.
func rewrite[T any](v T, fn func(string) string) T {
	out := rewriteValue(reflect.ValueOf(&v).Elem(), fn)
	return out.Interface().(T)
}

func rewriteValue(rv reflect.Value, fn func(string) string) reflect.Value {
	switch rv.Kind() {
	case reflect.String:
		out := reflect.New(rv.Type()).Elem()
		out.SetString(fn(rv.String()))
		return out
	case reflect.Struct:
		out := reflect.New(rv.Type()).Elem()
		out.Set(rv)
		for i := range rv.NumField() {
			if rv.Type().Field(i).IsExported() {
				out.Field(i).Set(rewriteValue(rv.Field(i), fn))
			}
		}
		return out
	case reflect.Slice:
		if rv.IsNil() {
			return rv
		}
		out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			reflect.Copy(out, rv)
			return out
		}
		for i := range rv.Len() {
			out.Index(i).Set(rewriteValue(rv.Index(i), fn))
		}
		return out
	case reflect.Array:
		out := reflect.New(rv.Type()).Elem()
		for i := range rv.Len() {
			out.Index(i).Set(rewriteValue(rv.Index(i), fn))
		}
		return out
	case reflect.Map:
		if rv.IsNil() {
			return rv
		}
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out.SetMapIndex(rewriteValue(iter.Key(), fn), rewriteValue(iter.Value(), fn))
		}
		return out
	case reflect.Pointer:
		if rv.IsNil() {
			return rv
		}
		out := reflect.New(rv.Type().Elem())
		out.Elem().Set(rewriteValue(rv.Elem(), fn))
		return out
	case reflect.Interface:
		if rv.IsNil() {
			return rv
		}
		out := reflect.New(rv.Type()).Elem()
		out.Set(rewriteValue(rv.Elem(), fn))
		return out
	}
	return rv
}
