package s1ql

import (
	"fmt"
	"slices"
	"strings"
)

// Type is the type of a query field's values.
type Type string

const (
	// String fields take every operator except the numeric comparisons.
	String Type = "string"
	// Number fields (ports, PIDs) take =, !=, In, >, <, >=, <= and Is (Not) Empty.
	Number Type = "number"
	// Enum fields are strings with a closed set of values (Field.Values); =, != and
	// In refuse a value outside it.
	Enum Type = "enum"
)

// Field is a query field s1copilot knows.
type Field struct {
	Name        string
	Type        Type
	Description string
	// Values are an Enum field's values.
	Values []string
}

// EventTypes are the Deep Visibility event types (API reference §4.3), the values of
// EventType.
var EventTypes = []string{
	"Process Exit", "Process Modification", "Process Creation", "Duplicate Process Handle",
	"Duplicate Thread Handle", "Open Remote Process Handle", "Remote Thread Creation",
	"Remote Process Termination", "Command Script", "IP Connect", "IP Listen",
	"File Modification", "File Creation", "File Scan", "File Deletion", "File Rename",
	"Pre Execution Detection", "Login", "Logout", "GET", "OPTIONS", "POST", "PUT", "DELETE",
	"CONNECT", "HEAD", "DNS Resolved", "DNS Unresolved", "Task Register", "Task Update",
	"Task Start", "Task Trigger", "Task Delete", "Registry Key Create", "Registry Key Rename",
	"Registry Key Delete", "Registry Key Export", "Registry Key Security Changed",
	"Registry Key Import", "Registry Value Modified", "Registry Value Create",
	"Registry Value Delete", "Behavioral Indicators", "Module Load",
}

// ObjectTypes are the values of ObjectType (the event's family).
var ObjectTypes = []string{
	"process", "cross_process", "ip", "file", "logins", "url", "dns", "scheduled_task",
	"registry", "indicators", "module",
}

var fields = []Field{
	{Name: "EventType", Type: Enum, Description: "the Deep Visibility event type, e.g. Process Creation", Values: EventTypes},
	{Name: "ObjectType", Type: Enum, Description: "the event family, e.g. process, file, ip, dns, registry", Values: ObjectTypes},
	{Name: "AgentName", Type: String, Description: "the endpoint's computer name"},
	{Name: "EndpointName", Type: String, Description: "the endpoint's computer name (newer name of AgentName)"},
	{Name: "EndpointOs", Type: Enum, Description: "the endpoint's OS: windows, linux or macos", Values: []string{"windows", "windows_legacy", "linux", "macos"}},
	{Name: "AgentUuid", Type: String, Description: "the agent's UUID"},
	{Name: "SiteName", Type: String, Description: "the agent's site"},
	{Name: "SrcProcName", Type: String, Description: "name of the process that acted, e.g. powershell.exe"},
	{Name: "SrcProcCmdLine", Type: String, Description: "command line of the process that acted"},
	{Name: "SrcProcCmdScript", Type: String, Description: "script content the process ran (Command Script events)"},
	{Name: "SrcProcImagePath", Type: String, Description: "image path of the process that acted"},
	{Name: "SrcProcImageSha1", Type: String, Description: "SHA-1 of the acting process's image"},
	{Name: "SrcProcUser", Type: String, Description: "user the acting process runs as"},
	{Name: "SrcProcPid", Type: Number, Description: "PID of the acting process"},
	{Name: "SrcProcParentName", Type: String, Description: "name of the acting process's parent, e.g. WINWORD.EXE"},
	{Name: "SrcProcParentPid", Type: Number, Description: "PID of the acting process's parent"},
	{Name: "SrcProcStorylineId", Type: String, Description: "storyline ID of the acting process"},
	{Name: "TgtProcName", Type: String, Description: "name of the target process (the one created or opened)"},
	{Name: "TgtProcCmdLine", Type: String, Description: "command line of the target process"},
	{Name: "TgtProcImagePath", Type: String, Description: "image path of the target process"},
	{Name: "TgtProcPid", Type: Number, Description: "PID of the target process"},
	{Name: "TgtFilePath", Type: String, Description: "path of the file created, modified, deleted or renamed"},
	{Name: "TgtFileSha1", Type: String, Description: "SHA-1 of the target file"},
	{Name: "FileFullName", Type: String, Description: "full path of the file of a file event (legacy name of TgtFilePath)"},
	{Name: "FileSha1", Type: String, Description: "SHA-1 of the file"},
	{Name: "FileSha256", Type: String, Description: "SHA-256 of the file"},
	{Name: "FileMd5", Type: String, Description: "MD5 of the file"},
	{Name: "RegistryKeyPath", Type: String, Description: "registry key of a registry event"},
	{Name: "RegistryPath", Type: String, Description: "registry key or value path of a registry event"},
	{Name: "IndicatorName", Type: String, Description: "behavioural indicator name (Behavioral Indicators events)"},
	{Name: "IndicatorCategory", Type: String, Description: "behavioural indicator category, e.g. Persistence"},
	{Name: "IndicatorDescription", Type: String, Description: "behavioural indicator description"},
	{Name: "DstIp", Type: String, Description: "destination IP of a network event"},
	{Name: "DstPort", Type: Number, Description: "destination port of a network event"},
	{Name: "SrcIp", Type: String, Description: "source IP of a network event"},
	{Name: "SrcPort", Type: Number, Description: "source port of a network event"},
	{Name: "DnsRequest", Type: String, Description: "name looked up by a DNS event"},
	{Name: "DnsResponse", Type: String, Description: "answer of a DNS event"},
	{Name: "NetworkUrl", Type: String, Description: "URL of an HTTP event"},
	{Name: "ProcessCmd", Type: String, Description: "command line of the event's process (legacy name of SrcProcCmdLine)"},
	{Name: "ProcessName", Type: String, Description: "name of the event's process (legacy name of SrcProcName)"},
	{Name: "ProcessUserName", Type: String, Description: "user of the event's process (legacy name of SrcProcUser)"},
	{Name: "TaskName", Type: String, Description: "scheduled task name (Task events)"},
	{Name: "TaskPath", Type: String, Description: "scheduled task path (Task events)"},
	{Name: "LoginsUserName", Type: String, Description: "user name of a Login/Logout event"},
}

var fieldsByLower = func() map[string]*Field {
	m := make(map[string]*Field, len(fields))
	for i := range fields {
		m[strings.ToLower(fields[i].Name)] = &fields[i]
	}
	return m
}()

// Fields returns the fields a query may use, for a model's prompt and for docs. The
// caller may modify the result.
func Fields() []Field {
	out := slices.Clone(fields)
	for i := range out {
		out[i].Values = slices.Clone(out[i].Values)
	}
	return out
}

// LookupField finds a field by name, case-insensitively.
func LookupField(name string) (Field, bool) {
	f, ok := fieldsByLower[strings.ToLower(name)]
	if !ok {
		return Field{}, false
	}
	return *f, true
}

// closest returns the candidate nearest to s (case-insensitive edit distance,
// a shared prefix or containment helping), "" when nothing is near enough to suggest.
func closest(s string, candidates []string) string {
	ls := strings.ToLower(s)
	best, bestScore := "", 1<<30
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(ls, lc)
		if strings.Contains(lc, ls) || strings.Contains(ls, lc) {
			d = min(d, 1+abs(len(lc)-len(ls))/3)
		}
		if d < bestScore {
			best, bestScore = c, d
		}
	}
	if bestScore > max(3, len(s)/2) {
		return ""
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func fieldNames() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

// Describe renders the subset for a model's prompt: syntax, operators, bounds, and
// every field with its type and meaning (EventType with its values).
func Describe() string {
	var b strings.Builder
	b.WriteString("S1QL v1 (Deep Visibility): conditions `Field Operator \"Value\"` joined with AND, OR, NOT and parentheses. " +
		"Values are double-quoted, without escapes (a backslash is literal). Keywords are case-insensitive.\n")
	b.WriteString("Operators: " + Operators + ".\n")
	fmt.Fprintf(&b, "At most %d characters and %d conditions.\n", MaxLength, MaxConditions)
	b.WriteString("Fields:\n")
	for _, f := range fields {
		fmt.Fprintf(&b, "- %s (%s): %s", f.Name, f.Type, f.Description)
		if len(f.Values) > 0 {
			fmt.Fprintf(&b, "; values: %s", strings.Join(f.Values, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
