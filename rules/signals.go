package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
)

// kind is one kind of behaviour the evidence shows.
type kind int

const (
	// Destructive: what ransomware and wipers do.
	kEncryption   kind = iota // files encrypted or destroyed, ransom notes
	kRecoveryWipe             // shadow copies or backup catalogs deleted wholesale, recovery disabled
	kRansomLabel              // SentinelOne classifies the threat as ransomware
	kServiceStop              // backup, database or security services stopped: the step before encryption

	// Hands on keyboard: someone is in the network; cut the host off.
	kCredDump     // OS credentials dumped or Kerberos/hash material used
	kC2           // command and control
	kRemoteAccess // a remote-access tool set up for unattended use
	kWebShell     // a web server spawning shells or LOLBins
	kLateral      // remote execution on other hosts
	kImpair       // security tools or logs disabled

	// Hostile, but not by itself a sign of someone at the keyboard.
	kCredStore   // saved passwords, browser data, keychains read
	kMasquerade  // named or placed to look like something it is not
	kInjection   // code injected or side-loaded
	kPrivEsc     // privileges escalated
	kExfil       // data sent out
	kIntercept   // traffic intercepted (rogue certificates)
	kObfuscation // encoded or decoded commands, hidden windows
	kProxyExec   // a signed OS binary made to run remote or dropped code
	kRawIPDownload
	kDownloadExec // fetched from the internet and run in one command
	kOfficeChain  // an Office or mail application starting a hostile command
	kPhishing
	kMining

	// Unwanted software, or a file that third-party threat intelligence knows: not an
	// attack by itself, but never a false positive either.
	kUnwanted
	kIntel
	// Weak: what admin tools and installers do too.
	kHacktool
	kRemoteAccessTool
	kPersistence
	kAccount
	kExecution
	kDiscovery
	kDownload
	kOfficeSpawn
	kShadowRoutine // shadow copies listed, created, or one deleted by ID: what backup software does
	kNetwork       // a web or encrypted channel, by technique only
	kEncodingHint  // an obfuscation technique without an encoded command
	// kOpaqueBehaviour: SentinelOne's behavioural engine convicted the threat without
	// saying why, so no benign explanation can be checked against it.
	kOpaqueBehaviour
)

type level int

const (
	weak     level = iota // explained by any benign story; alone it makes a threat suspicious
	unwanted              // rules out a false positive, does not make a true positive
	hostile               // a true positive unless a benign story explains it
)

var kinds = map[kind]struct {
	name    string
	level   level
	handsOn bool // a person may be in the network: isolate
}{
	kEncryption:       {"encryption", hostile, true},
	kRecoveryWipe:     {"recovery destroyed", hostile, true},
	kRansomLabel:      {"ransomware classification", hostile, true},
	kServiceStop:      {"services stopped", hostile, true},
	kCredDump:         {"credential dumping", hostile, true},
	kC2:               {"command and control", hostile, true},
	kRemoteAccess:     {"unattended remote access", hostile, true},
	kWebShell:         {"web shell", hostile, true},
	kLateral:          {"lateral movement", hostile, true},
	kImpair:           {"defences impaired", hostile, true},
	kCredStore:        {"credential theft", hostile, false},
	kMasquerade:       {"masquerading", hostile, false},
	kInjection:        {"injection", hostile, false},
	kPrivEsc:          {"privilege escalation", hostile, false},
	kExfil:            {"exfiltration", hostile, false},
	kIntercept:        {"traffic interception", hostile, false},
	kObfuscation:      {"obfuscation", hostile, false},
	kProxyExec:        {"proxy execution", hostile, false},
	kRawIPDownload:    {"download from a bare IP", hostile, false},
	kDownloadExec:     {"download and run", hostile, false},
	kOfficeChain:      {"malicious document", hostile, false},
	kPhishing:         {"phishing", hostile, false},
	kMining:           {"cryptomining", hostile, false},
	kUnwanted:         {"unwanted software", unwanted, false},
	kIntel:            {"threat-intelligence match", unwanted, false},
	kShadowRoutine:    {"shadow copy maintenance", weak, false},
	kNetwork:          {"network channel", weak, false},
	kEncodingHint:     {"obfuscation technique", weak, false},
	kOpaqueBehaviour:  {"behavioural conviction", unwanted, false},
	kHacktool:         {"hacking tool", weak, false},
	kRemoteAccessTool: {"remote-access tool", weak, false},
	kPersistence:      {"persistence", weak, false},
	kAccount:          {"account created", weak, false},
	kExecution:        {"script execution", weak, false},
	kDiscovery:        {"discovery", weak, false},
	kDownload:         {"download", weak, false},
	kOfficeSpawn:      {"Office started a shell", weak, false},
}

// signal is one piece of evidence of a kind, with where it was seen.
type signal struct {
	kind kind
	why  string
}

func (s signal) String() string { return fmt.Sprintf("%s (%s)", kinds[s.kind].name, s.why) }

type signals []signal

func (ss signals) has(k ...kind) bool {
	return slices.ContainsFunc(ss, func(s signal) bool { return slices.Contains(k, s.kind) })
}

func (ss signals) of(l level) signals {
	var out signals
	for _, s := range ss {
		if kinds[s.kind].level == l {
			out = append(out, s)
		}
	}
	return out
}

func (ss signals) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

var (
	officeApps    = []string{"winword", "excel", "powerpnt", "msaccess", "mspub", "onenote", "visio", "wordpad"}
	mailApps      = []string{"outlook", "thunderbird", "olk", "hxoutlook"}
	scriptHosts   = []string{"powershell", "pwsh", "cmd", "wscript", "cscript", "mshta"}
	unixShells    = []string{"sh", "bash", "zsh", "dash", "ksh", "fish"}
	proxyBinaries = []string{"mshta", "rundll32", "regsvr32", "msiexec", "cmstp", "installutil", "regasm", "regsvcs", "odbcconf", "msxsl", "wmic", "msbuild"}
	webServers    = []string{"w3wp", "httpd", "apache2", "nginx", "php", "php-cgi", "php-fpm", "tomcat", "tomcat8", "tomcat9", "umworkerprocess", "iisexpress"}
	browsers      = []string{"chrome", "msedge", "firefox", "iexplore", "safari", "opera", "brave"}
	minerMarkers  = []string{"xmrig", "minerd", "stratum+tcp", "stratum+ssl", "stratum2+tcp", "nicehash", "cryptonight", "--donate-level", "ethminer", "nbminer", "t-rex", "lolminer"}

	encryptRE       = regexp.MustCompile(`encrypt(?:s|ed|ing|ion)?\b[^.|]{0,40}\bfiles?\b|\bfiles?\b[^.|]{0,40}\bencrypt|renamed \d+ files|files renamed to|mass (?:file )?renam|ransom note`)
	stopRE          = regexp.MustCompile(`(?:net1? stop|sc(?:\.exe)? (?:stop|config)|taskkill|stop-service|stopped)[^|]{0,80}\b(?:backup|veeam|sql\w*|vss|msexchange\w*|oracle\w*|mysql\w*|defender|sophos\w*|antivirus|security)\b`)
	credDumpRE      = regexp.MustCompile(`lsass|sekurlsa|lsadump|mimikatz|minidump|\bntds\b|ntds\.dit|hklm\\sam|hklm\\security|sam and system|dcsync|secretsdump|kerberoast|asreproast|pass-the-hash|pass the hash|pass-the-ticket|\basktgt\b|golden ticket`)
	poolArgsRE      = regexp.MustCompile(`-o\s+\S+:\d{2,5}\b.*\s-u\s+\S{30,}`)
	uncExecRE       = regexp.MustCompile(`\\\\127\.0\.0\.1\\(?:admin|c)\$|\\\\[^\\\s"]+\\(?:admin|c|ipc)\$`)
	routineShadowRE = regexp.MustCompile(`list shadows|create shadow|/shadow=|/oldest|creat\w* (?:a |the |and created )?(?:volume )?shadow|enumerated (?:and created )?(?:volume )?shadow`)
	ipConnRE        = regexp.MustCompile(`connect(?:ed|s|ion)? (?:out )?to (?:\d{1,3}\.){3}\d{1,3}`)
	pathArgRE       = regexp.MustCompile(`(?:[a-z]:\\|\.\.\\|\\\\)[^\s",]+`)
)

// hostile reads what the threat did from its techniques, indicators, command line and
// parent. Each kind appears once, with the first place it was seen.
func (v *view) hostile() signals {
	var out signals
	add := func(k kind, format string, args ...any) {
		if !out.has(k) {
			out = append(out, signal{k, fmt.Sprintf(format, args...)})
		}
	}
	tech := func(k kind, prefixes ...string) {
		if t := v.technique(prefixes...); t != "" {
			add(k, "technique %s", t)
		}
	}
	said := func(k kind, subs ...string) {
		if s := v.inText(subs...); s != "" {
			add(k, "indicator: %q", s)
		} else if s := containsAny(v.cmd, subs...); s != "" {
			add(k, "command line: %q", s)
		}
	}
	re := func(k kind, r *regexp.Regexp) {
		if m := r.FindString(v.cmd); m != "" {
			add(k, "command line: %q", clipQuote(m))
			return
		}
		for _, t := range v.texts {
			if m := r.FindString(t); m != "" {
				add(k, "indicator: %q", clipQuote(m))
				return
			}
		}
	}

	// Destruction and recovery.
	tech(kEncryption, "T1486", "T1485", "T1561")
	re(kEncryption, encryptRE)
	said(kEncryption, "wiper", "overwrote the mbr")
	v.recovery(add)
	// S1's ransomware label, on the threat or on an indicator, names a suspicion; the
	// behaviour behind it (encryption, deleted shadow copies) is read above.
	if strings.Contains(v.class, "ransom") {
		add(kRansomLabel, "classification %q", v.classShown)
	}
	said(kRansomLabel, "ransom")
	tech(kServiceStop, "T1489")
	re(kServiceStop, stopRE)

	// Credentials.
	tech(kCredDump, "T1003", "T1558", "T1550", "T1110")
	re(kCredDump, credDumpRE)
	tech(kCredStore, "T1555", "T1552", "T1539")
	said(kCredStore, "login data", "saved password", "saved browser", "keychain", "credential manager", "wi-fi password", "cookies", "lazagne")

	// Command and control, remote access, web shells, lateral movement.
	// Web protocols, proxies and encrypted channels are how updaters talk too: the
	// technique alone is weak, a beacon, a C2 or a bare-IP connection is not.
	tech(kNetwork, "T1071", "T1095", "T1573", "T1090", "T1102", "T1132")
	tech(kC2, "T1572", "T1008", "T1104")
	said(kC2, "beacon", "cobalt strike", "command and control", "command-and-control", "c&c", "teamserver", "team server", "meterpreter", "sliver", "brute ratel", "reverse shell", "malicious domain", "known malicious", "/dev/tcp/", "/dev/udp/", "network socket")
	if v.textTok["c2"] {
		add(kC2, "indicator: %q", "c2")
	}
	re(kC2, ipConnRE)
	v.remoteAccess(add)
	v.webShell(add)
	v.lateral(add)
	tech(kImpair, "T1562", "T1070.001", "T1070.006")
	said(kImpair, "security product", "terminated security", "disable defender", "disablerealtimemonitoring", "set-mppreference", "tamper", "clear-eventlog", "wevtutil cl", "cleared the security log", "antivirus")
	if v.textTok["edr"] {
		add(kImpair, "indicator: %q", "edr")
	}

	// Other hostile behaviour.
	tech(kMasquerade, "T1036", "T1564")
	said(kMasquerade, "masquerad", "named like", "posing as", "poses as", "imitat", "look-alike", "lookalike", "impersonat", "disguis", "dot-directory", "hidden directory")
	v.masquerade(add)
	tech(kInjection, "T1055", "T1574", "T1620")
	said(kInjection, "side-load", "sideload", "hollow", "reflective")
	if v.injects() {
		add(kInjection, "indicator: %q", "inject")
	}
	tech(kPrivEsc, "T1068", "T1134", "T1548")
	said(kPrivEsc, "sedebugprivilege", "privilege::debug", "uac bypass")
	tech(kExfil, "T1041", "T1048", "T1567", "T1020", "T1030")
	said(kExfil, "exfiltrat", "posted data to", "uploaded data to", "rclone", "mega.nz")
	tech(kIntercept, "T1557")
	said(kIntercept, "rogue root certificate", "intercept")
	tech(kPhishing, "T1566")
	v.commandLine(add)
	v.office(add, out)

	// Mining.
	tech(kMining, "T1496")
	if strings.Contains(v.class, "miner") || strings.Contains(v.class, "coinmin") {
		add(kMining, "classification %q", v.classShown)
	}
	if m := containsAny(v.path+" "+v.cmd, minerMarkers...); m != "" {
		add(kMining, "%q in the file path or command line", m)
	}
	said(kMining, "cryptomin", "mining pool", "mining client", "monero")
	re(kMining, poolArgsRE)

	// Unwanted software.
	tech(kUnwanted, "T1176")
	said(kUnwanted, "toolbar", "search provider", "homepage", "bundle", "offers third-party", "third-party software", "adware", "browser extension", "rewrites search", "ads into", "inject ads")

	if slices.ContainsFunc(v.engines, func(e string) bool { return strings.Contains(e, "intelligence") }) || strings.EqualFold(v.f.InitiatedBy, "threat_intelligence") {
		add(kIntel, "third-party threat intelligence knows this file")
	}

	// Weak signals.
	if v.classTokens.any("hacktool", "hacktools") != "" || strings.Contains(v.class, "hack tool") || strings.Contains(v.class, "hacking tool") {
		add(kHacktool, "classification %q", v.classShown)
	}
	tech(kPersistence, "T1543", "T1053", "T1547", "T1546", "T1137", "T1098", "T1037", "T1197")
	said(kPersistence, "scheduled task", "launchagent", "launch agent", "launchdaemon", "run key", "service installed", "installed a service", "cron", "authorized_keys", "startup folder", "persistence")
	tech(kAccount, "T1136")
	said(kAccount, "useradd", "net user", "new user", "user added", "added to the wheel", "added to administrators")
	tech(kExecution, "T1059", "T1047", "T1569", "T1204")
	said(kExecution, "bypass", "executionpolicy", "execution:")
	tech(kDiscovery, "T1082", "T1087", "T1069", "T1018", "T1135", "T1518", "T1016", "T1033", "T1057", "T1083", "T1046", "T1049", "T1012", "T1482")
	said(kDiscovery, "enumerat", "discovery")
	tech(kDownload, "T1105")
	said(kDownload, "downloaded", "invoke-webrequest", "downloadstring", "downloadfile", "-urlcache", "bitsadmin /transfer", "start-bitstransfer", "wget ", "curl ")
	if v.cmdTok["iwr"] {
		add(kDownload, "command line: %q", "iwr")
	}
	// A behavioural conviction without any reported behaviour cannot be explained away.
	if v.confidence == "malicious" && len(v.texts) == 0 && len(v.techniques) == 0 &&
		(strings.EqualFold(v.f.ClassificationSource, "Behavioral") || slices.ContainsFunc(v.engines, func(e string) bool { return strings.Contains(e, "behavio") })) {
		add(kOpaqueBehaviour, "SentinelOne's behavioural engine rates it malicious without listing the behaviour")
	}
	return out
}

// injects: code injected into another process; adware "injecting ads" into pages is
// unwanted, not an injection.
func (v *view) injects() bool {
	for _, t := range v.texts {
		for rest := t; ; {
			i := strings.Index(rest, "inject")
			if i < 0 {
				break
			}
			rest = rest[i+len("inject"):]
			if next := strings.Fields(rest); len(next) < 2 || !strings.HasPrefix(next[1], "ad") {
				return true
			}
		}
	}
	return false
}

// recovery tells deleting every shadow copy (ransomware) from listing, creating or
// deleting one by ID (what backup software does).
func (v *view) recovery(add func(kind, string, ...any)) {
	wipe := ""
	for _, s := range append([]string{v.cmd}, v.texts...) {
		if m := containsAny(s, "shadows /all", "shadowcopy delete", "delete catalog", "recoveryenabled no", "ignoreallfailures",
			"resize shadowstorage", "deleted volume shadow copies", "deleted shadow copies", "deleted all shadow"); m != "" {
			wipe = m
		} else if strings.Contains(s, "win32_shadowcopy") && strings.Contains(s, "delete") {
			wipe = "win32_shadowcopy … delete"
		} else if strings.Contains(s, "delete shadows") && !strings.Contains(s, "/shadow=") && !strings.Contains(s, "/oldest") {
			wipe = "delete shadows"
		}
		if wipe != "" {
			break
		}
	}
	routine := routineShadowRE.FindString(v.cmd + " | " + strings.Join(v.texts, " | "))
	switch {
	case wipe != "":
		add(kRecoveryWipe, "%q", clipQuote(wipe))
	case routine != "":
		add(kShadowRoutine, "%q", routine)
	case v.technique("T1490") != "":
		add(kRecoveryWipe, "technique %s (inhibit system recovery)", v.technique("T1490"))
	}
}

// remoteAccess: a remote-access tool is ordinary IT software, unless it is set up for
// unattended use: a preset password, persistence, or installed from a shell.
func (v *view) remoteAccess(add func(kind, string, ...any)) {
	t := v.technique("T1219")
	if t == "" && v.inText("remote access tool", "remote-access tool") == "" {
		return
	}
	switch {
	case containsAny(v.cmd, "password", "unattended", "--silent") != "" || v.inText("password", "unattended", "silently") != "":
		add(kRemoteAccess, "a remote-access tool set up silently or with a preset password")
	case v.technique("T1053", "T1543", "T1547") != "":
		add(kRemoteAccess, "a remote-access tool made persistent (%s)", v.technique("T1053", "T1543", "T1547"))
	case v.parentIn(scriptHosts...) != "":
		add(kRemoteAccess, "a remote-access tool installed from %s", v.parentIn(scriptHosts...))
	default:
		add(kRemoteAccessTool, "technique %s", t)
	}
}

// webShell: a web server's worker process starting a shell or a LOLBin is how web
// shells run commands.
func (v *view) webShell(add func(kind, string, ...any)) {
	if t := v.technique("T1505"); t != "" {
		add(kWebShell, "technique %s", t)
	}
	if s := v.inText("web shell", "webshell", "worker process spawned"); s != "" {
		add(kWebShell, "indicator: %q", s)
	}
	if p := v.parentIn(webServers...); p != "" {
		if c := v.cmdTok.any(slices.Concat(scriptHosts, proxyBinaries, unixShells, []string{"certutil", "bitsadmin", "whoami", "net", "net1"})...); c != "" || v.nameIn(scriptHosts...) {
			add(kWebShell, "%s started %s", p, orElse(c, v.name))
		}
	}
}

func (v *view) nameIn(names ...string) bool { return slices.Contains(names, stem(v.name)) }

// lateral: execution on other hosts (PsExec, WMI, WinRM, Impacket's exec tools).
func (v *view) lateral(add func(kind, string, ...any)) {
	if t := v.technique("T1021", "T1570", "T1563"); t != "" {
		add(kLateral, "technique %s", t)
	}
	if s := v.inAny("lateral movement", "psexesvc", "wmiexec", "smbexec", "atexec", "dcomexec", "impacket", "remote host", "remotely", "invoke-command -computername", "enter-pssession"); s != "" {
		add(kLateral, "%q", s)
	}
	if m := uncExecRE.FindString(v.cmd); m != "" {
		add(kLateral, "command line: %q", m)
	}
	if v.cmdTok["psexec"] || v.cmdTok["psexec64"] || v.nameIn("psexec", "psexec64") {
		if strings.Contains(v.cmd, `\\`) {
			add(kLateral, "PsExec against a remote host")
		}
	}
	// wmiexec: WMI's provider host starting a quiet cmd that writes to an admin share.
	if v.parentIn("wmiprvse") != "" && strings.Contains(v.cmd, "/q") && v.cmdTok["cmd"] {
		add(kLateral, "wmiprvse.exe started cmd.exe /Q")
	}
}

var (
	windowsSystemNames = []string{"svchost", "lsass", "csrss", "smss", "wininit", "winlogon", "services", "spoolsv", "explorer", "taskhostw", "dllhost", "conhost", "rundll32", "lsm", "searchindexer", "runtimebroker", "sihost", "ctfmon", "wuauclt", "taskhost", "audiodg"}
	unixSystemNames    = []string{"kthreadd", "kswapd0", "ksoftirqd", "kworker", "migration", "watchdog", "rcu_sched", "sshd", "cron", "crond", "dbus-daemon", "rsyslogd", "systemd", "systemd-resolve", "systemd-journald", "systemd-logind", "systemd-networkd", "init", "udevd", "irqbalance"}
)

// masquerade: a system process's name on a file outside the system directories.
func (v *view) masquerade(add func(kind, string, ...any)) {
	n := strings.TrimLeft(v.name, ".")
	switch {
	case v.path == "":
	case strings.HasSuffix(n, ".exe") && slices.Contains(windowsSystemNames, stem(n)) && !strings.HasPrefix(v.path, "/windows/"):
		add(kMasquerade, "%s outside the Windows directory", n)
	case !strings.Contains(n, ".") && (slices.Contains(unixSystemNames, n) || strings.HasPrefix(n, "kworker")) &&
		!strings.HasPrefix(v.path, "/usr/") && !strings.HasPrefix(v.path, "/bin/") && !strings.HasPrefix(v.path, "/sbin/") && !strings.HasPrefix(v.path, "/lib"):
		add(kMasquerade, "a system process name (%s) run from %s", n, clipQuote(path0(v.path)))
	}
}

func path0(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i+1]
	}
	return p
}

// commandLine reads what the command itself does: encoded or hidden PowerShell, a
// LOLBin made to run remote or dropped code, a download from a bare IP, a download run
// at once.
func (v *view) commandLine(add func(kind, string, ...any)) {
	c := v.cmd
	// Packed or encoded files are common in commercial software: the technique alone
	// is weak, an encoded command line is not.
	if t := v.technique("T1027", "T1140"); t != "" {
		add(kEncodingHint, "technique %s", t)
	}
	if v.cmdTok.any("powershell", "pwsh") != "" {
		for _, f := range strings.Fields(c) {
			switch strings.Trim(f, `"'`) {
			case "-enc", "-encodedcommand", "-ec", "-e", "/enc":
				add(kObfuscation, "encoded PowerShell (%s)", f)
			case "hidden":
				add(kObfuscation, "hidden window")
			}
		}
	}
	if s := containsAny(c, "frombase64string", "-w hidden", "-windowstyle hidden"); s != "" {
		add(kObfuscation, "command line: %q", s)
	}
	if v.cmdTok["certutil"] && v.cmdTok["decode"] {
		add(kObfuscation, "certutil -decode")
	}
	if s := v.inText("encoded powershell", "decoded a base64", "decoded a c2", "obfuscat"); s != "" {
		add(kObfuscation, "indicator: %q", s)
	}

	for _, b := range proxyBinaries {
		if !v.cmdTok[b] {
			continue
		}
		switch {
		case anyURL.MatchString(c) && b != "msbuild":
			add(kProxyExec, "%s with a URL", b)
		case containsAny(c, "javascript:", "vbscript:", "script:", "scrobj") != "":
			add(kProxyExec, "%s running script (%s)", b, containsAny(c, "javascript:", "vbscript:", "script:", "scrobj"))
		case b == "rundll32" || b == "regsvr32":
			after := c
			if i := strings.Index(c, b); i >= 0 {
				after = c[i+len(b):]
			}
			for _, p := range pathArgRE.FindAllString(after, -1) {
				q := strings.ToLower(investigation.PathOnVolume(p))
				if !strings.HasPrefix(q, "/windows/") && !strings.HasSuffix(q, "/"+b+".exe") {
					add(kProxyExec, "%s loading %s", b, clipQuote(p))
					break
				}
			}
		}
	}
	if s := v.inText("remote hta", "remote scriptlet", "squiblydoo", "runhtmlapplication"); s != "" {
		add(kProxyExec, "indicator: %q", s)
	}

	for _, s := range append([]string{c}, v.texts...) {
		if m := rawIPURL.FindString(s); m != "" {
			add(kRawIPDownload, "%q", m)
			break
		}
	}
	if anyURL.MatchString(c) || v.cmdTok["iwr"] || containsAny(c, "invoke-webrequest", "downloadstring", "downloadfile", "wget ", "curl ") != "" {
		if s := v.cmdTok.any("saps", "iex"); s != "" {
			add(kDownloadExec, "downloads and runs (%q)", s)
		} else if s := containsAny(c, "start-process", "invoke-expression", "| sh", "| bash", "|sh", "|bash", ";./", "& $env:"); s != "" {
			add(kDownloadExec, "downloads and runs (%q)", strings.TrimSpace(s))
		}
	}
}

// office: a document or mail client starting a script host or LOLBin. With a hostile
// command (encoded, hidden, downloading, proxy-executing) it is a malicious document;
// an Office add-in mapping a share and copying files is not.
func (v *view) office(add func(kind, string, ...any), found signals) {
	mail := v.parentIn(mailApps...)
	office := v.parentIn(officeApps...)
	if mail == "" && office == "" {
		if s := v.inText("office application spawned", "office document spawned", "macro"); s != "" {
			office = "an Office application"
		} else {
			return
		}
	}
	child := v.cmdTok.any(slices.Concat(scriptHosts, proxyBinaries)...)
	if child == "" {
		child = v.cmdTok.any("certutil", "bitsadmin")
	}
	payload := found.has(kObfuscation, kProxyExec, kRawIPDownload, kDownloadExec) || v.technique("T1105") != "" ||
		anyURL.MatchString(v.cmd) || v.inText("downloaded", "connected to", "wrote a dll", "dropped") != ""
	switch {
	case mail != "" && (child != "" || v.nameIn("wscript", "cscript", "mshta")):
		add(kOfficeChain, "%s started %s", mail, orElse(child, v.name))
	case office != "" && child != "" && payload:
		add(kOfficeChain, "%s started %s with a hostile command", office, child)
	case office != "" && child != "":
		add(kOfficeSpawn, "%s started %s", office, child)
	}
}

func clipQuote(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

func orElse(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
