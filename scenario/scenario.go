// Package scenario is the scenario file format: the JSON description of a SentinelOne
// tenant — its agents, the threats detected on them and their timelines, and Deep
// Visibility events of no threat to hunt in — with an
// optional label per threat ("expect") kept as raw JSON.
//
// The s1sim simulator serves scenarios; the eval set, `starter export-case`, the load
// tests and the benchmarks write or read them. Field names follow the v2.1 API
// reference; the few simulator-only fields say so. Parse rejects unknown fields and
// reports every problem with its location.
//
// The package imports only the standard library: the simulator reads the format
// without importing the product, and the product writes it without linking the
// simulator.
package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenario is the JSON document that seeds a simulator: the agents of a
// console, the threats detected on them and Deep Visibility events tied to no
// threat (for hunting).
type Scenario struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Agents      []Agent  `json:"agents"`
	Threats     []Threat `json:"threats"`
	// Events are DV events tied to no threat (AgentEvent), for hunting.
	Events []AgentEvent `json:"events,omitempty"`
	// Generate is expanded into Agents and Threats by Parse (and by Expand,
	// which the simulator's New calls for scenarios built in Go), so large
	// scenarios stay small files.
	Generate []Generator `json:"generate,omitempty"`
}

// Agent describes one endpoint. Field names follow the v2.1 agent
// object; VSSEnabled is simulator-only.
type Agent struct {
	ID                   string `json:"id"`
	UUID                 string `json:"uuid"`
	ComputerName         string `json:"computerName"`
	Domain               string `json:"domain"`
	OSType               string `json:"osType"`
	OSName               string `json:"osName"`
	OSRevision           string `json:"osRevision"`
	OSArch               string `json:"osArch"`
	MachineType          string `json:"machineType"`
	AgentVersion         string `json:"agentVersion"`
	AccountID            string `json:"accountId"`
	AccountName          string `json:"accountName"`
	SiteID               string `json:"siteId"`
	SiteName             string `json:"siteName"`
	GroupID              string `json:"groupId"`
	GroupName            string `json:"groupName"`
	NetworkStatus        string `json:"networkStatus"`
	IsActive             *bool  `json:"isActive,omitempty"`
	LastLoggedInUserName string `json:"lastLoggedInUserName"`
	ExternalIP           string `json:"externalIp"`
	LastIPToMgmt         string `json:"lastIpToMgmt"`
	MitigationMode       string `json:"mitigationMode,omitempty"`
	// VSSEnabled is simulator-only: rollback settles only on Windows agents
	// with VSS. Nil means true on Windows, because VSS snapshots are on by
	// default in SentinelOne Windows policies.
	VSSEnabled *bool `json:"vssEnabled,omitempty"`
	// Online is simulator-only: false means the agent does not talk to the
	// console, so mitigations and isolation stay pending until it is brought
	// back (the simulator's SetAgentOnline, POST /sim/agents/{id}/online). Nil
	// means true.
	// An offline agent renders isActive false.
	Online *bool `json:"online,omitempty"`
	Tags   []Tag `json:"tags,omitempty"`
}

// Tag is a key/value endpoint tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Threat describes one threat. Field names follow v2.1 threatInfo;
// CreatedAgo, Timeline, FailActions and Expect are scenario-only.
type Threat struct {
	ID                        string      `json:"id"`
	AgentID                   string      `json:"agentId"`
	ThreatName                string      `json:"threatName"`
	Classification            string      `json:"classification"`
	ClassificationSource      string      `json:"classificationSource"`
	ConfidenceLevel           string      `json:"confidenceLevel"`
	SHA1                      string      `json:"sha1"`
	SHA256                    string      `json:"sha256,omitempty"`
	MD5                       string      `json:"md5,omitempty"`
	FilePath                  string      `json:"filePath"`
	FileSize                  *int64      `json:"fileSize,omitempty"`
	FileVerificationType      string      `json:"fileVerificationType,omitempty"`
	PublisherName             string      `json:"publisherName,omitempty"`
	IsFileless                bool        `json:"isFileless,omitempty"`
	MaliciousProcessArguments string      `json:"maliciousProcessArguments,omitempty"`
	OriginatorProcess         string      `json:"originatorProcess,omitempty"`
	ProcessUser               string      `json:"processUser,omitempty"`
	InitiatedBy               string      `json:"initiatedBy"`
	Engines                   []string    `json:"engines,omitempty"`
	DetectionType             string      `json:"detectionType"`
	Storyline                 string      `json:"storyline,omitempty"`
	Indicators                []Indicator `json:"indicators,omitempty"`
	// Initial triage state; empty means a fresh detection.
	MitigationStatus string `json:"mitigationStatus,omitempty"`
	AnalystVerdict   string `json:"analystVerdict,omitempty"`
	IncidentStatus   string `json:"incidentStatus,omitempty"`
	// CreatedAgo (Go duration, e.g. "10m") is relative to simulator start or
	// AddThreat time; CreatedAt is absolute RFC 3339. Exactly one is required.
	CreatedAgo string     `json:"createdAgo,omitempty"`
	CreatedAt  string     `json:"createdAt,omitempty"`
	Timeline   []Activity `json:"timeline,omitempty"`
	// FailActions lists mitigate URL actions (e.g. "remediate") that the agent
	// will report as failed, so clients can exercise their failure paths.
	FailActions []string `json:"failActions,omitempty"`
	// PendingRebootActions lists mitigate URL actions that end in
	// "pending-reboot" (threatInfo.rebootRequired) instead of success.
	PendingRebootActions []string `json:"pendingRebootActions,omitempty"`
	// Mitigations are the mitigationStatus[] entries the threat already carries
	// when the scenario starts: what the agent's policy (or someone before the
	// client) did to it; they never move by themselves. A kill or quarantine that
	// succeeded makes the threat "mitigated" unless MitigationStatus says otherwise. The timeline is not
	// derived from them: give it the matching activities (e.g. 18, 2021, 2024).
	Mitigations []Mitigation `json:"mitigations,omitempty"`
	// VisibleAfter (Go duration) hides the threat from GET /threats until
	// createdAt+VisibleAfter on the simulator clock, like a console that
	// indexes late. Empty means 0 for scenario threats and the simulator's
	// Options.DefaultVisibleAfter for threats added at runtime.
	VisibleAfter string `json:"visibleAfter,omitempty"`
	// Workload places the threat in a container, a Kubernetes pod or an ECS task
	// (containerInfo, kubernetesInfo, ecsInfo); nil is an ordinary endpoint, whose
	// blocks render with every value null, as the console does.
	Workload *Workload `json:"workload,omitempty"`
	// Events are the threat's explore/DV events in compact form; when empty
	// the simulator derives a process chain from the threat's fields.
	Events []Event `json:"events,omitempty"`
	// Expect is the threat's label, kept as raw JSON: this package and the
	// simulator carry it without reading it. The eval set's files hold a
	// feedback.Expect, the demo scenario what the demo checker expects.
	Expect json.RawMessage `json:"expect,omitempty"`
}

// Workload is where a cloud workload threat ran (reference §2.2 containerInfo,
// kubernetesInfo, ecsInfo). Label fields are left out: their shape is undocumented.
type Workload struct {
	Container  *Container  `json:"container,omitempty"`
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
	ECS        *ECS        `json:"ecs,omitempty"`
}

// Container is threat.containerInfo.
type Container struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image"`
}

// Kubernetes is threat.kubernetesInfo.
type Kubernetes struct {
	Cluster        string `json:"cluster"`
	Namespace      string `json:"namespace"`
	Pod            string `json:"pod"`
	Node           string `json:"node"`
	ControllerKind string `json:"controllerKind,omitempty"`
	ControllerName string `json:"controllerName,omitempty"`
}

// ECS is threat.ecsInfo.
type ECS struct {
	ClusterName            string `json:"clusterName"`
	ServiceName            string `json:"serviceName,omitempty"`
	TaskArn                string `json:"taskArn"`
	TaskDefinitionFamily   string `json:"taskDefinitionFamily,omitempty"`
	TaskDefinitionRevision string `json:"taskDefinitionRevision,omitempty"`
	TaskAvailabilityZone   string `json:"taskAvailabilityZone,omitempty"`
	Type                   string `json:"type,omitempty"` // e.g. FARGATE, EC2
}

// Mitigation is one settled mitigationStatus[] entry of a threat (reference
// §2.3): Action is the entry's action name, not the mitigate URL action.
type Mitigation struct {
	// Action: kill, quarantine, remediate, rollback or unquarantine.
	Action string `json:"action"`
	// Status: success, failed or pending-reboot.
	Status string `json:"status"`
	// After (Go duration) is when the action settled, after the threat's
	// createdAt; empty means 1s.
	After string `json:"after,omitempty"`
}

// Indicator is a v2.1 threat indicator.
type Indicator struct {
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Tactics     []Tactic `json:"tactics,omitempty"`
}

// Tactic is a MITRE tactic of an indicator.
type Tactic struct {
	Name       string      `json:"name"`
	Source     string      `json:"source"`
	Techniques []Technique `json:"techniques,omitempty"`
}

// Technique is a MITRE technique of a tactic.
type Technique struct {
	Name string `json:"name"`
	Link string `json:"link"`
}

// Activity is a pre-existing timeline entry of a threat.
type Activity struct {
	ActivityType         int            `json:"activityType"`
	PrimaryDescription   string         `json:"primaryDescription"`
	SecondaryDescription string         `json:"secondaryDescription,omitempty"`
	Ago                  string         `json:"ago"`
	Data                 map[string]any `json:"data,omitempty"`
}

// Enumerations from the v2.1 reference. The exported ones are those the
// simulator's API checks too.
var (
	OSTypes            = enumOf("windows", "windows_legacy", "macos", "linux")
	NetworkStatuses    = enumOf("connected", "disconnected", "connecting", "disconnecting")
	ConfidenceLevels   = enumOf("malicious", "suspicious", "n/a")
	MitigationStatuses = enumOf("not_mitigated", "mitigated", "marked_as_benign")
	AnalystVerdicts    = enumOf("undefined", "true_positive", "false_positive", "suspicious")
	IncidentStatuses   = enumOf("unresolved", "in_progress", "resolved")
	// MitigateActions are the {action} of POST /threats/mitigate/{action}.
	MitigateActions = enumOf("kill", "quarantine", "remediate", "rollback-remediation", "un-quarantine")
	// MitigationEntryActions are the mitigationStatus[].action names of the
	// MitigateActions, in the same order.
	MitigationEntryActions = enumOf("kill", "quarantine", "remediate", "rollback", "unquarantine")
	// SettledMitigationStatuses are the final mitigationStatus[].status values.
	SettledMitigationStatuses = enumOf("success", "failed", "pending-reboot")

	machineTypes       = enumOf("unknown", "desktop", "laptop", "server", "kubernetes node", "storage", "kubernetes pod", "ecs task")
	osArchs            = enumOf("32 bit", "64 bit", "ARM64")
	mitigationModes    = enumOf("detect", "protect")
	classificationSrcs = enumOf("Cloud", "Behavioral", "Static", "Engine")
	detectionTypes     = enumOf("static", "dynamic")
	initiatedByValues  = enumOf("agent_policy", "full_disk_scan", "sentinelctl", "dv_command", "console_api", "on_demand_scan", "star_active", "star_manual", "cloud_detection", "threat_intelligence", "watchtower_cloud_detection", "multiple")
	hexRE              = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	storylineRE        = regexp.MustCompile(`^[0-9A-F]{16}$`)
	errEmpty           = errors.New("scenario is empty")
)

// Enum is a closed set of values of the v2.1 reference.
type Enum struct{ values map[string]bool }

func enumOf(vals ...string) Enum {
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[v] = true
	}
	return Enum{m}
}

// Has reports whether v is one of the values.
func (e Enum) Has(v string) bool { return e.values[v] }

// String lists the values, sorted and comma-separated.
func (e Enum) String() string { return strings.Join(slices.Sorted(maps.Keys(e.values)), ", ") }

// Check accepts the empty string (an optional field left out) and the values;
// the error for anything else lists them.
func (e Enum) Check(v string) error {
	if v == "" || e.Has(v) {
		return nil
	}
	return fmt.Errorf("%q is not one of %s", v, e)
}

// Parse decodes and validates a scenario. Unknown fields are
// rejected (a typo would otherwise silently change behaviour); all problems
// are reported together, each with its location.
func Parse(data []byte) (*Scenario, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errEmpty
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("decode scenario: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("decode scenario: trailing data after the JSON document")
	}
	if err := sc.Expand(); err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// LoadFile reads and parses a scenario file.
func LoadFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	sc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return sc, nil
}

// LoadFS reads "<name>.json" from fsys and parses it.
func LoadFS(fsys fs.FS, name string) (*Scenario, error) {
	file := name + ".json"
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("read scenario %q: %w", name, err)
	}
	sc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", name, err)
	}
	return sc, nil
}

// ValidationErrors lists every problem found in a scenario.
type ValidationErrors []string

func (v ValidationErrors) Error() string {
	return "invalid scenario: " + strings.Join(v, "; ")
}

type problems struct{ list ValidationErrors }

func (p *problems) addf(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list
}

// Validate checks required fields, enums, ID syntax, uniqueness and that
// every threat's and event's agent exists.
func (sc *Scenario) Validate() error {
	var p problems
	agents := map[string]bool{}
	for i := range sc.Agents {
		a := &sc.Agents[i]
		loc := fmt.Sprintf("agents[%d]", i)
		validateAgent(&p, loc, a)
		if a.ID != "" {
			if agents[a.ID] {
				p.addf("%s.id: duplicate agent id %q", loc, a.ID)
			}
			agents[a.ID] = true
		}
	}
	threats := map[string]bool{}
	for i := range sc.Threats {
		t := &sc.Threats[i]
		loc := fmt.Sprintf("threats[%d]", i)
		validateThreat(&p, loc, t, func(id string) bool { return agents[id] })
		if t.ID != "" {
			if threats[t.ID] {
				p.addf("%s.id: duplicate threat id %q", loc, t.ID)
			}
			threats[t.ID] = true
		}
	}
	for i := range sc.Events {
		validateAgentEvent(&p, fmt.Sprintf("events[%d]", i), &sc.Events[i], func(id string) bool { return agents[id] })
	}
	return p.err()
}

func validateAgent(p *problems, loc string, a *Agent) {
	requireID(p, loc+".id", a.ID)
	required(p, loc, map[string]string{
		"uuid": a.UUID, "computerName": a.ComputerName, "osType": a.OSType, "osName": a.OSName,
		"machineType": a.MachineType, "agentVersion": a.AgentVersion, "accountName": a.AccountName,
		"siteName": a.SiteName, "groupName": a.GroupName, "networkStatus": a.NetworkStatus,
	})
	requireID(p, loc+".accountId", a.AccountID)
	requireID(p, loc+".siteId", a.SiteID)
	requireID(p, loc+".groupId", a.GroupID)
	enum(p, loc+".osType", a.OSType, OSTypes)
	enum(p, loc+".machineType", a.MachineType, machineTypes)
	enum(p, loc+".networkStatus", a.NetworkStatus, NetworkStatuses)
	enum(p, loc+".osArch", a.OSArch, osArchs)
	enum(p, loc+".mitigationMode", a.MitigationMode, mitigationModes)
	for j, tag := range a.Tags {
		if tag.Key == "" {
			p.addf("%s.tags[%d].key: required", loc, j)
		}
	}
}

// Validate checks a threat on its own, as Validate checks a scenario's threats,
// for a threat added to a console whose agents are those agentExists knows.
// Problems are located at "threat"; the error is a ValidationErrors.
func (t *Threat) Validate(agentExists func(id string) bool) error {
	var p problems
	validateThreat(&p, "threat", t, agentExists)
	return p.err()
}

func validateThreat(p *problems, loc string, t *Threat, agentExists func(id string) bool) {
	requireID(p, loc+".id", t.ID)
	requireID(p, loc+".agentId", t.AgentID)
	if t.AgentID != "" && !agentExists(t.AgentID) {
		p.addf("%s.agentId: no agent with id %q", loc, t.AgentID)
	}
	required(p, loc, map[string]string{
		"threatName": t.ThreatName, "classification": t.Classification,
		"classificationSource": t.ClassificationSource, "confidenceLevel": t.ConfidenceLevel,
		"sha1": t.SHA1, "filePath": t.FilePath, "initiatedBy": t.InitiatedBy, "detectionType": t.DetectionType,
	})
	enum(p, loc+".confidenceLevel", t.ConfidenceLevel, ConfidenceLevels)
	enum(p, loc+".classificationSource", t.ClassificationSource, classificationSrcs)
	enum(p, loc+".detectionType", t.DetectionType, detectionTypes)
	enum(p, loc+".initiatedBy", t.InitiatedBy, initiatedByValues)
	enum(p, loc+".mitigationStatus", t.MitigationStatus, MitigationStatuses)
	enum(p, loc+".analystVerdict", t.AnalystVerdict, AnalystVerdicts)
	enum(p, loc+".incidentStatus", t.IncidentStatus, IncidentStatuses)
	hexOf(p, loc+".sha1", t.SHA1, 40)
	hexOf(p, loc+".sha256", t.SHA256, 64)
	hexOf(p, loc+".md5", t.MD5, 32)
	if t.Storyline != "" && !storylineRE.MatchString(t.Storyline) {
		p.addf("%s.storyline: must be 16 upper-case hex characters", loc)
	}
	if t.FileSize != nil && *t.FileSize < 0 {
		p.addf("%s.fileSize: must not be negative", loc)
	}
	if w := t.Workload; w != nil {
		if w.Container == nil && w.Kubernetes == nil && w.ECS == nil {
			p.addf("%s.workload: give container, kubernetes or ecs (or leave workload out)", loc)
		}
		if k := w.Kubernetes; k != nil {
			required(p, loc+".workload.kubernetes", map[string]string{"cluster": k.Cluster, "namespace": k.Namespace, "pod": k.Pod})
		}
		if e := w.ECS; e != nil {
			required(p, loc+".workload.ecs", map[string]string{"clusterName": e.ClusterName, "taskArn": e.TaskArn})
		}
		if c := w.Container; c != nil {
			required(p, loc+".workload.container", map[string]string{"image": c.Image})
		}
	}
	switch {
	case t.CreatedAgo == "" && t.CreatedAt == "":
		p.addf("%s: one of createdAgo or createdAt is required", loc)
	case t.CreatedAgo != "" && t.CreatedAt != "":
		p.addf("%s: createdAgo and createdAt are mutually exclusive", loc)
	case t.CreatedAgo != "":
		agoDuration(p, loc+".createdAgo", t.CreatedAgo)
	default:
		if _, err := time.Parse(time.RFC3339Nano, t.CreatedAt); err != nil {
			p.addf("%s.createdAt: not an RFC 3339 timestamp: %v", loc, err)
		}
	}
	for j, a := range t.FailActions {
		enum(p, fmt.Sprintf("%s.failActions[%d]", loc, j), a, MitigateActions)
	}
	for j, a := range t.PendingRebootActions {
		enum(p, fmt.Sprintf("%s.pendingRebootActions[%d]", loc, j), a, MitigateActions)
		if slices.Contains(t.FailActions, a) {
			p.addf("%s.pendingRebootActions[%d]: %q is also in failActions", loc, j, a)
		}
	}
	if t.VisibleAfter != "" {
		agoDuration(p, loc+".visibleAfter", t.VisibleAfter)
	}
	seenAction := map[string]bool{}
	for j, m := range t.Mitigations {
		mloc := fmt.Sprintf("%s.mitigations[%d]", loc, j)
		if m.Action == "" {
			p.addf("%s.action: required", mloc)
		}
		if m.Status == "" {
			p.addf("%s.status: required", mloc)
		}
		enum(p, mloc+".action", m.Action, MitigationEntryActions)
		enum(p, mloc+".status", m.Status, SettledMitigationStatuses)
		if m.Action != "" && seenAction[m.Action] {
			p.addf("%s.action: %q has more than one entry (the console keeps one per action)", mloc, m.Action)
		}
		seenAction[m.Action] = true
		if m.After != "" {
			agoDuration(p, mloc+".after", m.After)
		}
	}
	for j := range t.Events {
		validateEvent(p, fmt.Sprintf("%s.events[%d]", loc, j), &t.Events[j])
	}
	for j, ind := range t.Indicators {
		iloc := fmt.Sprintf("%s.indicators[%d]", loc, j)
		if ind.Category == "" {
			p.addf("%s.category: required", iloc)
		}
		for k, tac := range ind.Tactics {
			if tac.Name == "" {
				p.addf("%s.tactics[%d].name: required", iloc, k)
			}
			for m, tech := range tac.Techniques {
				if tech.Name == "" {
					p.addf("%s.tactics[%d].techniques[%d].name: required", iloc, k, m)
				}
			}
		}
	}
	for j, act := range t.Timeline {
		aloc := fmt.Sprintf("%s.timeline[%d]", loc, j)
		if act.ActivityType <= 0 {
			p.addf("%s.activityType: required positive activity code", aloc)
		}
		if act.PrimaryDescription == "" {
			p.addf("%s.primaryDescription: required", aloc)
		}
		if act.Ago == "" {
			p.addf("%s.ago: required", aloc)
		} else {
			agoDuration(p, aloc+".ago", act.Ago)
		}
	}
}

func required(p *problems, loc string, fields map[string]string) {
	// Sorted output keeps error messages stable for tests and users.
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.TrimSpace(fields[name]) == "" {
			p.addf("%s.%s: required", loc, name)
		}
	}
}

func requireID(p *problems, loc, id string) {
	if id == "" {
		p.addf("%s: required", loc)
		return
	}
	if !ValidID(id) {
		p.addf("%s: %q is not a decimal id string", loc, id)
	}
}

func enum(p *problems, loc, v string, allowed Enum) {
	if err := allowed.Check(v); err != nil {
		p.addf("%s: %v", loc, err)
	}
}

func hexOf(p *problems, loc, v string, n int) {
	if v != "" && (len(v) != n || !hexRE.MatchString(v)) {
		p.addf("%s: must be %d hex characters", loc, n)
	}
}

func agoDuration(p *problems, loc, v string) {
	d, err := time.ParseDuration(v)
	if err != nil {
		p.addf("%s: not a duration like \"10m\": %v", loc, err)
		return
	}
	if d < 0 {
		p.addf("%s: must not be negative", loc)
	}
}

// ValidID reports whether id is a SentinelOne ID: a positive int64 in decimal
// without sign or leading zeros, the way the console renders IDs.
func ValidID(id string) bool {
	if id == "" || id[0] == '0' || strings.TrimLeft(id, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return err == nil && n > 0
}
