package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// story is a benign explanation of a detection: who would do what the evidence shows,
// and which kinds of behaviour that accounts for. A strong story may conclude
// false_positive; a moderate one only keeps a threat at suspicious. A story never
// explains behaviour it does not name: the signed updater that beacons to a C2, the
// backup agent that deletes every shadow copy, are not what those programs do.
type story struct {
	rule        string
	strong      bool
	why         string
	explains    map[kind]bool
	unexplained signals
}

// explaining is what every story accounts for (the weak kinds) plus extra. A hacking
// tool or a remote-access tool is weak evidence, but a signature or a build directory
// does not explain why it is there: only the stories that name them do.
func explaining(extra ...kind) map[kind]bool {
	m := map[kind]bool{}
	for k, info := range kinds {
		if info.level == weak && k != kHacktool && k != kRemoteAccessTool {
			m[k] = true
		}
	}
	for _, k := range extra {
		m[k] = true
	}
	return m
}

// stories returns the benign explanations whose preconditions hold, strong ones
// first, each with the signals it does not explain.
func (v *view) stories(sig signals) []*story {
	var out []*story
	vendor := v.vendor()
	if vendor != "" {
		out = append(out, &story{rule: TrustedVendor, strong: true, why: vendor, explains: explaining()})
	}
	if m := v.management(); m != "" {
		out = append(out, &story{rule: ManagementTool, strong: true, why: m, explains: explaining(kLateral, kHacktool, kRemoteAccessTool)})
	}
	if b := v.backup(vendor != "", sig); b != "" {
		out = append(out, &story{rule: BackupSoftware, strong: true, why: b, explains: explaining(kRansomLabel)})
	}
	if x := v.exercise(); x != "" {
		all := explaining()
		for k, info := range kinds {
			if info.level != unwanted {
				all[k] = true
			}
		}
		all[kOpaqueBehaviour] = true
		for _, k := range []kind{kEncryption, kRecoveryWipe, kRansomLabel, kServiceStop, kMining} {
			delete(all, k) // no authorised test encrypts, wipes or mines
		}
		out = append(out, &story{rule: AuthorisedExercise, strong: true, why: x, explains: all})
	}
	if d := v.devBuild(); d != "" {
		out = append(out, &story{rule: DeveloperBuild, strong: true, why: d, explains: explaining()})
	}
	if a := v.adminHost(); a != "" {
		out = append(out, &story{rule: AdminHost, why: a, explains: explaining(kLateral, kHacktool, kRemoteAccessTool)})
	}
	for _, st := range out {
		for _, s := range sig {
			if !st.explains[s.kind] {
				st.unexplained = append(st.unexplained, s)
			}
		}
	}
	return out
}

var (
	stagingDirs = []string{"/temp/", "/tmp/", "/downloads/", "/desktop/", "/users/public/", "/inetcache/", "/content.outlook/",
		"/var/tmp/", "/dev/shm/", "/$recycle.bin/", "/perflogs/", "/library/caches/", "/private/var/folders/"}
	// launchers after which a signed program is no longer the vendor's own story: a
	// document, a shell, a browser download or a web server ran it.
	suspiciousParents = slices.Concat(officeApps, mailApps, scriptHosts, unixShells, proxyBinaries, webServers, []string{"certutil", "bitsadmin"})
	// installRoots need administrator rights to write to: software there was installed
	// by an administrator, under whatever folder name its vendor chose.
	installRoots   = []string{"/program files/", "/program files (x86)/", "/applications/", "/opt/", "/usr/"}
	officeAddins   = []string{"xla", "xlam", "xll", "ppa", "ppam", "dot", "dotm", "wll", "vsto"}
	publisherNoise = map[string]bool{
		"inc": true, "incorporated": true, "llc": true, "ltd": true, "limited": true, "corp": true, "corporation": true, "co": true,
		"company": true, "gmbh": true, "ag": true, "sa": true, "sas": true, "srl": true, "bv": true, "nv": true, "plc": true, "pty": true,
		"kk": true, "ab": true, "oy": true, "as": true, "group": true, "holdings": true, "software": true, "technologies": true,
		"technology": true, "systems": true, "solutions": true, "international": true, "the": true, "and": true, "of": true,
		"developer": true, "id": true, "application": true, "video": true, "communications": true, "media": true, "apps": true,
		"app": true, "it": true, "code": true, "signing": true, "digital": true, "services": true, "foundation": true, "project": true,
		"community": true, "development": true, "team": true, "windows": true, "program": true, "files": true, "common": true,
		"system": true, "tools": true, "update": true, "updater": true, "local": true, "data": true, "users": true, "publisher": true,
		"s": true, "r": true, "o": true,
	}
	parenthetical = regexp.MustCompile(`\([^)]*\)`)
)

// publisherWords are the distinctive words of a signer's name: "Zoom Video
// Communications, Inc." → zoom; "Developer ID Application: Shopping Helper Inc
// (4R8K2L9QX1)" → shopping, helper.
func publisherWords(pub string) []string {
	pub = strings.ToLower(pub)
	if i := strings.LastIndex(pub, ":"); i >= 0 && strings.Contains(pub[:i], "developer id") {
		pub = pub[i+1:]
	}
	pub = parenthetical.ReplaceAllString(pub, " ")
	var out []string
	for _, w := range splitWords(pub) {
		if len(w) >= 2 && !publisherNoise[w] {
			out = append(out, w)
		}
	}
	return out
}

// vendorDir returns the directory of the file's path named after its signer
// (C:\Program Files\Notepad++\updater\GUP.exe signed "Notepad++"), or "".
func (v *view) vendorDir() string {
	words := publisherWords(v.publisher)
	for _, d := range v.dirs {
		dw := splitWords(d)
		squashed := strings.Join(dw, "")
		for _, w := range words {
			if slices.Contains(dw, w) || len(w) >= 3 && (strings.HasPrefix(squashed, w) || slices.ContainsFunc(dw, func(x string) bool { return strings.HasPrefix(x, w) })) {
				return d
			}
		}
	}
	return ""
}

// suspiciousParent returns the launcher that rules out the vendor's own story, or "".
func (v *view) suspiciousParent() string {
	p := v.parentIn(suspiciousParents...)
	if p != "" && slices.Contains(officeAddins, ext(v.name)) && v.parentIn(officeApps...) == p {
		return "" // an Office add-in is loaded by Office
	}
	return p
}

func ext(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

// vendor: a file whose signature the agent verified, from the signer's own install
// directory (not a download or temp folder), started by something other than a
// document, a shell, a browser or a web server. Windows' own binaries are excluded:
// attackers borrow them, so their signature says nothing about what they were made to do.
func (v *view) vendor() string {
	if !v.signed || v.publisher == "" || v.osBinary() || v.pathHas(stagingDirs...) != "" {
		return ""
	}
	where := ""
	if dir := v.vendorDir(); dir != "" {
		where = fmt.Sprintf("installed in its vendor's folder %q", dir)
	} else if v.under(installRoots...) && !v.pua() {
		// Unwanted software is installed by administrators too: for a file S1 calls
		// unwanted, only the signer's own folder name ties the signature to the product.
		where = fmt.Sprintf("installed under %q", strings.TrimSuffix(strings.TrimPrefix(v.under1(installRoots...), "/"), "/"))
	}
	if where == "" || v.suspiciousParent() != "" {
		return ""
	}
	started := "no recorded parent"
	if len(v.parents) > 0 {
		started = "started by " + v.parents[0]
	}
	return fmt.Sprintf("signed by %q (verified), %s, %s", v.publisher, where, started)
}

// managementTools are enterprise management agents: a process of the agent and its
// working directory must both be seen, so a look-alike name alone does not count.
var managementTools = []struct {
	name  string
	procs []string // prefixes of the threat's or its parent's process name
	dirs  []string // found in the threat's path
}{
	{"Configuration Manager (SCCM)", []string{"ccmexec", "ccmsetup"}, []string{"/windows/ccm/", "/windows/ccmcache/", "/windows/ccmsetup/"}},
	{"Intune Management Extension", []string{"microsoft.management.services.intunewindowsagent", "agentexecutor", "intunemanagementextension"}, []string{"/microsoft intune management extension/", "/windows/imecache/"}},
	{"PDQ Deploy", []string{"pdqdeployrunner", "pdqdeploy", "pdqinventory"}, []string{"/adminarsenal/"}},
	{"Ansible", []string{"ansiballz_"}, []string{"/.ansible/tmp/", "/ansible-tmp-"}},
	{"Puppet", []string{"puppet", "pxp-agent"}, []string{"/opt/puppetlabs/", "/puppet labs/", "/puppetlabs/"}},
	{"Chef", []string{"chef-client", "chef-solo"}, []string{"/opt/chef/", "/var/chef/", "/chef/cache/"}},
	{"Salt", []string{"salt-minion", "salt-call"}, []string{"/var/cache/salt/", "/salt/var/cache/"}},
	{"Tanium", []string{"taniumclient", "taniumcx"}, []string{"/tanium/"}},
	{"BigFix", []string{"besclient"}, []string{"/bigfix enterprise/", "/besclient/"}},
	{"Jamf", []string{"jamf"}, []string{"/library/application support/jamf/", "/usr/local/jamf/"}},
	{"Munki", []string{"managedsoftwareupdate"}, []string{"/usr/local/munki/", "/library/managed installs/"}},
	{"Kaseya", []string{"agentmon"}, []string{"/kaseya/"}},
	{"NinjaOne", []string{"ninjarmmagent"}, []string{"/ninjarmmagent/"}},
	{"ConnectWise Automate", []string{"ltsvc", "ltsvcmon"}, []string{"/windows/ltsvc/"}},
	{"Datto RMM", []string{"aemagent", "cagservice"}, []string{"/centrastage/"}},
	{"KACE", []string{"ampagent", "kdeploy"}, []string{"/quest/kace/", "/dell/kace/"}},
	{"Ivanti", []string{"ldiscn32", "sdclient", "vulscan"}, []string{"/landesk/", "/ivanti/"}},
	{"Chocolatey", []string{"choco", "chocolatey"}, []string{"/programdata/chocolatey/"}},
	{"Workspace ONE", []string{"awacmclient", "airwatch"}, []string{"/airwatch/", "/workspace one/"}},
	{"ManageEngine", []string{"dcagentservice", "dcondemand"}, []string{"/manageengine/", "/desktopcentral_agent/"}},
}

// management: an enterprise management agent ran the threat (its script, its runner).
func (v *view) management() string {
	procs := append([]string{v.name}, v.parents...)
	for _, t := range managementTools {
		dir := v.pathHas(t.dirs...)
		if dir == "" {
			continue
		}
		for _, p := range procs {
			for _, pre := range t.procs {
				if strings.HasPrefix(p, pre) {
					return fmt.Sprintf("%s: %s, run from its directory %q", t.name, p, dir)
				}
			}
		}
	}
	return ""
}

var backupMarkers = []string{"backup", "veeam", "acronis", "commvault", "veritas", "arcserve", "macrium", "datto", "rubrik", "cohesity",
	"carbonite", "nakivo", "altaro", "zerto", "unitrends", "druva", "cloudberry", "msp360", "bacula", "duplicati", "netbackup",
	"storagecraft", "shadowprotect", "wbengine"}

// backup: backup software maintaining shadow copies. Either the signed vendor story
// holds for a backup product, or the host is tagged a backup server and either a backup
// product ran it or Windows' own vssadmin did what backup software does (list, create,
// delete one shadow copy by ID).
func (v *view) backup(vendor bool, sig signals) string {
	product := containsAny(strings.ToLower(v.publisher)+" | "+v.path+" | "+strings.Join(v.parents, " | "), backupMarkers...)
	host := v.hostSays("backup", "backups")
	switch {
	case vendor && product != "":
		return fmt.Sprintf("backup software (%q) signed by %q", product, v.publisher)
	case host != "" && v.pathHas(stagingDirs...) == "" && (product != "" || v.osBinary() && sig.has(kShadowRoutine)):
		what := "shadow copy maintenance"
		if product != "" {
			what = fmt.Sprintf("backup software (%q)", product)
		}
		return fmt.Sprintf("%s on a host with %s", what, v.hostShown(host))
	}
	return ""
}

var exercisePhrases = []string{"pentest", "pen test", "pentesting", "penetration test", "penetration testing", "red team", "redteam",
	"purple team", "purpleteam", "adversary emulation", "attack simulation", "security testing", "security assessment", "offensive security"}

// exercise: the host is tagged (or grouped) for an authorised security exercise.
func (v *view) exercise() string {
	if p := v.hostSays(exercisePhrases...); p != "" {
		return "an authorised exercise: " + v.hostShown(p)
	}
	for _, t := range v.tags {
		if t.key == "engagement" && t.value != "" {
			return "an authorised exercise: tag engagement=" + t.value
		}
	}
	return ""
}

var (
	devHostWords = []string{"dev", "devel", "development", "developer", "developers", "devbox", "build", "builder", "build agent", "ci", "engineering", "sdk"}
	buildDirs    = []string{"/bin/debug/", "/bin/release/", "/obj/", "/target/debug/", "/target/release/", "/build/", "/dist/", "/out/",
		"/source/repos/", "/src/", "/repos/", "/projects/", "/workspace/", "/go/bin/", "/.cargo/", "/node_modules/", "/x64/debug/",
		"/x64/release/", "/cmake-build-", "/deriveddata/", "/bazel-out/", "/.gradle/", "/git/"}
	devTools = []string{"devenv", "msbuild", "dotnet", "vstest.console", "testhost", "vsdebugconsole", "code", "idea64", "idea", "rider64",
		"pycharm64", "goland64", "clion64", "webstorm64", "studio64", "eclipse", "java", "javaw", "gradle", "mvn", "cargo", "rustc", "go",
		"gcc", "g++", "cc", "clang", "cl", "link", "make", "cmake", "ninja", "node", "npm", "npx", "yarn", "python", "python3",
		"pytest", "dlv", "gdb", "lldb", "xcodebuild", "bazel", "msvsmon", "vsdbg", "explorer", "windowsterminal", "openconsole"}
)

// devBuild: a developer's own build output on a host tagged for development, started
// by a compiler, an IDE, a debugger or the developer's shell.
func (v *view) devBuild() string {
	host := v.hostSays(devHostWords...)
	dir := v.pathHas(buildDirs...)
	if host == "" || dir == "" {
		return ""
	}
	p := v.parentIn(slices.Concat(devTools, unixShells, []string{"cmd", "powershell", "pwsh"})...)
	if p == "" && len(v.parents) > 0 {
		return ""
	}
	return fmt.Sprintf("build output (%q) on a development host (%s), started by %s", dir, v.hostShown(host), orElse(p, "no recorded parent"))
}

var adminHostWords = []string{"jump", "jumphost", "jump host", "jumpbox", "jump box", "bastion", "paw", "admin", "admins", "sysadmin",
	"it ops", "itops", "it admin", "management server", "mgmt"}

// adminHost: a jump host or admin workstation, where remote administration is the
// host's purpose. Only a moderate story: tools an admin uses are an intruder's too.
func (v *view) adminHost() string {
	if p := v.hostSays(adminHostWords...); p != "" {
		return "an administration host: " + v.hostShown(p)
	}
	return ""
}
