package guard

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Names in free text that need more than one regular expression: DOMAIN\user of
// any NetBIOS domain, hosts next to an IP address, machine accounts, FQDNs of
// the customer's DNS domains, and host names shaped like the tenant's own. Each
// recogniser rejects what the evidence shows to be a process or file name.

// accountChars is the user of DOMAIN\user: a machine account ends in '$'.
const accountChars = `[\pL\pN_][\pL\pN_.$-]*`

const ipAddr = `(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})`

var (
	// DOMAIN\user: a NetBIOS domain is upper-case letters, digits, '-' and '_'
	// (up to 15). Not after a path separator, a drive, '$env:' or '%'.
	netbiosUserRE = regexp.MustCompile(`(?:^|[\s"'(=,;\[>|&])([A-Z0-9][A-Z0-9_-]{0,14})\\(` + accountChars + `)`)
	// "10.40.18.118 (FIN-LT-118)", "10.0.0.5:445 (FS01)" and "FIN-LT-118 (10.40.18.118)".
	ipThenHostRE = regexp.MustCompile(`(?:^|[^\pL\pN_.:-])` + ipAddr + `(?::\d{1,5})?\s*\(\s*([\pL\pN][\pL\pN_-]{0,62})\s*\)`)
	hostThenIPRE = regexp.MustCompile(`(?:^|[^\pL\pN_.\\/-])([\pL\pN][\pL\pN_-]{0,62})\s*\(\s*` + ipAddr + `(?::\d{1,5})?\s*\)`)
	// A machine account, WKS-0042$ (a NetBIOS name is at most 15 characters).
	machineAccountRE = regexp.MustCompile(`(?:^|[\s"'=(,;:\\])([\pL\pN][\pL\pN_-]{0,14})\$`)
	// A UNC path up to where the share starts: \\server\.
	uncServerEndRE = regexp.MustCompile(`\\\\[^\\\s"']+$`)
	// \\fabrikam.com\NETLOGON and \SYSVOL name the AD domain, not a host.
	domainRootRE = regexp.MustCompile(`(?i)\\\\([\pL\pN][\pL\pN.-]*\.[\pL\pN-]+)\\(?:netlogon|sysvol)\b`)
	// A dotted DNS name (the TLD has a letter, so not an IP address).
	fqdnRE = regexp.MustCompile(`(?:^|[^\pL\pN_.-])((?:[\pL\pN](?:[\pL\pN_-]*[\pL\pN])?\.)+[\pL][\pL\pN-]*[\pL\pN])`)
	// Impacket's target, DOMAIN/user[:password]@target.
	impacketUserRE = regexp.MustCompile(`(?:^|[\s"'=])([\pL\pN][\pL\pN.-]*)/(` + accountChars + `)(?::[^@\s]*)?@([\pL\pN][\pL\pN.:-]*)`)
	// The target of DOMAIN/user@target: an IP address or a host name, not a
	// version (tool@2.1.0, tool@v2) or a digest (image@sha256:...).
	impacketTargetRE = regexp.MustCompile(`^(?:` + ipAddr + `|[\pL][\pL\pN.-]*)$`)
	versionLikeRE    = regexp.MustCompile(`(?i)^(?:v\d|sha\d+:|latest$)`)
	// Words after which a host name is expected.
	hostContextRE = regexp.MustCompile(`(?i)\b(?:host(?:name)?|server|computer(?:name)?|workstation|machine|endpoint|device|node|target|from|to|on|at|via|onto|into|resolved)(?:\s*[:=]\s*|\s+)([\pL\pN][\pL\pN_-]{1,62})`)
)

var (
	// Registry hives and root keys read like DOMAIN\name (HKLM\SAM, SYSTEM\Select).
	registryRoots = map[string]bool{
		"HKLM": true, "HKCU": true, "HKCR": true, "HKU": true, "HKCC": true, "HKPD": true,
		"HKEY_LOCAL_MACHINE": true, "HKEY_CURRENT_USER": true, "HKEY_CLASSES_ROOT": true, "HKEY_USERS": true,
		"SYSTEM": true, "SOFTWARE": true, "SAM": true, "SECURITY": true, "HARDWARE": true, "REGISTRY": true,
	}
	// Hidden shares that end in '$' like a machine account.
	wellKnownShares = map[string]bool{"admin": true, "ipc": true, "print": true, "fax": true}
	// Top-level domains that are never public: a name under them is the customer's.
	privateTLDs = map[string]bool{
		"local": true, "lan": true, "internal": true, "intranet": true, "intra": true, "corp": true,
		"home": true, "localdomain": true, "private": true, "arpa": true,
	}
	// Second-level labels of country TLDs (fabrikam.co.uk).
	genericSLDs = map[string]bool{"co": true, "com": true, "org": true, "net": true, "ac": true, "gov": true, "edu": true, "ne": true, "or": true}
	// Technical terms shaped like host names (SHA-256, UTF-8, AES-128).
	techTermRE = regexp.MustCompile(`(?i)^(?:sha|md|aes|rc|utf|ucs|iso|tls|ssl|http|rfc|cve|cwe|kb|ms|x|arm|ipv|smb|ntlm|rsa|base|ta?)-?\d`)
	// String escapes read like DOMAIN\user after a capital ("MZ\x90", "A\u0041").
	escapeLikeRE = regexp.MustCompile(`^(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[0-7]{3})$`)
	// File extensions: a word ending in one is a file, not a name.
	fileExtRE = regexp.MustCompile(`(?i)\.(?:exe|dll|sys|scr|bat|cmd|ps1|psm1|psd1|vbs|vbe|js|jse|wsf|hta|msi|msp|lnk|sh|py|pl|rb|jar|app|pkg|dmg|dylib|so|bin|elf|txt|log|csv|json|xml|ini|cfg|conf|yml|yaml|dat|db|tmp|zip|rar|7z|gz|tar|iso|img|doc[xm]?|xls[xmb]?|ppt[xm]?|pdf|plist)$`)
)

// noteProcess records the process and file names a field holds, so that no
// recogniser mistakes "php-fpm" or "python3" for a host.
func (c *collector) noteProcess(fieldName, s string) {
	var name string
	switch strings.ToLower(fieldName) {
	case "originatorprocess", "threatname", "name", "filepath":
		name = s
	case "commandline", "cmd":
		name = firstArg(s)
	default:
		return
	}
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || strings.ContainsAny(name, " \t") {
		return
	}
	c.processes[name] = true
	if dot := strings.LastIndexByte(name, '.'); dot > 0 {
		c.processes[name[:dot]] = true
	}
}

// firstArg is the program of a command line, quoted or not.
func firstArg(s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, `"`); ok {
		prog, _, _ := strings.Cut(rest, `"`)
		return prog
	}
	prog, _, _ := strings.Cut(s, " ")
	return prog
}

// notAName reports what a word found in free text cannot be: a process or file
// of the evidence, a file name, a technique or technical term, a well-known host.
func (c *collector) notAName(s string) bool {
	l := strings.ToLower(s)
	return c.processes[l] || fileExtRE.MatchString(s) || techniqueLikeRE.MatchString(s) ||
		techTermRE.MatchString(s) || wellKnownHost(s) || wellKnownUser(s) || ipLike(s)
}

// scanNetBIOSUsers collects DOMAIN\user for any NetBIOS-style domain. A path
// (the name goes on with '\'), a registry key, a file name, a virtual account
// (NT AUTHORITY\..., IIS APPPOOL\...) or a group (FABRIKAM\Domain Admins) is not
// a user. A domain shaped like a computer name (DESKTOP-7F3K2L\alice, a local
// account) is also a host.
func (c *collector) scanNetBIOSUsers(s string) {
	for _, m := range netbiosUserRE.FindAllStringSubmatchIndex(s, -1) {
		dom, user := s[m[2]:m[3]], strings.TrimRight(s[m[4]:m[5]], ".")
		if !strings.ContainsFunc(dom, unicode.IsLetter) || registryRoots[dom] || !domainUser(s, m[3], m[5]) ||
			fileExtRE.MatchString(user) || escapeLikeRE.MatchString(user) || user == "" {
			continue
		}
		if hostShaped(dom, true) && !c.notAName(dom) {
			c.addHost(dom)
		}
		c.addUser(dom + `\` + user)
	}
}

// domainUser reports whether the domain ending at domEnd, followed by '\' and a
// name ending at userEnd, names an account worth hiding: not a path going on,
// not a virtual account of a well-known domain written with a space (NT
// AUTHORITY), not a well-known group ("Domain Admins").
func domainUser(s string, domEnd, userEnd int) bool {
	if userEnd < len(s) && s[userEnd] == '\\' {
		return false // a path: the name goes on
	}
	before := strings.ToLower(s[:domEnd])
	for wk := range wellKnownDomains {
		if strings.HasSuffix(before, wk) && boundaryBefore(s, domEnd-len(wk)) {
			return false
		}
	}
	rest := strings.ToLower(s[domEnd+1:])
	for _, g := range wellKnownGroups {
		if strings.HasPrefix(rest, g) && boundaryAfter(rest, len(g)) {
			return false
		}
	}
	return true
}

// scanIPAdjacentHosts collects the host named beside an IP address. Only single
// labels: a dotted name there is often public (a vendor's), and FQDNs of the
// customer's domains are found apart.
func (c *collector) scanIPAdjacentHosts(s string) {
	for _, re := range []*regexp.Regexp{ipThenHostRE, hostThenIPRE} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if c.ipAdjacentHost(m[1]) {
				c.addHost(m[1])
			}
		}
	}
}

// ipAdjacentHost: a letter and a digit, or a hyphen and a capital (a lower-case
// hyphenated word like "non-routable" is prose); not a process or a term.
func (c *collector) ipAdjacentHost(s string) bool {
	if len(s) < 3 || !hostShaped(s, false) || c.notAName(s) {
		return false
	}
	return strings.ContainsFunc(s, unicode.IsDigit) || strings.ContainsFunc(s, unicode.IsUpper)
}

// scanMachineAccounts collects NAME$ as a computer: after a domain
// (FABRIKAM\FILESRV$), or shaped like a host (WKS-0042$). A hidden share
// (\\srv\ADMIN$, \\srv\pdq$) is not one.
func (c *collector) scanMachineAccounts(s string) {
	for _, m := range machineAccountRE.FindAllStringSubmatchIndex(s, -1) {
		start, end := m[2], m[3]
		name := s[start:end]
		if end+1 < len(s) && (nameRune(rune(s[end+1])) || strings.ContainsRune("{(", rune(s[end+1]))) {
			continue // $name, ${...}, $(...): a variable, not an account
		}
		if wellKnownShares[strings.ToLower(name)] || c.notAName(name) {
			continue
		}
		afterDomain := start > 0 && s[start-1] == '\\'
		if afterDomain && uncServerEndRE.MatchString(s[:start-1]) {
			continue // \\server\share$
		}
		if afterDomain || hostShaped(name, false) {
			c.addHost(name)
		}
	}
}

// addDNSDomain records a customer DNS domain (it has a letter and is not an IP).
func (c *collector) addDNSDomain(d string) {
	d = strings.Trim(strings.ToLower(strings.TrimSpace(d)), ".")
	if d == "" || ipLike(d) || !strings.ContainsFunc(d, unicode.IsLetter) || strings.ContainsAny(d, ` \/:@`) {
		return
	}
	c.dnsDomains[d] = true
}

// learnDNSDomains adds the DNS domains the evidence shows to be the customer's:
// the root of \\domain\NETLOGON, the rest of an FQDN whose first label is a known
// host (fs01.fabrikam.com when FS01 is), and the domain whose registered label
// is a NetBIOS domain of the evidence (fabrikam.com for FABRIKAM\jdoe).
func (c *collector) learnDNSDomains(all []string) {
	for _, s := range all {
		for _, m := range domainRootRE.FindAllStringSubmatch(s, -1) {
			c.addDNSDomain(m[1])
		}
		for _, m := range fqdnRE.FindAllStringSubmatch(s, -1) {
			labels := strings.Split(strings.ToLower(m[1]), ".")
			if i, ok := c.index[labels[0]]; ok && c.names[i].host && len(labels) > 1 {
				c.addDNSDomain(strings.Join(labels[1:], "."))
			}
			if reg := registeredLabel(labels); reg >= 0 && c.domains[strings.ToUpper(labels[reg])] && !wellKnownDomain(labels[reg]) {
				c.addDNSDomain(strings.Join(labels[reg:], "."))
			}
		}
	}
}

// registeredLabel is the index of the label registered under the public suffix
// (fabrikam in fs01.fabrikam.com or fs01.fabrikam.co.uk), or -1.
func registeredLabel(labels []string) int {
	n := len(labels)
	if n < 2 || fileExtRE.MatchString("."+labels[n-1]) {
		return -1
	}
	if n >= 3 && len(labels[n-1]) == 2 && genericSLDs[labels[n-2]] {
		return n - 3
	}
	return n - 2
}

// scanDomainForms collects what needs the domains: DOMAIN\user written in any
// case for a domain seen elsewhere, Impacket's DOMAIN/user@target, and hosts
// named by an FQDN of the customer's DNS domains.
func (c *collector) scanDomainForms(all []string) {
	var domainUserRE *regexp.Regexp
	if len(c.domains) > 0 {
		doms := make([]string, 0, len(c.domains))
		for d := range c.domains {
			doms = append(doms, regexp.QuoteMeta(d))
		}
		slices.Sort(doms)
		domainUserRE = regexp.MustCompile(`(?i)(?:^|[^\pL\pN_.\\/:$%-])(` + strings.Join(doms, "|") + `)\\(` + accountChars + `)`)
	}
	for _, s := range all {
		if domainUserRE != nil {
			for _, m := range domainUserRE.FindAllStringSubmatchIndex(s, -1) {
				if user := strings.TrimRight(s[m[4]:m[5]], "."); user != "" && !fileExtRE.MatchString(user) && domainUser(s, m[3], m[5]) {
					c.addUser(s[m[2]:m[3]] + `\` + user)
				}
			}
		}
		for _, m := range impacketUserRE.FindAllStringSubmatch(s, -1) {
			if c.knownDomain(m[1]) && impacketTargetRE.MatchString(m[3]) && !versionLikeRE.MatchString(m[3]) {
				c.addUser(m[2])
			}
		}
		for _, m := range fqdnRE.FindAllStringSubmatch(s, -1) {
			c.addCustomerFQDN(m[1])
		}
	}
}

// knownDomain: a NetBIOS or DNS domain of the evidence.
func (c *collector) knownDomain(d string) bool {
	return c.domains[strings.ToUpper(d)] || c.dnsDomains[strings.ToLower(d)]
}

// addCustomerFQDN collects the host of an FQDN under a customer DNS domain or a
// private TLD (fs01.fabrikam.local). A distinctive first label (a digit or a
// hyphen, or a host already known) is the host, the domain staying visible; a
// plain word (www, mail, registry) would match prose, so the whole FQDN is.
func (c *collector) addCustomerFQDN(fqdn string) {
	l := strings.ToLower(fqdn)
	labels := strings.Split(l, ".")
	if len(labels) < 2 || c.dnsDomains[l] || wellKnownHost(l) || c.notAName(labels[0]) {
		return
	}
	rest := strings.Join(labels[1:], ".")
	customer := false
	for d := range c.dnsDomains {
		if rest == d || strings.HasSuffix(rest, "."+d) {
			customer = true
			break
		}
	}
	if !customer && privateTLDs[labels[len(labels)-1]] {
		// Two labels (env.local) may be a file; a third or a host-like label says DNS.
		customer = len(labels) >= 3 || hostShaped(labels[0], false)
	}
	if !customer {
		return
	}
	short, _, _ := strings.Cut(fqdn, ".")
	if _, known := c.index[labels[0]]; known || hostShaped(short, false) {
		c.addHost(short)
		return
	}
	c.add(fqdn, true, -1)
}

// scanTenantHosts collects the words after "host", "to", "on", "from"... that
// have the shape of a host name the evidence already showed (FAB-FS-07 where
// FIN-LT-118 is known: letters, letters, digits, hyphenated). The shape, not a
// list, so other hosts of the same naming scheme are found too.
func (c *collector) scanTenantHosts(all []string) {
	shapes := map[string]bool{}
	for _, n := range c.names {
		if n.host && hostShaped(n.name, false) {
			shapes[nameShape(n.name)] = true
		}
	}
	if len(shapes) == 0 {
		return
	}
	for _, s := range all {
		for _, m := range hostContextRE.FindAllStringSubmatchIndex(s, -1) {
			name, end := s[m[2]:m[3]], m[3]
			if end+1 < len(s) && s[end] == '.' && nameRune(rune(s[end+1])) {
				continue // a dotted name: FQDNs are judged by their domain
			}
			if shapes[nameShape(name)] && hostShaped(name, false) && !c.notAName(name) {
				c.addHost(name)
			}
		}
	}
}

// nameShape is the pattern of a name: runs of letters (a), digits (9) and the
// separators between them, case aside; FIN-LT-118 and fab-fs-07 are "a-a-9".
func nameShape(s string) string {
	var b strings.Builder
	var last rune
	for _, r := range s {
		cls := r
		switch {
		case unicode.IsLetter(r):
			cls = 'a'
		case unicode.IsDigit(r):
			cls = '9'
		}
		if cls != last || (cls != 'a' && cls != '9') {
			b.WriteRune(cls)
		}
		last = cls
	}
	return b.String()
}
