package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
)

// ProtectedFile names files s1copilot never quarantines nor remediates, whatever
// analysis recommends it: the operating system's own binaries, an agent's, a line of
// business application's. It is a guard of the policy, independent of any analyzer:
// when an attack runs through such a file, the process is killed and the file kept.
type ProtectedFile struct {
	Name string `json:"name"`
	// Paths are globs of the file's path, matched case-insensitively and without the
	// volume (C:\Windows\System32\*.exe matches \Device\HarddiskVolume2\Windows\...): *
	// is any run of characters within a folder or file name, ? one character, and **
	// any number of folders.
	Paths []string `json:"paths"`
	// Signers, if set, are the publishers (exact names or globs, case-insensitive) one
	// of which must have signed the file, with a signature the agent verified; an
	// unsigned or differently signed file at such a path is not protected.
	Signers []string `json:"signers,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// fileActions are the actions that act on the threat's file.
var fileActions = []investigation.Action{investigation.ActionQuarantine, investigation.ActionRemediate}

// defaultProtectedFiles are Windows' own signed binaries: attackers borrow them
// (powershell.exe, rundll32.exe, certutil.exe), and quarantining them breaks the host.
func defaultProtectedFiles() []ProtectedFile {
	return []ProtectedFile{{
		Name:    "Windows binaries",
		Paths:   []string{`C:\Windows\System32\**`, `C:\Windows\SysWOW64\**`},
		Signers: []string{"Microsoft Windows", "Microsoft Windows Publisher", "Microsoft Corporation"},
		Reason:  "Windows' own signed binaries: kill the process, the binary is not the threat",
	}}
}

// protectedFile returns the first entry protecting the threat's file, or nil.
func (p *Policy) protectedFile(f investigation.ThreatFacts) *ProtectedFile {
	for i := range p.ProtectedFiles {
		if p.ProtectedFiles[i].matches(f) {
			return &p.ProtectedFiles[i]
		}
	}
	return nil
}

func (pf *ProtectedFile) matches(f investigation.ThreatFacts) bool {
	if strings.TrimSpace(f.FilePath) == "" || !slices.ContainsFunc(pf.Paths, func(g string) bool { return pathGlobMatch(g, f.FilePath) }) {
		return false
	}
	if len(pf.Signers) == 0 {
		return true
	}
	return strings.EqualFold(strings.TrimSpace(f.FileVerificationType), "SignedVerified") &&
		slices.ContainsFunc(pf.Signers, func(s string) bool { return globMatch(strings.TrimSpace(s), strings.TrimSpace(f.PublisherName)) })
}

// describe says why the step is skipped, naming the file and its signer.
func (pf *ProtectedFile) describe(f investigation.ThreatFacts) string {
	what := fmt.Sprintf("%s is a protected file (%q)", f.FilePath, pf.Name)
	if len(pf.Signers) > 0 {
		what = fmt.Sprintf("%s, signed by %q, is a protected file (%q)", f.FilePath, f.PublisherName, pf.Name)
	}
	if pf.Reason != "" {
		what += ": " + pf.Reason
	}
	return what + "; s1copilot never quarantines or remediates it"
}

// pathParts splits a path into lower-case names, without its volume.
func pathParts(p string) []string {
	return strings.FieldsFunc(strings.ToLower(investigation.PathOnVolume(p)), func(r rune) bool { return r == '/' })
}

// pathGlobMatch matches a path against a path glob (see ProtectedFile.Paths).
func pathGlobMatch(glob, path string) bool {
	return matchParts(pathParts(glob), pathParts(path))
}

func matchParts(glob, path []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(path); i++ {
				if matchParts(glob[1:], path[i:]) {
					return true
				}
			}
			return false
		}
		if len(path) == 0 || !globMatch(glob[0], path[0]) {
			return false
		}
		glob, path = glob[1:], path[1:]
	}
	return len(path) == 0
}

// checkPathGlob says what is wrong with a path glob, or "".
func checkPathGlob(g string) string {
	p := strings.ReplaceAll(strings.TrimSpace(g), `\`, "/")
	absolute := strings.HasPrefix(p, "/") || len(p) >= 3 && p[1] == ':' && p[2] == '/'
	if !absolute {
		return fmt.Sprintf("path '%s' must be absolute, e.g. C:\\Windows\\System32\\*.exe or /usr/bin/*", g)
	}
	for _, part := range pathParts(g) {
		if strings.Contains(part, "**") && part != "**" {
			return fmt.Sprintf("path '%s': ** stands for whole folders (\\**\\ or a final \\**), not part of a name", g)
		}
	}
	return ""
}
