package evidence

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
)

// Bounds of a summary. They keep the context inside a prompt budget and a workflow
// history entry whatever the storyline holds; what falls outside is counted in Cut.
const (
	MaxChains     = 15
	MaxChainDepth = 8
	MaxLines      = 20 // per list: network, files, registry, behaviours
	maxCmdRunes   = 300
	maxLineRunes  = 200
)

// Summarize turns a storyline's explore events into a bounded context: the process
// tree as root-to-leaf chains and one line per distinct network, file, registry and
// behaviour event. threatFile (the threat's file path) marks the threat's own process
// when the console does not flag it.
func Summarize(events []s1client.ExploreEvent, threatFile string) investigation.Context {
	tree := buildTree(events, threatFile)
	out := investigation.Context{EventsRead: len(events)}
	chains := tree.chains()
	slices.SortStableFunc(chains, func(a, b []*node) int {
		// Chains through the threat first, then those whose processes did the most.
		if c := cmp.Compare(b2i(anyMalicious(b)), b2i(anyMalicious(a))); c != 0 {
			return c
		}
		return cmp.Compare(activity(b), activity(a))
	})
	for i, ch := range chains {
		if i == MaxChains {
			out.Cut = append(out.Cut, fmt.Sprintf("%d more process chains", len(chains)-MaxChains))
			break
		}
		var pc investigation.ProcessChain
		for _, n := range ch {
			pc.Processes = append(pc.Processes, investigation.ProcessNode{Name: n.name, Cmd: n.cmd, User: n.user, Malicious: n.malicious})
		}
		out.ProcessChains = append(out.ProcessChains, pc)
	}

	var network, files, registry, behaviors counter
	for _, e := range events {
		proc := orElse(e.ProcessName, "unknown process")
		switch kind(e) {
		case "ip":
			dst := e.DstIP
			if p := string(e.DstPort); p != "" {
				dst += ":" + p
			}
			if e.Direction != "" && !strings.EqualFold(e.Direction, "outgoing") {
				dst = strings.ToLower(e.Direction) + " " + dst
			}
			network.add(proc + " → " + dst)
		case "dns":
			network.add(proc + " resolved " + e.DNSRequest)
		case "url":
			network.add(proc + " " + e.EventType + " " + orElse(e.NetworkURL, e.DstIP))
		case "file":
			files.add(proc + " " + fileVerb(e.EventType) + " " + e.FileFullName)
		case "registry":
			registry.add(proc + " " + strings.ToLower(strings.TrimPrefix(e.EventType, "Registry ")) + " " + e.RegistryPath)
		case "scheduled_task":
			registry.add(proc + " " + strings.ToLower(e.EventType) + " " + orElse(e.TaskPath, e.TaskName))
		case "indicators":
			behaviors.add(strings.TrimSpace(e.IndicatorCategory + ": " + orElse(e.IndicatorDescription, e.IndicatorName) + " (" + proc + ")"))
		}
	}
	out.Network, out.Cut = network.top("network", out.Cut)
	out.Files, out.Cut = files.top("file", out.Cut)
	out.Registry, out.Cut = registry.top("registry / task", out.Cut)
	out.Behaviors, out.Cut = behaviors.top("behaviour", out.Cut)
	return out
}

// kind is the event's object type, derived from eventType when the console omits it.
func kind(e s1client.ExploreEvent) string {
	if e.ObjectType != "" {
		return strings.ToLower(e.ObjectType)
	}
	t := strings.ToLower(e.EventType)
	switch {
	case strings.HasPrefix(t, "ip "):
		return "ip"
	case strings.HasPrefix(t, "dns "):
		return "dns"
	case strings.HasPrefix(t, "file ") || t == "pre execution detection":
		return "file"
	case strings.HasPrefix(t, "registry "):
		return "registry"
	case strings.HasPrefix(t, "task "):
		return "scheduled_task"
	case t == "behavioral indicators":
		return "indicators"
	case strings.HasPrefix(t, "process ") || t == "command script":
		return "process"
	}
	return t
}

func fileVerb(eventType string) string {
	switch strings.ToLower(eventType) {
	case "file creation":
		return "created"
	case "file modification":
		return "modified"
	case "file deletion":
		return "deleted"
	case "file rename":
		return "renamed"
	case "file scan":
		return "scanned"
	}
	return strings.ToLower(eventType)
}

// node is one process of the tree.
type node struct {
	key       string
	name      string
	cmd, user string
	malicious bool
	events    int // events this process is the actor of
	parent    *node
	children  []*node
}

type tree struct {
	nodes []*node // in first-seen order, so output is stable
	byKey map[string]*node
	byPID map[string]*node // "pid/name" of processes seen starting or acting
}

func buildTree(events []s1client.ExploreEvent, threatFile string) *tree {
	tr := &tree{byKey: map[string]*node{}, byPID: map[string]*node{}}
	threatName := strings.ToLower(baseName(threatFile))
	// Processes first, so parents resolve whatever order the console sends events in.
	for _, e := range events {
		if e.ProcessName == "" {
			continue
		}
		n := tr.process(e)
		n.events++
		if kind(e) == "process" && e.ProcessCmd != "" && n.cmd == "" {
			n.cmd = clip(e.ProcessCmd, maxCmdRunes)
		}
		if n.user == "" {
			n.user = e.ProcessUserName
		}
		if bool(e.ProcessIsMalicious) || (threatName != "" && strings.ToLower(e.ProcessName) == threatName) {
			n.malicious = true
		}
	}
	for _, e := range events {
		if e.ProcessName == "" || (e.ParentProcessName == "" && e.ParentProcessUniqueKey == "" && e.ParentPID == "") {
			continue
		}
		child := tr.process(e)
		if child.parent != nil {
			continue
		}
		parent := tr.parentOf(e)
		if parent == nil || parent == child || parent.descendsFrom(child) {
			continue // a cycle in the console's data: keep the child a root
		}
		child.parent = parent
		parent.children = append(parent.children, child)
	}
	return tr
}

// process finds or makes the node of e's acting process.
func (tr *tree) process(e s1client.ExploreEvent) *node {
	pidKey := string(e.PID) + "/" + strings.ToLower(e.ProcessName)
	if k := e.ProcessUniqueKey; k != "" {
		if n := tr.byKey[k]; n != nil {
			return n
		}
	}
	if n := tr.byPID[pidKey]; n != nil && string(e.PID) != "" {
		if e.ProcessUniqueKey != "" && n.key == "" {
			n.key = e.ProcessUniqueKey
			tr.byKey[n.key] = n
		}
		return n
	}
	n := &node{key: e.ProcessUniqueKey, name: e.ProcessName}
	tr.nodes = append(tr.nodes, n)
	if n.key != "" {
		tr.byKey[n.key] = n
	}
	if string(e.PID) != "" {
		tr.byPID[pidKey] = n
	}
	return n
}

// parentOf finds e's parent process, making a name-only node for a parent that has
// no events of its own (e.g. explorer.exe starting the first process of the story).
func (tr *tree) parentOf(e s1client.ExploreEvent) *node {
	if k := e.ParentProcessUniqueKey; k != "" {
		if n := tr.byKey[k]; n != nil {
			return n
		}
	}
	if e.ParentProcessName == "" {
		return nil
	}
	pidKey := string(e.ParentPID) + "/" + strings.ToLower(e.ParentProcessName)
	if n := tr.byPID[pidKey]; n != nil {
		return n
	}
	n := &node{key: e.ParentProcessUniqueKey, name: e.ParentProcessName}
	tr.nodes = append(tr.nodes, n)
	tr.byPID[pidKey] = n
	if n.key != "" {
		tr.byKey[n.key] = n
	}
	return n
}

func (n *node) descendsFrom(anc *node) bool {
	for p := n.parent; p != nil; p = p.parent {
		if p == anc {
			return true
		}
	}
	return false
}

// chains lists every root-to-leaf path, cut at MaxChainDepth (the deepest processes
// are kept: they are the ones nearest the threat).
func (tr *tree) chains() [][]*node {
	var out [][]*node
	var walk func(n *node, path []*node)
	walk = func(n *node, path []*node) {
		path = append(path, n)
		if len(n.children) == 0 {
			ch := slices.Clone(path)
			if len(ch) > MaxChainDepth {
				ch = ch[len(ch)-MaxChainDepth:]
			}
			out = append(out, ch)
			return
		}
		for _, c := range n.children {
			walk(c, path)
		}
	}
	for _, n := range tr.nodes {
		if n.parent == nil {
			walk(n, nil)
		}
	}
	return out
}

func anyMalicious(ch []*node) bool {
	return slices.ContainsFunc(ch, func(n *node) bool { return n.malicious })
}

func activity(ch []*node) int {
	sum := 0
	for _, n := range ch {
		sum += n.events
	}
	return sum
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// counter de-duplicates lines, counting repeats, in first-seen order.
type counter struct {
	order []string
	n     map[string]int
}

func (c *counter) add(line string) {
	line = clip(strings.Join(strings.Fields(line), " "), maxLineRunes)
	if c.n == nil {
		c.n = map[string]int{}
	}
	if c.n[line] == 0 {
		c.order = append(c.order, line)
	}
	c.n[line]++
}

// top returns the MaxLines most frequent lines ("line ×N" when repeated) and notes
// what it cut.
func (c *counter) top(what string, cut []string) ([]string, []string) {
	lines := slices.Clone(c.order)
	slices.SortStableFunc(lines, func(a, b string) int { return cmp.Compare(c.n[b], c.n[a]) })
	if len(lines) > MaxLines {
		cut = append(cut, fmt.Sprintf("%d more %s lines", len(lines)-MaxLines, what))
		lines = lines[:MaxLines]
	}
	for i, l := range lines {
		if k := c.n[l]; k > 1 {
			lines[i] = fmt.Sprintf("%s ×%d", l, k)
		}
	}
	return lines, cut
}

func orElse(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// baseName is the last element of a Windows or POSIX path.
func baseName(p string) string {
	if strings.TrimSpace(p) == "" {
		return ""
	}
	return path.Base(strings.ReplaceAll(p, `\`, "/"))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
