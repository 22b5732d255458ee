package hunt

import "time"

// NamedHunt is a hunt of the library: a vetted S1QL query with the words that ask
// for it.
type NamedHunt struct {
	// Name identifies the hunt, e.g. "encoded-powershell".
	Name string
	// Title is how the analyst sees it.
	Title string
	// Keywords are words and phrases of a question that ask for this hunt (matched
	// case-insensitively after simple stemming; a phrase matches its words in order).
	Keywords []string
	// Query is S1QL (package s1ql's subset).
	Query string
	// Lookback is the default time range when the question names none.
	Lookback time.Duration
	// Explanation says in one line what the query looks for.
	Explanation string
	// FollowUps name three other hunts worth running after this one.
	FollowUps []string
}

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// libraryHunts are the named hunts. Each query is written for Deep Visibility's field
// names (API reference §4.3, §4.5) and must pass Translation.Check (tested).
var libraryHunts = []NamedHunt{
	{
		Name: "encoded-powershell", Title: "Encoded PowerShell commands",
		Keywords: []string{"encoded", "encodedcommand", "base64", "enc", "obfuscated", "obfuscation", "encoded powershell", "encoded command"},
		Query:    `EventType = "Process Creation" AND SrcProcName In Anycase ("powershell.exe", "pwsh.exe", "powershell_ise.exe") AND SrcProcCmdLine RegExp "(?i)\s-(e|ec|enc|encodedcommand)\s"`,
		Lookback: day, Explanation: "PowerShell started with an encoded (base64) command line, a common way to hide what a script does",
		FollowUps: []string{"suspicious-powershell", "office-spawning-shells", "rare-port-connections"},
	},
	{
		Name: "suspicious-powershell", Title: "Suspicious PowerShell",
		Keywords: []string{"powershell", "pwsh", "download cradle", "downloadstring", "invoke-expression", "iex", "hidden window", "execution policy bypass", "bypass"},
		Query: `EventType = "Process Creation" AND SrcProcName In Anycase ("powershell.exe", "pwsh.exe", "powershell_ise.exe") AND ` +
			`SrcProcCmdLine In Contains Anycase ("-nop", "-noprofile", "hidden", "bypass", "downloadstring", "downloadfile", "iex", "invoke-expression", "net.webclient", "frombase64string", "-enc", "invoke-webrequest")`,
		Lookback: day, Explanation: "PowerShell run with hiding, policy-bypass, download or in-memory execution switches",
		FollowUps: []string{"encoded-powershell", "lolbins", "rare-port-connections"},
	},
	{
		Name: "lsass-access", Title: "LSASS memory access",
		Keywords: []string{"lsass", "lsass access", "lsass memory", "process handle", "credential access", "memory of lsass"},
		Query:    `EventType In ("Open Remote Process Handle", "Duplicate Process Handle") AND TgtProcName In Anycase ("lsass.exe")`,
		Lookback: week, Explanation: "processes that opened a handle to lsass.exe, the first step of dumping Windows credentials from memory",
		FollowUps: []string{"credential-dumping-tools", "new-services", "wmi-execution"},
	},
	{
		Name: "credential-dumping-tools", Title: "Credential dumping tools",
		Keywords: []string{"mimikatz", "credential dump", "credential dumping", "dump credential", "password dump", "dumping", "procdump", "sekurlsa", "comsvcs", "minidump", "steal password", "credential theft"},
		Query: `EventType = "Process Creation" AND (SrcProcName In Anycase ("mimikatz.exe", "procdump.exe", "procdump64.exe", "pwdump.exe", "gsecdump.exe", "nanodump.exe") OR ` +
			`SrcProcCmdLine In Contains Anycase ("sekurlsa", "lsadump", "comsvcs.dll, minidump", "comsvcs.dll minidump", "-ma lsass"))`,
		Lookback: week, Explanation: "known credential dumping tools (mimikatz, procdump of lsass, comsvcs MiniDump) being run",
		FollowUps: []string{"lsass-access", "new-services", "shadow-copy-deletion"},
	},
	{
		Name: "new-services", Title: "New services installed",
		Keywords: []string{"service", "new service", "service install", "installed service", "sc create", "sc.exe", "service creation"},
		Query: `(EventType = "Process Creation" AND SrcProcName In Anycase ("sc.exe") AND SrcProcCmdLine ContainsCIS " create ") OR ` +
			`(EventType In ("Registry Key Create", "Registry Value Create") AND RegistryPath ContainsCIS "\CurrentControlSet\Services\")`,
		Lookback: week, Explanation: "services created with sc.exe or new service keys in the registry, a persistence and privilege-escalation route",
		FollowUps: []string{"scheduled-tasks", "run-key-persistence", "credential-dumping-tools"},
	},
	{
		Name: "scheduled-tasks", Title: "Scheduled task creation",
		Keywords: []string{"scheduled task", "schtasks", "task scheduler", "at.exe", "task", "scheduled job"},
		Query:    `(EventType = "Process Creation" AND SrcProcName In Anycase ("schtasks.exe", "at.exe") AND SrcProcCmdLine ContainsCIS "/create") OR EventType In ("Task Register", "Task Update")`,
		Lookback: week, Explanation: "scheduled tasks created or changed (schtasks /create, at, Task Register events), a common persistence mechanism",
		FollowUps: []string{"run-key-persistence", "new-services", "suspicious-powershell"},
	},
	{
		Name: "office-spawning-shells", Title: "Office applications spawning shells",
		Keywords: []string{"office", "word", "excel", "outlook", "powerpoint", "macro", "document", "maldoc", "spawn", "child process", "winword"},
		Query: `EventType = "Process Creation" AND SrcProcParentName In Anycase ("winword.exe", "excel.exe", "powerpnt.exe", "outlook.exe", "msaccess.exe", "onenote.exe") AND ` +
			`SrcProcName In Anycase ("cmd.exe", "powershell.exe", "pwsh.exe", "wscript.exe", "cscript.exe", "mshta.exe", "rundll32.exe", "regsvr32.exe", "certutil.exe")`,
		Lookback: week, Explanation: "Office applications starting a shell or script host, the typical trace of a malicious macro",
		FollowUps: []string{"encoded-powershell", "lolbins", "suspicious-tld-dns"},
	},
	{
		Name: "lolbins", Title: "Living-off-the-land binaries (LOLBins)",
		Keywords: []string{"lolbin", "lolbins", "living off the land", "certutil", "mshta", "regsvr32", "regsvcs", "rundll32", "installutil", "msbuild", "signed binary proxy", "proxy execution"},
		Query: `EventType = "Process Creation" AND ((SrcProcName In Anycase ("certutil.exe") AND SrcProcCmdLine In Contains Anycase ("urlcache", "-decode", "http")) OR ` +
			`SrcProcName In Anycase ("mshta.exe", "regsvr32.exe", "regsvcs.exe", "regasm.exe", "installutil.exe", "msbuild.exe") OR ` +
			`(SrcProcName In Anycase ("rundll32.exe") AND SrcProcCmdLine In Contains Anycase ("javascript:", "http", "\users\", "\appdata\", "\temp\", "\programdata\")))`,
		Lookback: week, Explanation: "signed Windows binaries (certutil, mshta, regsvr32, regsvcs, rundll32…) used to download or run code",
		FollowUps: []string{"office-spawning-shells", "suspicious-powershell", "rare-port-connections"},
	},
	{
		Name: "run-key-persistence", Title: "Persistence via Run keys",
		Keywords: []string{"run key", "runonce", "registry persistence", "autorun", "autostart", "startup", "registry", "persistence", "persist"},
		Query:    `EventType In ("Registry Value Create", "Registry Value Modified") AND RegistryPath In Contains Anycase ("\CurrentVersion\Run\", "\CurrentVersion\RunOnce\")`,
		Lookback: week, Explanation: "values written under the Run / RunOnce registry keys, which start a program at every logon",
		FollowUps: []string{"scheduled-tasks", "new-services", "lolbins"},
	},
	{
		Name: "rare-port-connections", Title: "Connections to rare ports",
		Keywords: []string{"port", "rare port", "unusual port", "uncommon port", "non-standard port", "outbound", "connection", "c2", "command and control", "beacon", "network"},
		Query: `EventType = "IP Connect" AND DstPort Is Not Empty AND NOT DstPort In ("20", "21", "22", "25", "53", "80", "88", "123", "135", "139", "389", "443", "445", "587", "636", "993", "3389", "5985", "8080") AND ` +
			`DstIp Does Not Contain "127.0.0.1"`,
		Lookback: day, Explanation: "outbound connections to ports that ordinary software rarely uses (reverse shells and C2 often pick 4444, 1337, 8443…)",
		FollowUps: []string{"suspicious-tld-dns", "linux-reverse-shell", "suspicious-powershell"},
	},
	{
		Name: "suspicious-tld-dns", Title: "DNS lookups of suspicious top-level domains",
		Keywords: []string{"dns", "domain", "tld", "top-level domain", "lookup", "resolve", "resolution", "xyz", "dga"},
		Query:    `EventType In ("DNS Resolved", "DNS Unresolved") AND DnsRequest RegExp "(?i)\.(xyz|top|tk|ml|ga|cf|gq|pw|su|ru|cc|click|onion|zip|mov|work|rest|cyou)\.?$"`,
		Lookback: day, Explanation: "DNS lookups of domains under top-level domains that malware favours (.xyz, .top, .tk, .ru, .onion…)",
		FollowUps: []string{"rare-port-connections", "curl-pipe-shell", "lolbins"},
	},
	{
		Name: "linux-reverse-shell", Title: "Reverse shells on Linux and macOS",
		Keywords: []string{"reverse shell", "netcat", "nc", "ncat", "socat", "dev/tcp", "bind shell", "interactive shell", "shell"},
		Query: `EventType = "Process Creation" AND EndpointOs In ("linux", "macos") AND ` +
			`SrcProcCmdLine In Contains Anycase ("/dev/tcp/", "nc -e", "ncat -e", "nc.traditional -e", "bash -i", "sh -i", "mkfifo", "socat exec", "import socket", "pty.spawn")`,
		Lookback: day, Explanation: "shells wired to a network socket on Linux or macOS (bash -i >& /dev/tcp, nc -e, mkfifo, python socket/pty)",
		FollowUps: []string{"rare-port-connections", "curl-pipe-shell", "suspicious-tld-dns"},
	},
	{
		Name: "curl-pipe-shell", Title: "Download piped to a shell (curl | bash)",
		Keywords: []string{"curl", "wget", "pipe", "piped", "curl bash", "download and execute", "download and run", "curl | bash", "install script"},
		Query:    `EventType = "Process Creation" AND SrcProcCmdLine RegExp "(?i)(curl|wget)\s[^|]*\|\s*(sudo\s+)?(ba|z|da)?sh\b"`,
		Lookback: week, Explanation: "a download (curl, wget) piped straight into a shell, which runs unreviewed code",
		FollowUps: []string{"linux-reverse-shell", "suspicious-tld-dns", "rare-port-connections"},
	},
	{
		Name: "shadow-copy-deletion", Title: "Shadow copy and backup deletion",
		Keywords: []string{"shadow", "shadow copy", "shadow copies", "vss", "vssadmin", "ransomware", "backup", "backup deletion", "recovery", "wbadmin", "bcdedit"},
		Query: `EventType = "Process Creation" AND ((SrcProcName In Anycase ("vssadmin.exe") AND SrcProcCmdLine ContainsCIS "delete shadows") OR ` +
			`(SrcProcName In Anycase ("wmic.exe") AND SrcProcCmdLine ContainsCIS "shadowcopy delete") OR ` +
			`(SrcProcName In Anycase ("wbadmin.exe") AND SrcProcCmdLine ContainsCIS "delete catalog") OR ` +
			`(SrcProcName In Anycase ("bcdedit.exe") AND SrcProcCmdLine ContainsCIS "recoveryenabled no"))`,
		Lookback: week, Explanation: "shadow copies, backup catalogs or boot recovery being deleted, what ransomware does before encrypting",
		FollowUps: []string{"credential-dumping-tools", "wmi-execution", "new-services"},
	},
	{
		Name: "wmi-execution", Title: "Execution through WMI",
		Keywords: []string{"wmi", "wmic", "wmiprvse", "remote execution", "lateral movement", "lateral", "process call create"},
		Query: `EventType = "Process Creation" AND (SrcProcParentName In Anycase ("wmiprvse.exe") OR ` +
			`(SrcProcName In Anycase ("wmic.exe") AND SrcProcCmdLine In Contains Anycase ("process call create", "/node:")))`,
		Lookback: week, Explanation: "processes started through WMI (children of WmiPrvSE, wmic process call create), used for remote execution",
		FollowUps: []string{"lsass-access", "new-services", "suspicious-powershell"},
	},
	{
		Name: "macos-launch-persistence", Title: "macOS LaunchAgents and LaunchDaemons",
		Keywords: []string{"macos", "mac", "launchagent", "launch agent", "launchdaemon", "launch daemon", "plist", "launchctl"},
		Query:    `EventType In ("File Creation", "File Modification") AND FileFullName In Contains Anycase ("/Library/LaunchAgents/", "/Library/LaunchDaemons/")`,
		Lookback: week, Explanation: "property lists written to LaunchAgents or LaunchDaemons folders, which start a program at boot or logon on macOS",
		FollowUps: []string{"curl-pipe-shell", "linux-reverse-shell", "suspicious-tld-dns"},
	},
	{
		Name: "new-local-accounts", Title: "Local accounts created or added to administrators",
		Keywords: []string{"account", "user account", "new user", "local user", "net user", "useradd", "administrators", "admin group", "add user"},
		Query: `EventType = "Process Creation" AND (SrcProcCmdLine RegExp "(?i)\bnet1?(\.exe)?\s+(user|localgroup)\b.*\s/add\b" OR ` +
			`SrcProcName In ("useradd", "adduser", "dscl") OR (SrcProcName In ("usermod") AND SrcProcCmdLine Contains " -aG "))`,
		Lookback: week, Explanation: "local accounts created or added to a privileged group (net user /add, net localgroup administrators /add, useradd)",
		FollowUps: []string{"new-services", "scheduled-tasks", "lsass-access"},
	},
}
