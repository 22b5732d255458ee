package policy

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/s1copilot/s1copilot/investigation"
)

// Forensics configures collect_forensics: which script of the console's RemoteOps
// library collects the package on each OS. The output always goes to SentinelOne's
// cloud, where the package can be fetched with a link.
type Forensics struct {
	// Scripts maps an agent OS type (windows, windows_legacy, linux, macos) to the ID of
	// a script in the console's library (GET /remote-scripts lists them). An OS without
	// a script never gets the action.
	Scripts map[string]string `json:"scripts,omitempty"`
	// InputParams are passed to the script as they are (data.inputParams).
	InputParams string `json:"inputParams,omitempty"`
	// Timeout is how long s1copilot follows the task before it reports it as not
	// finished; it is also sent as the script's runtime limit. Zero: DefaultForensicsTimeout.
	Timeout Duration `json:"timeout,omitempty"`
}

// DefaultForensicsTimeout is how long a collection may take when the policy does not say.
const DefaultForensicsTimeout = 30 * time.Minute

// ForensicsOSTypes are the OS types a forensic script can be set for.
var ForensicsOSTypes = []string{"windows", "windows_legacy", "linux", "macos"}

// ScriptFor returns the script for an agent's OS type, or "". A windows_legacy agent
// without its own script gets the windows one.
func (f Forensics) ScriptFor(osType string) string {
	os := strings.ToLower(osType)
	if id := f.Scripts[os]; id != "" {
		return id
	}
	if os == "windows_legacy" {
		return f.Scripts["windows"]
	}
	return ""
}

// TimeoutOrDefault is Timeout, or DefaultForensicsTimeout when unset.
func (f Forensics) TimeoutOrDefault() time.Duration {
	if f.Timeout > 0 {
		return time.Duration(f.Timeout)
	}
	return DefaultForensicsTimeout
}

// ParseForensicsScripts reads "os=scriptID,os=scriptID" (S1C_FORENSICS_SCRIPTS, for the
// built-in policy).
func ParseForensicsScripts(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		os, id, ok := strings.Cut(strings.TrimSpace(part), "=")
		os, id = strings.ToLower(strings.TrimSpace(os)), strings.TrimSpace(id)
		switch {
		case !ok || id == "":
			return nil, fmt.Errorf("%q: write os=scriptID, e.g. windows=1234567890", part)
		case !validForensicsOS(os):
			return nil, fmt.Errorf("%q: unknown OS type %q (one of %s)", part, os, strings.Join(ForensicsOSTypes, ", "))
		}
		out[os] = id
	}
	return out, nil
}

func validForensicsOS(os string) bool {
	for _, o := range ForensicsOSTypes {
		if o == os {
			return true
		}
	}
	return false
}

// WithForensics returns a copy of p that collects forensics with f, its digest
// recomputed (the built-in policy plus S1C_FORENSICS_SCRIPTS).
func (p *Policy) WithForensics(f Forensics) *Policy {
	c := *p
	c.Forensics = f
	c.Digest = c.contentDigest()
	return &c
}

// noForensicScript says why collect_forensics cannot run on this agent, or "".
func (p *Policy) noForensicScript(f investigation.ThreatFacts, act investigation.Action) string {
	if act != investigation.ActionCollectForensics || p.Forensics.ScriptFor(f.OSType) != "" {
		return ""
	}
	os := f.OSType
	if os == "" {
		os = "unknown"
	}
	return fmt.Sprintf("the policy names no forensic collection script for %s agents (forensics.scripts, or S1C_FORENSICS_SCRIPTS for the built-in policy)", os)
}

// forensicsNeedsAHuman keeps collect_forensics at approve unless the policy says auto
// for it by name: running a script on a host is not something a global "auto" or a
// rule about every action should grant by accident.
func forensicsNeedsAHuman(act investigation.Action, mode Mode, ar ActionRule, rule *Rule) bool {
	if act != investigation.ActionCollectForensics || mode != ModeAuto {
		return false
	}
	if rule != nil {
		for _, a := range rule.Actions {
			if a == act {
				return false
			}
		}
		return true
	}
	return ar.Mode != ModeAuto
}

// forensics reads the forensics section.
func (ps *parser) forensics(n *yaml.Node, path string) Forensics {
	var f Forensics
	fs := ps.fields(n, path, "scripts", "inputParams", "timeout")
	if s, ok := fs["scripts"]; ok {
		for _, e := range ps.pairs(s.val, join(path, "scripts"), "OS types to script IDs") {
			epath := join(join(path, "scripts"), e.key.Value)
			os := strings.ToLower(e.key.Value)
			if !validForensicsOS(os) {
				ps.errf(e.key, epath, "unknown OS type %q (one of: %s)", e.key.Value, strings.Join(ForensicsOSTypes, ", "))
				continue
			}
			id, ok := ps.str(e.val, epath)
			if !ok {
				continue
			}
			if f.Scripts == nil {
				f.Scripts = map[string]string{}
			}
			f.Scripts[os] = strings.TrimSpace(id)
		}
	}
	if s, ok := fs["inputParams"]; ok {
		f.InputParams, _ = ps.str(s.val, join(path, "inputParams"))
	}
	if s, ok := fs["timeout"]; ok {
		f.Timeout = ps.duration(s.val, join(path, "timeout"))
	}
	return f
}
