package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/s1copilot/s1copilot/identity"
	"github.com/s1copilot/s1copilot/investigation"
)

// Vocabularies a policy file is checked against.
var (
	// MachineTypes are SentinelOne's agent machine types.
	MachineTypes = []string{"desktop", "laptop", "server", "kubernetes node", "kubernetes pod", "ecs task", "storage", "unknown"}
	// OSTypes are SentinelOne's agent OS types.
	OSTypes = []string{"windows", "windows_legacy", "macos", "linux"}
	// S1ConfidenceLevels are SentinelOne's threat confidence levels.
	S1ConfidenceLevels = []string{"malicious", "suspicious", "n/a"}
)

// Problem is one mistake in a policy file.
type Problem struct {
	Source string `json:"source"`
	Line   int    `json:"line"`
	Col    int    `json:"col"`
	// Path is the field, e.g. rules[1].when.machineTypes[0].
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	pos := fmt.Sprintf("%s:%d:%d", p.Source, p.Line, p.Col)
	if p.Col == 0 {
		pos = fmt.Sprintf("%s:%d", p.Source, p.Line)
	}
	if p.Path == "" {
		return pos + ": " + p.Message
	}
	return pos + ": " + p.Path + ": " + p.Message
}

// ParseError lists every problem found in a policy file, in file order.
type ParseError struct {
	Source   string
	Problems []Problem
}

func (e *ParseError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "invalid policy " + lines[0]
	}
	return fmt.Sprintf("invalid policy %s: %d problems:\n%s", e.Source, len(lines), strings.Join(lines, "\n"))
}

// LoadFile reads and parses the policy file at path.
func LoadFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a policy file strictly: unknown keys, duplicate keys, wrong types, unknown
// names, dangling role references and inconsistent settings are all reported at once in
// a *ParseError, each as source:line:col: path: what is wrong and what is allowed. The
// returned policy's Digest is the SHA-256 of data.
func Parse(data []byte, source string) (*Policy, error) {
	if source == "" {
		source = "policy"
	}
	ps := &parser{src: source}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.syntax(err)
		return nil, ps.err()
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		ps.probs = append(ps.probs, Problem{Source: source, Line: 1, Col: 1, Message: "the policy is empty (see policy/examples/policy.yaml)"})
		return nil, ps.err()
	}
	p := ps.policy(doc.Content[0])
	if err := ps.err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p.Digest = hex.EncodeToString(sum[:])
	return p, nil
}

type roleRef struct {
	node *yaml.Node
	path string
}

type parser struct {
	src   string
	probs []Problem
	// roleRefs are role names used by approvers and escalateTo, checked once roles are known.
	roleRefs []roleRef
	// needsRole is the first mode that can lead to an approval; then roles must not be empty.
	needsRole     *yaml.Node
	needsRolePath string
	// names are the rule and protected names seen so far, for uniqueness.
	names map[string]string
}

func (ps *parser) errf(n *yaml.Node, path, format string, args ...any) {
	ps.probs = append(ps.probs, Problem{Source: ps.src, Line: n.Line, Col: n.Column, Path: path, Message: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (ps *parser) syntax(err error) {
	for _, msg := range strings.Split(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"), "\n") {
		msg = strings.TrimSpace(msg)
		line := 1
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		ps.probs = append(ps.probs, Problem{Source: ps.src, Line: line, Message: "YAML syntax: " + msg})
	}
}

func (ps *parser) err() error {
	if len(ps.probs) == 0 {
		return nil
	}
	sort.SliceStable(ps.probs, func(i, j int) bool {
		a, b := ps.probs[i], ps.probs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &ParseError{Source: ps.src, Problems: ps.probs}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

type field struct{ key, val *yaml.Node }

// fields checks that n is a mapping with only the allowed keys, each at most once.
func (ps *parser) fields(n *yaml.Node, path string, allowed ...string) map[string]field {
	n = resolve(n)
	out := map[string]field{}
	if isNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		ps.errf(n, path, "must be a mapping with the keys %s", strings.Join(allowed, ", "))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(allowed, k.Value):
			ps.errf(k, join(path, k.Value), "unknown field (allowed here: %s)", strings.Join(allowed, ", "))
		case out[k.Value].key != nil:
			ps.errf(k, join(path, k.Value), "defined twice (first at line %d)", out[k.Value].key.Line)
		default:
			out[k.Value] = field{k, v}
		}
	}
	return out
}

// pairs checks that n is a mapping and returns its key/value pairs in file order.
func (ps *parser) pairs(n *yaml.Node, path, what string) []field {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		ps.errf(n, path, "must be a mapping of %s", what)
		return nil
	}
	var out []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if line, dup := seen[k.Value]; dup {
			ps.errf(k, join(path, k.Value), "defined twice (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, field{k, n.Content[i+1]})
	}
	return out
}

func (ps *parser) require(n *yaml.Node, fs map[string]field, path string, names ...string) {
	for _, name := range names {
		if _, ok := fs[name]; !ok && resolve(n).Kind == yaml.MappingNode {
			ps.errf(n, join(path, name), "missing: this field is required")
		}
	}
}

func (ps *parser) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		ps.errf(n, path, "must be a text value")
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		ps.errf(n, path, "must not be empty")
		return "", false
	}
	return n.Value, true
}

func (ps *parser) flag(n *yaml.Node, path string) bool {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		v, err := strconv.ParseBool(n.Value)
		if err == nil {
			return v
		}
	}
	ps.errf(n, path, "must be true or false, got %q", n.Value)
	return false
}

func (ps *parser) number(n *yaml.Node, path string, lo, hi float64) (float64, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsNaN(f) && f >= lo && f <= hi {
			return f, true
		}
	}
	ps.errf(n, path, "must be a number from %g to %g, got %q", lo, hi, n.Value)
	return 0, false
}

func (ps *parser) count(n *yaml.Node, path string) int {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil && v >= 0 {
			return v
		}
	}
	ps.errf(n, path, "must be a whole number, 0 or more (0 means no cap), got %q", n.Value)
	return 0
}

func (ps *parser) duration(n *yaml.Node, path string) Duration {
	s, ok := ps.str(n, path)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		ps.errf(resolve(n), path, "invalid duration %q (use h, m and s, e.g. 24h, 90m or 1h30m)", s)
	case d <= 0:
		ps.errf(resolve(n), path, "must be positive, got %s", s)
	}
	return Duration(d)
}

// list reads a sequence of non-empty strings; check, if set, reports what is wrong with an
// entry ("" if nothing).
func (ps *parser) list(n *yaml.Node, path string, check func(string) string) []string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		ps.errf(n, path, "must be a list, e.g. [a, b]")
		return nil
	}
	var out []string
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := ps.str(e, p)
		if !ok {
			continue
		}
		if check != nil {
			if msg := check(s); msg != "" {
				ps.errf(resolve(e), p, "%s", msg)
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

func oneOf(what string, allowed []string) func(string) string {
	return func(s string) string {
		if containsFold(allowed, s) {
			return ""
		}
		return fmt.Sprintf("unknown %s %q (one of: %s)", what, s, strings.Join(allowed, ", "))
	}
}

func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
}

func (ps *parser) mode(n *yaml.Node, path string, allowed []Mode, what string) Mode {
	s, ok := ps.str(n, path)
	if !ok {
		return ""
	}
	m := Mode(strings.ToLower(s))
	if !slices.Contains(allowed, m) {
		if m.Valid() {
			ps.errf(resolve(n), path, "mode %q is not allowed %s (one of: %s)", s, what, strings.Join(names(allowed), ", "))
		} else {
			ps.errf(resolve(n), path, "unknown mode %q (one of: %s)", s, strings.Join(names(allowed), ", "))
		}
		return ""
	}
	if (m == ModeApprove || m == ModeAuto) && ps.needsRole == nil {
		ps.needsRole, ps.needsRolePath = resolve(n), path
	}
	return m
}

func (ps *parser) actionList(n *yaml.Node, path string) []investigation.Action {
	var out []investigation.Action
	for _, s := range ps.list(n, path, oneOf("action", names(investigation.Actions))) {
		out = append(out, investigation.Action(strings.ToLower(s)))
	}
	return out
}

func (ps *parser) roles(n *yaml.Node, path string) []string {
	n = resolve(n)
	out := ps.list(n, path, nil)
	if n.Kind == yaml.SequenceNode {
		for i, e := range n.Content {
			ps.roleRefs = append(ps.roleRefs, roleRef{resolve(e), fmt.Sprintf("%s[%d]", path, i)})
		}
	}
	return out
}

func (ps *parser) reason(fs map[string]field, path string) string {
	if f, ok := fs["reason"]; ok {
		s, _ := ps.str(f.val, join(path, "reason"))
		return s
	}
	return ""
}

func (ps *parser) policy(root *yaml.Node) *Policy {
	p := &Policy{}
	fs := ps.fields(root, "", "version", "mode", "minConfidence", "approvals", "roles", "actions", "rules", "protected", "protectedFiles", "caps", "disagreements", "identity", "killSwitchRoles", "forensics")
	ps.require(root, fs, "", "version", "mode", "minConfidence")
	if resolve(root).Kind != yaml.MappingNode {
		return p
	}
	if f, ok := fs["version"]; ok {
		p.Version, _ = ps.str(f.val, "version")
	}
	if f, ok := fs["mode"]; ok {
		p.Mode = ps.mode(f.val, "mode", Modes, "")
	}
	if f, ok := fs["minConfidence"]; ok {
		p.MinConfidence, _ = ps.number(f.val, "minConfidence", 0, 1)
	}
	if f, ok := fs["approvals"]; ok {
		p.Approvals = ps.approvals(f.val, "approvals")
	}
	if f, ok := fs["disagreements"]; ok {
		dfs := ps.fields(f.val, "disagreements", "approvers", "holdAutomatic")
		if ap, ok := dfs["approvers"]; ok {
			p.Disagreements.Approvers = ps.roles(ap.val, "disagreements.approvers")
		}
		if h, ok := dfs["holdAutomatic"]; ok {
			p.Disagreements.HoldAutomatic = ps.flag(h.val, "disagreements.holdAutomatic")
		}
	}
	if f, ok := fs["forensics"]; ok {
		p.Forensics = ps.forensics(f.val, "forensics")
	}
	if f, ok := fs["killSwitchRoles"]; ok {
		p.KillSwitchRoles = ps.roles(f.val, "killSwitchRoles")
	}
	var identityMembers []memberRef
	if f, ok := fs["identity"]; ok {
		p.Identity, identityMembers = ps.identity(f.val, "identity")
	}
	var rolesNode *yaml.Node
	if f, ok := fs["roles"]; ok {
		rolesNode = f.key
		for _, r := range ps.pairs(f.val, "roles", "role names to lists of members") {
			path := join("roles", r.key.Value)
			if strings.TrimSpace(r.key.Value) == "" {
				ps.errf(r.key, path, "a role needs a name")
				continue
			}
			members := ps.list(r.val, path, nil)
			if len(members) == 0 {
				ps.errf(resolve(r.val), path, "role %q has no members", r.key.Value)
				continue
			}
			if p.Roles == nil {
				p.Roles = map[string][]string{}
			}
			p.Roles[r.key.Value] = members
		}
	}
	if f, ok := fs["actions"]; ok {
		for _, a := range ps.pairs(f.val, "actions", "action names to their settings") {
			path := join("actions", a.key.Value)
			act := investigation.Action(a.key.Value)
			if !act.Valid() {
				ps.errf(a.key, path, "unknown action %q (one of: %s)", a.key.Value, strings.Join(names(investigation.Actions), ", "))
				continue
			}
			afs := ps.fields(a.val, path, "mode", "approvers", "reason")
			var ar ActionRule
			if m, ok := afs["mode"]; ok {
				ar.Mode = ps.mode(m.val, join(path, "mode"), Modes, "")
			}
			if ap, ok := afs["approvers"]; ok {
				ar.Approvers = ps.roles(ap.val, join(path, "approvers"))
			}
			ar.Reason = ps.reason(afs, path)
			if p.Actions == nil {
				p.Actions = map[investigation.Action]ActionRule{}
			}
			p.Actions[act] = ar
		}
	}
	ps.names = map[string]string{"default": "s1copilot's own name for the global mode"}
	if f, ok := fs["rules"]; ok {
		for i, n := range ps.seq(f.val, "rules") {
			p.Rules = append(p.Rules, ps.rule(n, fmt.Sprintf("rules[%d]", i)))
		}
	}
	if f, ok := fs["protected"]; ok {
		for i, n := range ps.seq(f.val, "protected") {
			p.Protected = append(p.Protected, ps.protected(n, fmt.Sprintf("protected[%d]", i)))
		}
	}
	if f, ok := fs["protectedFiles"]; ok {
		for i, n := range ps.seq(f.val, "protectedFiles") {
			p.ProtectedFiles = append(p.ProtectedFiles, ps.protectedFile(n, fmt.Sprintf("protectedFiles[%d]", i)))
		}
	}
	if f, ok := fs["caps"]; ok {
		cfs := ps.fields(f.val, "caps", "isolationsPerHour", "isolationsPerDay", "autoActionsPerMinute")
		if c, ok := cfs["isolationsPerHour"]; ok {
			p.Caps.IsolationsPerHour = ps.count(c.val, "caps.isolationsPerHour")
		}
		if c, ok := cfs["isolationsPerDay"]; ok {
			p.Caps.IsolationsPerDay = ps.count(c.val, "caps.isolationsPerDay")
		}
		if c, ok := cfs["autoActionsPerMinute"]; ok {
			p.Caps.AutoActionsPerMinute = ps.count(c.val, "caps.autoActionsPerMinute")
		}
	}

	// Cross-references, now that the roles are known.
	if len(p.Roles) == 0 && ps.needsRole != nil {
		at := ps.needsRole
		if rolesNode != nil {
			at = rolesNode
		}
		ps.errf(at, "roles", "at least one role is needed: %s can make s1copilot wait for an approval", ps.needsRolePath)
	}
	if len(p.Roles) > 0 {
		known := make([]string, 0, len(p.Roles))
		for r := range p.Roles {
			known = append(known, r)
		}
		sort.Strings(known)
		for _, ref := range ps.roleRefs {
			if ref.node.Kind == yaml.ScalarNode && strings.TrimSpace(ref.node.Value) != "" && p.Roles[ref.node.Value] == nil {
				ps.errf(ref.node, ref.path, "unknown role %q (defined roles: %s)", ref.node.Value, strings.Join(known, ", "))
			}
		}
		for _, m := range identityMembers {
			if len(p.RolesOf(m.approver)) == 0 {
				ps.errf(m.node, m.path, "%q is in no role: add it to roles or remove it", m.approver)
			}
		}
	}
	return p
}

// memberRef is an approver named in the identity section, checked against the roles.
type memberRef struct {
	approver string
	node     *yaml.Node
	path     string
}

// identity reads how approvers prove who they are: keys must parse, and every
// approver named must be in a role (checked by the caller once roles are known).
func (ps *parser) identity(n *yaml.Node, path string) (Identity, []memberRef) {
	var id Identity
	var members []memberRef
	fs := ps.fields(n, path, "requireSigned", "approverKeys", "slackBotKey", "slackUsers")
	if f, ok := fs["requireSigned"]; ok {
		id.RequireSigned = ps.flag(f.val, join(path, "requireSigned"))
	}
	key := func(node *yaml.Node, at string) string {
		v, ok := ps.str(node, at)
		if !ok {
			return ""
		}
		if _, err := identity.ParsePublicKey(v); err != nil {
			ps.errf(resolve(node), at, "%v", err)
			return ""
		}
		return strings.TrimSpace(v)
	}
	if f, ok := fs["approverKeys"]; ok {
		for _, kv := range ps.pairs(f.val, join(path, "approverKeys"), "approvers to their public keys") {
			at := join(join(path, "approverKeys"), kv.key.Value)
			if k := key(kv.val, at); k != "" {
				if id.ApproverKeys == nil {
					id.ApproverKeys = map[string]string{}
				}
				id.ApproverKeys[kv.key.Value] = k
				members = append(members, memberRef{kv.key.Value, kv.key, at})
			}
		}
	}
	if f, ok := fs["slackBotKey"]; ok {
		id.SlackBotKey = key(f.val, join(path, "slackBotKey"))
	}
	if f, ok := fs["slackUsers"]; ok {
		for _, kv := range ps.pairs(f.val, join(path, "slackUsers"), "Slack user IDs to approvers") {
			at := join(join(path, "slackUsers"), kv.key.Value)
			approver, ok := ps.str(kv.val, at)
			if !ok || strings.TrimSpace(approver) == "" {
				continue
			}
			if id.SlackUsers == nil {
				id.SlackUsers = map[string]string{}
			}
			id.SlackUsers[kv.key.Value] = approver
			members = append(members, memberRef{approver, resolve(kv.val), at})
		}
	}
	return id, members
}

func (ps *parser) seq(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		ps.errf(n, path, "must be a list of entries, each starting with \"- name: …\"")
		return nil
	}
	return n.Content
}

func (ps *parser) approvals(n *yaml.Node, path string) Approvals {
	var a Approvals
	fs := ps.fields(n, path, "timeout", "reminderAfter", "escalateAfter", "escalateTo")
	at := map[string]*yaml.Node{}
	for _, k := range []string{"timeout", "reminderAfter", "escalateAfter"} {
		if f, ok := fs[k]; ok {
			d := ps.duration(f.val, join(path, k))
			at[k] = resolve(f.val)
			switch k {
			case "timeout":
				a.Timeout = d
			case "reminderAfter":
				a.ReminderAfter = d
			case "escalateAfter":
				a.EscalateAfter = d
			}
		}
	}
	if f, ok := fs["escalateTo"]; ok {
		a.EscalateTo = ps.roles(f.val, join(path, "escalateTo"))
	}
	shorter := func(short, long string, s, l Duration) {
		if s > 0 && l > 0 && s >= l {
			ps.errf(at[short], join(path, short), "%s (%s) must be shorter than %s (%s)", short, s, long, l)
		}
	}
	shorter("reminderAfter", "escalateAfter", a.ReminderAfter, a.EscalateAfter)
	shorter("escalateAfter", "timeout", a.EscalateAfter, a.Timeout)
	if a.EscalateAfter == 0 {
		shorter("reminderAfter", "timeout", a.ReminderAfter, a.Timeout)
	}
	if a.EscalateAfter > 0 && len(a.EscalateTo) == 0 {
		ps.errf(at["escalateAfter"], join(path, "escalateAfter"), "escalateAfter needs escalateTo: the roles to escalate to")
	}
	if f, ok := fs["escalateTo"]; ok && len(a.EscalateTo) > 0 && a.EscalateAfter == 0 {
		ps.errf(f.key, join(path, "escalateTo"), "escalateTo needs escalateAfter: when to escalate")
	}
	return a
}

func (ps *parser) name(fs map[string]field, path string) string {
	f, ok := fs["name"]
	if !ok {
		return ""
	}
	s, ok := ps.str(f.val, join(path, "name"))
	if !ok {
		return ""
	}
	if first, dup := ps.names[strings.ToLower(s)]; dup {
		ps.errf(resolve(f.val), join(path, "name"), "name %q is already used by %s; names must be unique", s, first)
		return s
	}
	ps.names[strings.ToLower(s)] = path
	return s
}

func (ps *parser) rule(n *yaml.Node, path string) Rule {
	var r Rule
	fs := ps.fields(n, path, "name", "when", "actions", "mode", "approvers", "reason")
	ps.require(n, fs, path, "name", "mode")
	r.Name = ps.name(fs, path)
	if f, ok := fs["when"]; ok {
		r.When = ps.conditions(f.val, join(path, "when"), true)
	}
	if f, ok := fs["actions"]; ok {
		r.Actions = ps.actionList(f.val, join(path, "actions"))
	}
	if f, ok := fs["mode"]; ok {
		r.Mode = ps.mode(f.val, join(path, "mode"), Modes, "")
	}
	if f, ok := fs["approvers"]; ok {
		r.Approvers = ps.roles(f.val, join(path, "approvers"))
	}
	r.Reason = ps.reason(fs, path)
	return r
}

func (ps *parser) protected(n *yaml.Node, path string) Protected {
	var pr Protected
	fs := ps.fields(n, path, "name", "when", "actions", "mode", "approvers", "reason")
	ps.require(n, fs, path, "name", "when", "mode")
	pr.Name = ps.name(fs, path)
	if f, ok := fs["when"]; ok {
		pr.When = ps.conditions(f.val, join(path, "when"), false)
		if pr.When.empty() {
			ps.errf(resolve(f.val), join(path, "when"), "a protected asset needs at least one condition (e.g. computerNames or tags); it would otherwise protect every host")
		}
	}
	if f, ok := fs["actions"]; ok {
		pr.Actions = ps.actionList(f.val, join(path, "actions"))
	}
	if f, ok := fs["mode"]; ok {
		pr.Mode = ps.mode(f.val, join(path, "mode"), []Mode{ModeApprove, ModeOff}, "for a protected asset")
	}
	if f, ok := fs["approvers"]; ok {
		pr.Approvers = ps.roles(f.val, join(path, "approvers"))
	}
	pr.Reason = ps.reason(fs, path)
	return pr
}

func (ps *parser) protectedFile(n *yaml.Node, path string) ProtectedFile {
	var pf ProtectedFile
	fs := ps.fields(n, path, "name", "paths", "signers", "reason")
	ps.require(n, fs, path, "name", "paths")
	pf.Name = ps.name(fs, path)
	if f, ok := fs["paths"]; ok {
		before := len(ps.probs)
		pf.Paths = ps.list(f.val, join(path, "paths"), checkPathGlob)
		if len(pf.Paths) == 0 && len(ps.probs) == before {
			ps.errf(resolve(f.val), join(path, "paths"), `needs at least one path glob, e.g. C:\Windows\System32\*.exe`)
		}
	}
	if f, ok := fs["signers"]; ok {
		pf.Signers = ps.list(f.val, join(path, "signers"), nil)
	}
	pf.Reason = ps.reason(fs, path)
	return pf
}

func (c Conditions) empty() bool {
	return len(c.Verdicts) == 0 && c.MinConfidence == nil && len(c.S1Confidence) == 0 && len(c.MachineTypes) == 0 &&
		len(c.OSTypes) == 0 && len(c.SiteIDs) == 0 && len(c.GroupNames) == 0 && len(c.Tags) == 0 && len(c.ComputerNames) == 0 &&
		len(c.Clusters) == 0 && len(c.Namespaces) == 0 && len(c.Images) == 0
}

func lower(list []string) []string {
	for i := range list {
		list[i] = strings.ToLower(list[i])
	}
	return list
}

func (ps *parser) conditions(n *yaml.Node, path string, rule bool) Conditions {
	var c Conditions
	allowed := []string{"verdicts", "minConfidence", "s1Confidence", "machineTypes", "osTypes", "siteIds", "groupNames", "tags", "computerNames", "clusters", "namespaces", "images"}
	if !rule {
		allowed = slices.DeleteFunc(allowed, func(s string) bool { return s == "minConfidence" })
	}
	fs := ps.fields(n, path, allowed...)
	get := func(key string, check func(string) string) []string {
		if f, ok := fs[key]; ok {
			return ps.list(f.val, join(path, key), check)
		}
		return nil
	}
	for _, v := range get("verdicts", oneOf("verdict", names(investigation.Verdicts))) {
		c.Verdicts = append(c.Verdicts, investigation.Verdict(strings.ToLower(v)))
	}
	if f, ok := fs["minConfidence"]; ok {
		if v, ok := ps.number(f.val, join(path, "minConfidence"), 0, 1); ok {
			c.MinConfidence = &v
		}
	}
	c.S1Confidence = lower(get("s1Confidence", oneOf("SentinelOne confidence level", S1ConfidenceLevels)))
	c.MachineTypes = lower(get("machineTypes", oneOf("machine type", MachineTypes)))
	c.OSTypes = lower(get("osTypes", oneOf("OS type", OSTypes)))
	c.SiteIDs = get("siteIds", nil)
	c.GroupNames = get("groupNames", nil)
	c.Tags = get("tags", func(s string) string {
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return fmt.Sprintf("tag %q must be key=value, e.g. role=dc", s)
		}
		return ""
	})
	c.ComputerNames = get("computerNames", nil)
	c.Clusters = get("clusters", checkNameGlob("cluster"))
	c.Namespaces = get("namespaces", checkNameGlob("namespace"))
	c.Images = get("images", checkNameGlob("image"))
	return c
}

// checkNameGlob refuses what a workload glob cannot mean: only * and ? are wildcards,
// so brackets and braces (which Kubernetes names and image references never contain)
// would be taken literally and silently never match.
func checkNameGlob(what string) func(string) string {
	return func(g string) string {
		if i := strings.IndexAny(g, "[]{}"); i >= 0 {
			return fmt.Sprintf("%s glob %q: %q is not supported (only * for any run of characters and ? for one)", what, g, g[i:i+1])
		}
		if strings.ContainsAny(g, " \t") {
			return fmt.Sprintf("%s glob %q contains spaces, which no %s name has", what, g, what)
		}
		return ""
	}
}
