package simulator

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
// console and the threats detected on them.
type Scenario struct {
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Agents      []ScenarioAgent  `json:"agents"`
	Threats     []ScenarioThreat `json:"threats"`
	// Generate is expanded into Agents and Threats by ParseScenario (and by
	// New for scenarios built in Go), so large scenarios stay small files.
	Generate []ScenarioGenerator `json:"generate,omitempty"`
}

// ScenarioAgent describes one endpoint. Field names follow the v2.1 agent
// object; VSSEnabled is simulator-only.
type ScenarioAgent struct {
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
	// back (SetAgentOnline, POST /sim/agents/{id}/online). Nil means true.
	// An offline agent renders isActive false.
	Online *bool         `json:"online,omitempty"`
	Tags   []ScenarioTag `json:"tags,omitempty"`
}

// ScenarioTag is a key/value endpoint tag.
type ScenarioTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ScenarioThreat describes one threat. Field names follow v2.1 threatInfo;
// CreatedAgo, Timeline, FailActions and Expect are scenario-only.
type ScenarioThreat struct {
	ID                        string              `json:"id"`
	AgentID                   string              `json:"agentId"`
	ThreatName                string              `json:"threatName"`
	Classification            string              `json:"classification"`
	ClassificationSource      string              `json:"classificationSource"`
	ConfidenceLevel           string              `json:"confidenceLevel"`
	SHA1                      string              `json:"sha1"`
	SHA256                    string              `json:"sha256,omitempty"`
	MD5                       string              `json:"md5,omitempty"`
	FilePath                  string              `json:"filePath"`
	FileSize                  *int64              `json:"fileSize,omitempty"`
	FileVerificationType      string              `json:"fileVerificationType,omitempty"`
	PublisherName             string              `json:"publisherName,omitempty"`
	IsFileless                bool                `json:"isFileless,omitempty"`
	MaliciousProcessArguments string              `json:"maliciousProcessArguments,omitempty"`
	OriginatorProcess         string              `json:"originatorProcess,omitempty"`
	ProcessUser               string              `json:"processUser,omitempty"`
	InitiatedBy               string              `json:"initiatedBy"`
	Engines                   []string            `json:"engines,omitempty"`
	DetectionType             string              `json:"detectionType"`
	Storyline                 string              `json:"storyline,omitempty"`
	Indicators                []ScenarioIndicator `json:"indicators,omitempty"`
	// Initial triage state; empty means a fresh detection.
	MitigationStatus string `json:"mitigationStatus,omitempty"`
	AnalystVerdict   string `json:"analystVerdict,omitempty"`
	IncidentStatus   string `json:"incidentStatus,omitempty"`
	// CreatedAgo (Go duration, e.g. "10m") is relative to simulator start or
	// AddThreat time; CreatedAt is absolute RFC 3339. Exactly one is required.
	CreatedAgo string             `json:"createdAgo,omitempty"`
	CreatedAt  string             `json:"createdAt,omitempty"`
	Timeline   []ScenarioActivity `json:"timeline,omitempty"`
	// FailActions lists mitigate URL actions (e.g. "remediate") that the agent
	// will report as failed, so clients can exercise their failure paths.
	FailActions []string `json:"failActions,omitempty"`
	// PendingRebootActions lists mitigate URL actions that end in
	// "pending-reboot" (threatInfo.rebootRequired) instead of success.
	PendingRebootActions []string `json:"pendingRebootActions,omitempty"`
	// VisibleAfter (Go duration) hides the threat from GET /threats until
	// createdAt+VisibleAfter on the simulator clock, like a console that
	// indexes late. Empty means 0 for scenario threats and
	// Options.DefaultVisibleAfter for threats added at runtime.
	VisibleAfter string `json:"visibleAfter,omitempty"`
	// Workload places the threat in a container, a Kubernetes pod or an ECS task
	// (containerInfo, kubernetesInfo, ecsInfo); nil is an ordinary endpoint, whose
	// blocks render with every value null, as the console does.
	Workload *ScenarioWorkload `json:"workload,omitempty"`
	// Events are the threat's explore/DV events in compact form; when empty
	// the simulator derives a process chain from the threat's fields.
	Events []ScenarioEvent `json:"events,omitempty"`
	// Expect belongs to the product's demo checker; the simulator carries it.
	Expect json.RawMessage `json:"expect,omitempty"`
}

// ScenarioWorkload is where a cloud workload threat ran (reference §2.2 containerInfo,
// kubernetesInfo, ecsInfo). Label fields are left out: their shape is undocumented.
type ScenarioWorkload struct {
	Container  *ScenarioContainer  `json:"container,omitempty"`
	Kubernetes *ScenarioKubernetes `json:"kubernetes,omitempty"`
	ECS        *ScenarioECS        `json:"ecs,omitempty"`
}

// ScenarioContainer is threat.containerInfo.
type ScenarioContainer struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Image string `json:"image"`
}

// ScenarioKubernetes is threat.kubernetesInfo.
type ScenarioKubernetes struct {
	Cluster        string `json:"cluster"`
	Namespace      string `json:"namespace"`
	Pod            string `json:"pod"`
	Node           string `json:"node"`
	ControllerKind string `json:"controllerKind,omitempty"`
	ControllerName string `json:"controllerName,omitempty"`
}

// ScenarioECS is threat.ecsInfo.
type ScenarioECS struct {
	ClusterName            string `json:"clusterName"`
	ServiceName            string `json:"serviceName,omitempty"`
	TaskArn                string `json:"taskArn"`
	TaskDefinitionFamily   string `json:"taskDefinitionFamily,omitempty"`
	TaskDefinitionRevision string `json:"taskDefinitionRevision,omitempty"`
	TaskAvailabilityZone   string `json:"taskAvailabilityZone,omitempty"`
	Type                   string `json:"type,omitempty"` // e.g. FARGATE, EC2
}

// ScenarioIndicator is a v2.1 threat indicator.
type ScenarioIndicator struct {
	Category    string           `json:"category"`
	Description string           `json:"description"`
	Tactics     []ScenarioTactic `json:"tactics,omitempty"`
}

// ScenarioTactic is a MITRE tactic of an indicator.
type ScenarioTactic struct {
	Name       string              `json:"name"`
	Source     string              `json:"source"`
	Techniques []ScenarioTechnique `json:"techniques,omitempty"`
}

// ScenarioTechnique is a MITRE technique of a tactic.
type ScenarioTechnique struct {
	Name string `json:"name"`
	Link string `json:"link"`
}

// ScenarioActivity is a pre-existing timeline entry of a threat.
type ScenarioActivity struct {
	ActivityType         int            `json:"activityType"`
	PrimaryDescription   string         `json:"primaryDescription"`
	SecondaryDescription string         `json:"secondaryDescription,omitempty"`
	Ago                  string         `json:"ago"`
	Data                 map[string]any `json:"data,omitempty"`
}

// Enumerations from the v2.1 reference.
var (
	osTypes              = set("windows", "windows_legacy", "macos", "linux")
	machineTypes         = set("unknown", "desktop", "laptop", "server", "kubernetes node", "storage", "kubernetes pod", "ecs task")
	networkStatuses      = set("connected", "disconnected", "connecting", "disconnecting")
	osArchs              = set("32 bit", "64 bit", "ARM64")
	mitigationModes      = set("detect", "protect")
	confidenceLevels     = set("malicious", "suspicious", "n/a")
	classificationSrcs   = set("Cloud", "Behavioral", "Static", "Engine")
	detectionTypes       = set("static", "dynamic")
	threatMitigationSts  = set("not_mitigated", "mitigated", "marked_as_benign")
	analystVerdicts      = set("undefined", "true_positive", "false_positive", "suspicious")
	incidentStatuses     = set("unresolved", "in_progress", "resolved")
	mitigateURLActions   = set("kill", "quarantine", "remediate", "rollback-remediation", "un-quarantine")
	initiatedByValues    = set("agent_policy", "full_disk_scan", "sentinelctl", "dv_command", "console_api", "on_demand_scan", "star_active", "star_manual", "cloud_detection", "threat_intelligence", "watchtower_cloud_detection", "multiple")
	hexRE                = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	storylineRE          = regexp.MustCompile(`^[0-9A-F]{16}$`)
	errScenarioEmptyFile = errors.New("scenario is empty")
)

func set(vals ...string) map[string]bool {
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		m[v] = true
	}
	return m
}

// ParseScenario decodes and validates a scenario. Unknown fields are
// rejected (a typo would otherwise silently change behaviour); all problems
// are reported together, each with its location.
func ParseScenario(data []byte) (*Scenario, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errScenarioEmptyFile
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
	if err := sc.expand(); err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// LoadScenarioFile reads and parses a scenario file.
func LoadScenarioFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	sc, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return sc, nil
}

// LoadScenarioFS reads "<name>.json" from fsys and parses it.
func LoadScenarioFS(fsys fs.FS, name string) (*Scenario, error) {
	file := name + ".json"
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("read scenario %q: %w", name, err)
	}
	sc, err := ParseScenario(data)
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
// every threat's agent exists.
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
		validateThreat(&p, loc, t, agents)
		if t.ID != "" {
			if threats[t.ID] {
				p.addf("%s.id: duplicate threat id %q", loc, t.ID)
			}
			threats[t.ID] = true
		}
	}
	return p.err()
}

func validateAgent(p *problems, loc string, a *ScenarioAgent) {
	requireID(p, loc+".id", a.ID)
	required(p, loc, map[string]string{
		"uuid": a.UUID, "computerName": a.ComputerName, "osType": a.OSType, "osName": a.OSName,
		"machineType": a.MachineType, "agentVersion": a.AgentVersion, "accountName": a.AccountName,
		"siteName": a.SiteName, "groupName": a.GroupName, "networkStatus": a.NetworkStatus,
	})
	requireID(p, loc+".accountId", a.AccountID)
	requireID(p, loc+".siteId", a.SiteID)
	requireID(p, loc+".groupId", a.GroupID)
	enum(p, loc+".osType", a.OSType, osTypes)
	enum(p, loc+".machineType", a.MachineType, machineTypes)
	enum(p, loc+".networkStatus", a.NetworkStatus, networkStatuses)
	enum(p, loc+".osArch", a.OSArch, osArchs)
	enum(p, loc+".mitigationMode", a.MitigationMode, mitigationModes)
	for j, tag := range a.Tags {
		if tag.Key == "" {
			p.addf("%s.tags[%d].key: required", loc, j)
		}
	}
}

func validateThreat(p *problems, loc string, t *ScenarioThreat, agents map[string]bool) {
	requireID(p, loc+".id", t.ID)
	requireID(p, loc+".agentId", t.AgentID)
	if t.AgentID != "" && !agents[t.AgentID] {
		p.addf("%s.agentId: no agent with id %q", loc, t.AgentID)
	}
	required(p, loc, map[string]string{
		"threatName": t.ThreatName, "classification": t.Classification,
		"classificationSource": t.ClassificationSource, "confidenceLevel": t.ConfidenceLevel,
		"sha1": t.SHA1, "filePath": t.FilePath, "initiatedBy": t.InitiatedBy, "detectionType": t.DetectionType,
	})
	enum(p, loc+".confidenceLevel", t.ConfidenceLevel, confidenceLevels)
	enum(p, loc+".classificationSource", t.ClassificationSource, classificationSrcs)
	enum(p, loc+".detectionType", t.DetectionType, detectionTypes)
	enum(p, loc+".initiatedBy", t.InitiatedBy, initiatedByValues)
	enum(p, loc+".mitigationStatus", t.MitigationStatus, threatMitigationSts)
	enum(p, loc+".analystVerdict", t.AnalystVerdict, analystVerdicts)
	enum(p, loc+".incidentStatus", t.IncidentStatus, incidentStatuses)
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
		enum(p, fmt.Sprintf("%s.failActions[%d]", loc, j), a, mitigateURLActions)
	}
	for j, a := range t.PendingRebootActions {
		enum(p, fmt.Sprintf("%s.pendingRebootActions[%d]", loc, j), a, mitigateURLActions)
		if slices.Contains(t.FailActions, a) {
			p.addf("%s.pendingRebootActions[%d]: %q is also in failActions", loc, j, a)
		}
	}
	if t.VisibleAfter != "" {
		agoDuration(p, loc+".visibleAfter", t.VisibleAfter)
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
	if !isDecimalID(id) {
		p.addf("%s: %q is not a decimal id string", loc, id)
	}
}

func enum(p *problems, loc, v string, allowed map[string]bool) {
	if v != "" && !allowed[v] {
		p.addf("%s: %q is not one of %s", loc, v, strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
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

// isDecimalID reports whether id is a positive int64 in decimal without
// sign or leading zeros, the way SentinelOne renders IDs.
func isDecimalID(id string) bool {
	if id == "" || id[0] == '0' || strings.TrimLeft(id, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return err == nil && n > 0
}
