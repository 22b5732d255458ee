package rules

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"

	"github.com/s1copilot/s1copilot/guard"
	"github.com/s1copilot/s1copilot/investigation"
)

// view is the evidence normalised once for every rule: lower case, paths with forward
// slashes and without their volume, texts gathered from wherever SentinelOne reports
// behaviour. Fields an attacker controls (names, command lines, indicator texts) can
// only ever make a threat look worse: every benign conclusion rests on the verified
// signature, the host's tags and group (set by administrators) and the install path.
type view struct {
	f        investigation.ThreatFacts
	timeline []investigation.TimelineItem

	confidence  string // malicious | suspicious | n/a
	class       string
	classTokens tokenSet
	classShown  string // as S1 spells it, for explanations
	osType      string
	machine     string
	signed      bool   // SignedVerified: the agent checked the signature
	publisher   string // cleaned, as S1 spells it
	path        string // lower, "/"-separated, no volume: /windows/system32/rundll32.exe
	dirs        []string
	name        string // lower base name of the file
	cmd         string
	cmdTok      tokenSet
	parents     []string // lower base names: the originator, then the storyline's parent
	techniques  []string
	texts       []string // lower: indicators, behaviours, custom-rule alerts
	textTok     tokenSet
	engines     []string
	tags        []tag
	group       string
	injection   []string // text aimed at a model (guard.DetectInjection)
}

type tag struct{ key, value string }

type tokenSet map[string]bool

// tokens splits on anything but letters and digits, so "C:\...\cmd.exe /c"
// yields "cmd" and "exe" and a substring such as "cmdline" does not match "cmd".
func tokens(parts ...string) tokenSet {
	set := tokenSet{}
	for _, p := range parts {
		for _, t := range splitWords(p) {
			set[t] = true
		}
	}
	return set
}

func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func (s tokenSet) any(words ...string) string {
	for _, w := range words {
		if s[w] {
			return w
		}
	}
	return ""
}

func containsAny(s string, subs ...string) string {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}

// customRuleAlert is the activity type of a custom (STAR) rule alert in a threat's
// timeline: its text describes behaviour, like an indicator.
const customRuleAlert = 3608

func newView(ev investigation.Evidence) *view {
	f := ev.Facts
	v := &view{
		f:           f,
		timeline:    ev.Timeline,
		confidence:  strings.ToLower(strings.TrimSpace(f.ConfidenceLevel)),
		class:       strings.ToLower(strings.TrimSpace(f.Classification)),
		classTokens: tokens(f.Classification),
		classShown:  guard.Truncate(guard.Clean(f.Classification), 64),
		osType:      strings.ToLower(strings.TrimSpace(f.OSType)),
		machine:     strings.ToLower(strings.TrimSpace(f.MachineType)),
		signed:      strings.EqualFold(strings.TrimSpace(f.FileVerificationType), "SignedVerified"),
		publisher:   guard.Truncate(guard.Clean(strings.TrimSpace(f.PublisherName)), 80),
		path:        strings.ToLower(investigation.PathOnVolume(f.FilePath)),
		cmd:         strings.ToLower(f.CommandLine),
		cmdTok:      tokens(f.CommandLine),
		techniques:  investigation.TechniqueIDs(f.Techniques),
		group:       strings.ToLower(f.GroupName),
		injection:   guard.DetectInjection(ev),
	}
	if v.path != "" {
		dir, file := path.Split(v.path)
		v.name = file
		for _, d := range strings.Split(dir, "/") {
			if d != "" {
				v.dirs = append(v.dirs, d)
			}
		}
	}
	if v.name == "" {
		v.name = strings.ToLower(strings.TrimSpace(f.ThreatName))
	}
	if p := processName(f.OriginatorProcess); p != "" {
		v.parents = append(v.parents, p)
	}
	for _, e := range f.Engines {
		v.engines = append(v.engines, strings.ToLower(e))
	}
	for _, ind := range f.Indicators {
		v.texts = append(v.texts, strings.ToLower(ind))
	}
	for _, it := range ev.Timeline {
		if it.ActivityType == customRuleAlert {
			v.texts = append(v.texts, strings.ToLower(it.Description))
		}
	}
	if c := ev.Context; c != nil {
		for _, b := range c.Behaviors {
			v.texts = append(v.texts, strings.ToLower(b))
		}
		if p := chainParent(c.ProcessChains); p != "" && (len(v.parents) == 0 || v.parents[0] != p) {
			v.parents = append(v.parents, p)
		}
	}
	v.textTok = tokens(v.texts...)
	for _, t := range f.Tags {
		k, val, _ := strings.Cut(t, "=")
		if i := strings.LastIndexByte(k, ':'); i >= 0 {
			k = k[i+1:]
		}
		v.tags = append(v.tags, tag{strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(val))})
	}
	return v
}

// chainParent is the process that started the first malicious process of the
// storyline's chains (the chain through the threat comes first).
func chainParent(chains []investigation.ProcessChain) string {
	for _, ch := range chains {
		for i, n := range ch.Processes {
			if n.Malicious && i > 0 {
				if p := processName(ch.Processes[i-1].Name); p != "" && p != processName(n.Name) {
					return p
				}
				return ""
			}
		}
	}
	return ""
}

// processName is the lower-case base name of a process name or image path.
func processName(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.Trim(s, `"`)))
	if i := strings.LastIndexAny(s, `\/`); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// stem drops a process name's extension: "winword.exe" → "winword".
func stem(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// inText reports the first of subs found in an indicator, behaviour or alert text.
func (v *view) inText(subs ...string) string {
	for _, t := range v.texts {
		if s := containsAny(t, subs...); s != "" {
			return s
		}
	}
	return ""
}

// inAny looks in the texts and the command line.
func (v *view) inAny(subs ...string) string {
	if s := containsAny(v.cmd, subs...); s != "" {
		return s
	}
	return v.inText(subs...)
}

// technique returns the first of the threat's MITRE techniques under one of prefixes
// ("T1003" matches T1003 and T1003.001).
func (v *view) technique(prefixes ...string) string {
	for _, t := range v.techniques {
		for _, p := range prefixes {
			if t == p || strings.HasPrefix(t, p+".") {
				return t
			}
		}
	}
	return ""
}

func (v *view) parentIn(names ...string) string {
	for _, p := range v.parents {
		for _, n := range names {
			if stem(p) == n {
				return p
			}
		}
	}
	return ""
}

// under reports whether the file lives under one of the directories, given from the
// volume's root ("/windows/system32/").
func (v *view) under(dirs ...string) bool { return v.under1(dirs...) != "" }

// under1 returns the first of dirs the file lives under, or "".
func (v *view) under1(dirs ...string) string {
	for _, d := range dirs {
		if strings.HasPrefix(v.path, d) {
			return d
		}
	}
	return ""
}

// pathHas returns the first of subs found in the file's path ("/temp/" finds a Temp
// directory at any depth).
func (v *view) pathHas(subs ...string) string {
	return containsAny("/"+strings.TrimPrefix(v.path, "/"), subs...)
}

// canRemediate: S1 remediation is not available for Linux agents; unknown OS
// types get no recommendation rather than a guess.
func (v *view) canRemediate() bool {
	return v.osType == "windows" || v.osType == "windows_legacy" || v.osType == "macos"
}

// canRollback: rollback restores from VSS snapshots, which only Windows has.
func (v *view) canRollback() bool {
	return v.osType == "windows" || v.osType == "windows_legacy"
}

var osBinaryDirs = []string{"/windows/system32/", "/windows/syswow64/", "/windows/winsxs/", "/windows/microsoft.net/", "/windows/sysnative/"}

var (
	unixBinDirs     = []string{"/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/libexec/", "/usr/local/bin/"}
	unixInterpreter = regexp.MustCompile(`^(?:sh|bash|dash|zsh|ksh|csh|tcsh|fish|busybox|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|node|curl|wget|nc|ncat|netcat|socat|openssl|awk|gawk|osascript|ssh|scp|base64|xargs|env)$`)
)

// osBinary: the threat's file is the operating system's own: Windows binaries signed
// by Microsoft in the system directories (powershell.exe, rundll32.exe, certutil.exe),
// or a Unix shell or interpreter in the system's bin directories. Attackers borrow
// such binaries; the file is not the threat, and quarantining it breaks the OS.
func (v *view) osBinary() bool {
	if v.signed && strings.HasPrefix(strings.ToLower(v.publisher), "microsoft") && v.under(osBinaryDirs...) {
		return true
	}
	return (v.osType == "linux" || v.osType == "macos") && v.under(unixBinDirs...) && unixInterpreter.MatchString(v.name)
}

// osBinaryShown says whose the binary is, for explanations.
func (v *view) osBinaryShown() string {
	if v.signed {
		return fmt.Sprintf("Windows' own %s signed by %q", v.name, v.publisher)
	}
	return fmt.Sprintf("the system's own %s", v.path)
}

// hostAttr is every administrator-set description of the host: tag keys and values
// and the group name, as lower-case word lists.
func (v *view) hostAttr() [][]string {
	var out [][]string
	for _, t := range v.tags {
		out = append(out, splitWords(t.key+" "+t.value))
	}
	if v.group != "" {
		out = append(out, splitWords(v.group))
	}
	return out
}

// hostSays reports the first phrase (words separated by spaces) found as consecutive
// words in a tag or the group name, e.g. "red team" in "Red Team" or "role=red-team".
func (v *view) hostSays(phrases ...string) string {
	for _, words := range v.hostAttr() {
		joined := " " + strings.Join(words, " ") + " "
		squashed := strings.Join(words, "")
		for _, p := range phrases {
			if strings.Contains(joined, " "+p+" ") || !strings.Contains(p, " ") && squashed == p {
				return p
			}
		}
	}
	return ""
}

// tagShown renders the host attribute that matched, for explanations.
func (v *view) hostShown(phrase string) string {
	for _, t := range v.tags {
		words := splitWords(t.key + " " + t.value)
		joined := " " + strings.Join(words, " ") + " "
		if strings.Contains(joined, " "+phrase+" ") || strings.Join(words, "") == phrase {
			return "tag " + guard.Truncate(guard.Clean(t.key+"="+t.value), 60)
		}
	}
	return "group " + guard.Truncate(guard.Clean(v.f.GroupName), 60)
}

var (
	rawIPURL = regexp.MustCompile(`(?:h[tx]{2}ps?|ftp)://(?:\d{1,3}\.){3}\d{1,3}\b`)
	anyURL   = regexp.MustCompile(`(?:h[tx]{2}ps?|ftp)://[^\s"']+`)
)
