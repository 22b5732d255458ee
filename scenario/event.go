package scenario

import "time"

// Event is one explore/Deep Visibility event in compact form; the simulator
// fills in the agent and storyline fields. Field names follow the legacy DV
// event schema (reference §2.5, §4.3). The process fields describe the process
// the event is about: for "Process Creation" the process created, for other
// events the process that acted.
type Event struct {
	// EventType is a DV event type, e.g. "Process Creation", "File Creation",
	// "IP Connect", "DNS Resolved", "Registry Value Modified",
	// "Behavioral Indicators". Required.
	EventType string `json:"eventType"`
	// Before (Go duration) places a threat's event before the threat's
	// createdAt, and a scenario's top-level event (AgentEvent) before the
	// scenario is loaded.
	Before               string `json:"before,omitempty"`
	ProcessName          string `json:"processName,omitempty"`
	ProcessCmd           string `json:"processCmd,omitempty"`
	ProcessImagePath     string `json:"processImagePath,omitempty"`
	ProcessUserName      string `json:"processUserName,omitempty"`
	PID                  int    `json:"pid,omitempty"`
	ParentPID            int    `json:"parentPid,omitempty"`
	ParentProcessName    string `json:"parentProcessName,omitempty"`
	FileFullName         string `json:"fileFullName,omitempty"`
	FileSHA1             string `json:"fileSha1,omitempty"`
	SrcIP                string `json:"srcIp,omitempty"`
	SrcPort              int    `json:"srcPort,omitempty"`
	DstIP                string `json:"dstIp,omitempty"`
	DstPort              int    `json:"dstPort,omitempty"`
	DNSRequest           string `json:"dnsRequest,omitempty"`
	RegistryPath         string `json:"registryPath,omitempty"`
	IndicatorCategory    string `json:"indicatorCategory,omitempty"`
	IndicatorName        string `json:"indicatorName,omitempty"`
	IndicatorDescription string `json:"indicatorDescription,omitempty"`
	// CmdScript is the script content of a "Command Script" event.
	CmdScript string `json:"cmdScript,omitempty"`
	// TgtProc* describe the process acted upon when it is not the event's
	// own, e.g. lsass.exe for "Open Remote Process Handle".
	TgtProcName      string `json:"tgtProcName,omitempty"`
	TgtProcCmdLine   string `json:"tgtProcCmdLine,omitempty"`
	TgtProcImagePath string `json:"tgtProcImagePath,omitempty"`
	DNSResponse      string `json:"dnsResponse,omitempty"`
	NetworkURL       string `json:"networkUrl,omitempty"`
	TaskName         string `json:"taskName,omitempty"`
	TaskPath         string `json:"taskPath,omitempty"`
	LoginsUserName   string `json:"loginsUserName,omitempty"`
	// RelatedToThreat defaults to true.
	RelatedToThreat *bool `json:"relatedToThreat,omitempty"`
}

// eventObjectTypes maps DV event types (reference §4.3) to objectType.
var eventObjectTypes = func() map[string]string {
	m := map[string]string{}
	add := func(obj string, types ...string) {
		for _, t := range types {
			m[t] = obj
		}
	}
	add("process", "Process Exit", "Process Modification", "Process Creation", "Command Script")
	add("cross_process", "Duplicate Process Handle", "Duplicate Thread Handle", "Open Remote Process Handle", "Remote Thread Creation", "Remote Process Termination")
	add("ip", "IP Connect", "IP Listen")
	add("file", "File Modification", "File Creation", "File Scan", "File Deletion", "File Rename", "Pre Execution Detection")
	add("logins", "Login", "Logout")
	add("url", "GET", "OPTIONS", "POST", "PUT", "DELETE", "CONNECT", "HEAD")
	add("dns", "DNS Resolved", "DNS Unresolved")
	add("scheduled_task", "Task Register", "Task Update", "Task Start", "Task Trigger", "Task Delete")
	add("registry", "Registry Key Create", "Registry Key Rename", "Registry Key Delete", "Registry Key Export",
		"Registry Key Security Changed", "Registry Key Import", "Registry Value Modified", "Registry Value Create", "Registry Value Delete")
	add("indicators", "Behavioral Indicators")
	add("module", "Module Load")
	return m
}()

// ObjectType is the DV objectType of the event's type, e.g. "process" for
// "Process Creation"; empty for an unknown type.
func (e *Event) ObjectType() string { return eventObjectTypes[e.EventType] }

func validateEvent(p *problems, loc string, e *Event) {
	switch {
	case e.EventType == "":
		p.addf("%s.eventType: required", loc)
	case e.ObjectType() == "":
		p.addf("%s.eventType: %q is not a Deep Visibility event type", loc, e.EventType)
	}
	if e.Before != "" {
		agoDuration(p, loc+".before", e.Before)
	}
	hexOf(p, loc+".fileSha1", e.FileSHA1, 40)
	for name, port := range map[string]int{"srcPort": e.SrcPort, "dstPort": e.DstPort} {
		if port < 0 || port > 65535 {
			p.addf("%s.%s: must be 0–65535", loc, name)
		}
	}
}

// AgentEvent is a Deep Visibility event of an agent that belongs to no threat:
// ordinary activity, and the suspicious activity hunts look for before anything
// was detected. The simulator serves it to DV queries only, never in a threat's
// explore events or timeline.
type AgentEvent struct {
	// AgentID is the agent the event happened on. Required.
	AgentID string `json:"agentId"`
	// At (RFC 3339) places the event at an absolute time; otherwise Before
	// places it before the scenario is loaded (empty: at load). Not both.
	At string `json:"at,omitempty"`
	Event
}

// Validate checks an event on its own, as Validate checks a scenario's events,
// for an event added to a console whose agents are those agentExists knows.
// Problems are located at "event"; the error is a ValidationErrors.
func (e *AgentEvent) Validate(agentExists func(id string) bool) error {
	var p problems
	validateAgentEvent(&p, "event", e, agentExists)
	return p.err()
}

func validateAgentEvent(p *problems, loc string, e *AgentEvent, agentExists func(string) bool) {
	requireID(p, loc+".agentId", e.AgentID)
	if e.AgentID != "" && !agentExists(e.AgentID) {
		p.addf("%s.agentId: no agent with id %q", loc, e.AgentID)
	}
	if e.At != "" {
		if e.Before != "" {
			p.addf("%s: at and before are mutually exclusive", loc)
		}
		if _, err := time.Parse(time.RFC3339Nano, e.At); err != nil {
			p.addf("%s.at: not an RFC 3339 timestamp: %v", loc, err)
		}
	}
	validateEvent(p, loc, &e.Event)
}
