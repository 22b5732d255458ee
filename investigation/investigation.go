// Package investigation holds the vocabulary shared by the analyzers, the policy,
// the activities and the workflow: what we know about a threat (Evidence), what an
// analyzer concluded (Analysis) and the actions a responder can take (Action).
//
// These values travel through Temporal history, so they stay small: facts and short
// strings, never raw S1 JSON or model transcripts.
package investigation

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Verdict uses SentinelOne's own analyst-verdict vocabulary, plus undetermined.
type Verdict string

const (
	VerdictTruePositive  Verdict = "true_positive"
	VerdictSuspicious    Verdict = "suspicious"
	VerdictFalsePositive Verdict = "false_positive"
	VerdictUndetermined  Verdict = "undetermined"
)

// Verdicts lists every valid verdict (used by schemas and validation).
var Verdicts = []Verdict{VerdictTruePositive, VerdictSuspicious, VerdictFalsePositive, VerdictUndetermined}

// Priority is the triage priority of a threat.
type Priority string

const (
	PriorityCritical Priority = "Critical"
	PriorityHigh     Priority = "High"
	PriorityMedium   Priority = "Medium"
	PriorityLow      Priority = "Low"
)

// Priorities lists every valid priority.
var Priorities = []Priority{PriorityCritical, PriorityHigh, PriorityMedium, PriorityLow}

// Action is a response action s1copilot can recommend and, if the policy allows, perform.
// The names are ours; the activities map them to SentinelOne endpoints.
type Action string

const (
	ActionKill       Action = "kill"       // POST /threats/mitigate/kill
	ActionQuarantine Action = "quarantine" // POST /threats/mitigate/quarantine
	ActionRemediate  Action = "remediate"  // POST /threats/mitigate/remediate (not on Linux)
	ActionRollback   Action = "rollback"   // POST /threats/mitigate/rollback-remediation (Windows + VSS only)
	ActionIsolate    Action = "isolate"    // POST /agents/actions/disconnect (network isolation)
	// ActionCollectForensics runs the policy's forensic-collection script on the host
	// (POST /remote-scripts/execute) and follows the task until its package can be fetched.
	ActionCollectForensics Action = "collect_forensics"
)

// Actions lists every action in the order they are carried out: contain the process,
// the file, undo its changes, cut the host off, then collect what is left to examine
// (an isolated host still answers the console).
var Actions = []Action{ActionKill, ActionQuarantine, ActionRemediate, ActionRollback, ActionIsolate, ActionCollectForensics}

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool { return contains(Verdicts, v) }

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return contains(Priorities, p) }

// verdictRank orders verdicts from "nothing to do" up to "act".
var verdictRank = map[Verdict]int{VerdictFalsePositive: 0, VerdictUndetermined: 1, VerdictSuspicious: 2, VerdictTruePositive: 3}

// Rank orders verdicts by how much they call for action: false_positive 0,
// undetermined 1, suspicious 2, true_positive 3. A verdict ranking lower than
// another is a downgrade of it.
func (v Verdict) Rank() int { return verdictRank[v] }

// S1Reading is the verdict SentinelOne's own confidence level stands for: malicious
// is a true positive, suspicious is suspicious; any other level says nothing ("").
func S1Reading(confidenceLevel string) Verdict {
	switch strings.ToLower(confidenceLevel) {
	case "malicious":
		return VerdictTruePositive
	case "suspicious":
		return VerdictSuspicious
	}
	return ""
}

// priorityRank orders priorities by urgency.
var priorityRank = map[Priority]int{PriorityLow: 0, PriorityMedium: 1, PriorityHigh: 2, PriorityCritical: 3}

// Rank orders priorities by urgency: Low 0, Medium 1, High 2, Critical 3. An
// invalid priority ranks with Low.
func (p Priority) Rank() int { return priorityRank[p] }

// Valid reports whether a is a known action.
func (a Action) Valid() bool { return contains(Actions, a) }

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ThreatFacts is the compact, normalised view of a SentinelOne threat and of the agent it
// was seen on. Strings come from the console and are untrusted: analyzers fence them.
type ThreatFacts struct {
	ThreatID             string `json:"threatId"`
	ThreatName           string `json:"threatName"`
	Classification       string `json:"classification,omitempty"`
	ClassificationSource string `json:"classificationSource,omitempty"`
	ConfidenceLevel      string `json:"confidenceLevel,omitempty"` // S1's own: malicious, suspicious, n/a
	AnalystVerdict       string `json:"analystVerdict,omitempty"`
	IncidentStatus       string `json:"incidentStatus,omitempty"`
	MitigationStatus     string `json:"mitigationStatus,omitempty"` // threatInfo.mitigationStatus
	// Mitigations are the actions already on the threat when it was read ("kill:success"),
	// by the agent's own policy or an analyst.
	Mitigations []string `json:"mitigations,omitempty"`
	// MitigationMode is the agent policy's mode for a threat of this confidence level:
	// protect (the agent mitigates by itself) or detect (it only reports, so containment
	// is left to us); empty when unknown.
	MitigationMode       string `json:"mitigationMode,omitempty"`
	SHA1                 string `json:"sha1,omitempty"`
	SHA256               string `json:"sha256,omitempty"`
	FilePath             string `json:"filePath,omitempty"`
	FileVerificationType string `json:"fileVerificationType,omitempty"` // e.g. SignedVerified, NotSigned
	// IsFileless: the malicious code ran in memory or in a script, so FilePath names the
	// process that hosted it (powershell.exe, rundll32.exe), not a malicious file.
	IsFileless        bool      `json:"isFileless,omitempty"`
	PublisherName     string    `json:"publisherName,omitempty"`
	CommandLine       string    `json:"commandLine,omitempty"` // threatInfo.maliciousProcessArguments
	OriginatorProcess string    `json:"originatorProcess,omitempty"`
	InitiatedBy       string    `json:"initiatedBy,omitempty"`
	ProcessUser       string    `json:"processUser,omitempty"`
	Storyline         string    `json:"storyline,omitempty"`
	Engines           []string  `json:"engines,omitempty"`
	Indicators        []string  `json:"indicators,omitempty"` // "category: description"
	Techniques        []string  `json:"techniques,omitempty"` // MITRE technique IDs or names found in indicators
	CreatedAt         time.Time `json:"createdAt"`

	AgentID       string   `json:"agentId"`
	AgentName     string   `json:"agentName"`             // computer name
	OSType        string   `json:"osType,omitempty"`      // windows, macos, linux, windows_legacy
	OSName        string   `json:"osName,omitempty"`      // e.g. Windows Server 2019
	MachineType   string   `json:"machineType,omitempty"` // desktop, laptop, server, kubernetes node, ...
	NetworkStatus string   `json:"networkStatus,omitempty"`
	AgentVersion  string   `json:"agentVersion,omitempty"`
	AgentActive   bool     `json:"agentActive"`
	ActiveThreats int      `json:"activeThreats,omitempty"`
	SiteID        string   `json:"siteId,omitempty"`
	SiteName      string   `json:"siteName,omitempty"`
	GroupName     string   `json:"groupName,omitempty"`
	AccountID     string   `json:"accountId,omitempty"`
	Tags          []string `json:"tags,omitempty"` // "key=value"

	// LastLoggedInUser is the agent's last logged-in user at detection (the agent
	// record's when the threat does not say): who was at the machine, which may
	// not be the process user.
	LastLoggedInUser string `json:"lastLoggedInUser,omitempty"`

	// Workload is where the threat ran when it ran in a container, a Kubernetes pod or
	// an ECS task (the threat's containerInfo, kubernetesInfo, ecsInfo); nil on an
	// ordinary endpoint.
	Workload *Workload `json:"workload,omitempty"`
}

// Workload locates a threat in cloud infrastructure. Empty fields were not reported.
type Workload struct {
	ContainerName  string `json:"containerName,omitempty"`
	ContainerImage string `json:"containerImage,omitempty"`
	ContainerID    string `json:"containerId,omitempty"`
	// Kubernetes.
	Cluster    string `json:"cluster,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Pod        string `json:"pod,omitempty"`
	Node       string `json:"node,omitempty"`
	Controller string `json:"controller,omitempty"` // "Deployment/web"
	// ECS.
	ECSCluster string `json:"ecsCluster,omitempty"`
	ECSService string `json:"ecsService,omitempty"`
	ECSTask    string `json:"ecsTask,omitempty"` // task definition family:revision
	ECSLaunch  string `json:"ecsLaunch,omitempty"`
}

// TimelineItem is one entry of the threat's timeline (GET /threats/{id}/timeline).
type TimelineItem struct {
	At           time.Time `json:"at"`
	ActivityType int       `json:"activityType"`
	Description  string    `json:"description"`
}

// Evidence is everything an analyzer may look at for one threat.
type Evidence struct {
	Facts    ThreatFacts    `json:"facts"`
	Timeline []TimelineItem `json:"timeline,omitempty"`
	// TimelineOmitted counts timeline entries left out to keep the evidence small.
	TimelineOmitted int `json:"timelineOmitted,omitempty"`
	// Context is what SentinelOne knows around the threat (process tree, prevalence,
	// the host's history), gathered for the model; nil when not gathered.
	Context *Context `json:"context,omitempty"`
	// CoLocated is the other recent threats in this threat's cluster or image, read
	// at enrichment for the note and the model alike; nil when the threat has neither.
	CoLocated *CoLocated `json:"coLocated,omitempty"`
}

// CoLocated counts the other threats (this one excluded) created within Window
// before the read in the same Kubernetes cluster, cluster and namespace, and container
// image as this threat. With a cluster, one read of the cluster's threats gives all
// three counts, so Namespace and Image counts are subsets of InCluster; without one
// only the image is counted, across the tenant.
type CoLocated struct {
	// Cluster, Namespace and Image are this threat's, as counted on; Cluster is empty
	// when the read was by image alone.
	Cluster   string `json:"cluster,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Image     string `json:"image,omitempty"`
	// Window is how far back the read looked, from Since.
	Window time.Duration `json:"window"`
	Since  time.Time     `json:"since"`
	// InCluster, InNamespace and WithImage are the counts (0 for what was not counted).
	InCluster   int `json:"inCluster,omitempty"`
	InNamespace int `json:"inNamespace,omitempty"`
	WithImage   int `json:"withImage,omitempty"`
	// Capped: the read returned a full page, so the counts are lower bounds.
	Capped bool `json:"capped,omitempty"`
	// Examples are a few of the threats counted, newest first.
	Examples []CoLocatedThreat `json:"examples,omitempty"`
	// Unavailable says why the read failed; the counts are then unknown, not zero.
	Unavailable string `json:"unavailable,omitempty"`
}

// Total is the number of other threats counted: the cluster's, else the image's.
func (c CoLocated) Total() int {
	if c.Cluster != "" {
		return c.InCluster
	}
	return c.WithImage
}

// CoLocatedThreat is one of the threats CoLocated counted.
type CoLocatedThreat struct {
	ThreatID   string    `json:"threatId"`
	ThreatName string    `json:"threatName"`
	CreatedAt  time.Time `json:"createdAt"`
	Namespace  string    `json:"namespace,omitempty"`
	Image      string    `json:"image,omitempty"`
}

// Context is the threat's surroundings, summarised and bounded so it fits a prompt
// and a workflow history: the storyline's process tree and its network, file and
// registry activity (from the explore events), where else the file was seen, and the
// host's earlier threats.
type Context struct {
	// ProcessChains are root-to-leaf chains of the storyline's process tree, the
	// chains through a malicious process first.
	ProcessChains []ProcessChain `json:"processChains,omitempty"`
	// Network, Files, Registry and Behaviors are one line each ("powershell.exe →
	// 203.0.113.7:443 (evil.example) ×3"), de-duplicated, most frequent first.
	Network   []string `json:"network,omitempty"`
	Files     []string `json:"files,omitempty"`
	Registry  []string `json:"registry,omitempty"`
	Behaviors []string `json:"behaviors,omitempty"`
	// EventsRead counts the explore events summarised here.
	EventsRead int `json:"eventsRead,omitempty"`
	// Cut says what was left out to stay within bounds, e.g. "9 more network lines".
	Cut []string `json:"cut,omitempty"`

	// Prevalence: how many endpoints in the tenant reported a threat with this file's
	// SHA1 (this one included); nil when unknown.
	Prevalence *Prevalence `json:"prevalence,omitempty"`
	// PriorThreats are the host's threats before this one, newest first;
	// PriorThreatsTotal counts all of them.
	PriorThreats      []PriorThreat `json:"priorThreats,omitempty"`
	PriorThreatsTotal int           `json:"priorThreatsTotal,omitempty"`

	// Unavailable lists the parts that could not be gathered, each with the reason.
	Unavailable []string `json:"unavailable,omitempty"`
	// Skipped says why no context was gathered at all (no model, an obvious case, an
	// analysis already cached); empty when it was gathered.
	Skipped string `json:"skipped,omitempty"`
}

// ProcessChain is one path of a process tree, the root first.
type ProcessChain struct {
	Processes []ProcessNode `json:"processes"`
}

// ProcessNode is one process of a chain.
type ProcessNode struct {
	Name      string `json:"name"`
	Cmd       string `json:"cmd,omitempty"`
	User      string `json:"user,omitempty"`
	Malicious bool   `json:"malicious,omitempty"`
}

// Prevalence is how widely a file was seen.
type Prevalence struct {
	SHA1      string `json:"sha1"`
	Endpoints int    `json:"endpoints"`
}

// PriorThreat is an earlier threat on the same host.
type PriorThreat struct {
	ThreatID         string    `json:"threatId"`
	ThreatName       string    `json:"threatName"`
	CreatedAt        time.Time `json:"createdAt"`
	Classification   string    `json:"classification,omitempty"`
	ConfidenceLevel  string    `json:"confidenceLevel,omitempty"`
	AnalystVerdict   string    `json:"analystVerdict,omitempty"`
	MitigationStatus string    `json:"mitigationStatus,omitempty"`
	SameFile         bool      `json:"sameFile,omitempty"`
}

// Analysis is an analyzer's conclusion. The model recommends; only the policy decides.
type Analysis struct {
	Verdict            Verdict  `json:"verdict"`
	Confidence         float64  `json:"confidence"` // 0..1
	Priority           Priority `json:"priority"`
	Summary            string   `json:"summary"`
	RecommendedActions []Action `json:"recommendedActions,omitempty"`
	MITRETechniques    []string `json:"mitreTechniques,omitempty"`
	// Analyzer names what produced this analysis, e.g. "openai:gpt-4o-mini" or "rules".
	Analyzer string `json:"analyzer"`
	// Rules lists the rules that fired, when the rules analyzer produced the analysis.
	Rules []string `json:"rules,omitempty"`
	// FallbackReason says why the rules analyzer stood in for a model, if it did.
	FallbackReason string `json:"fallbackReason,omitempty"`
	// ReusedFrom is the ID of the investigation whose analysis this is, when the
	// analysis cache (llm.Cache) reused it for a threat with the same evidence
	// fingerprint instead of asking the model again; empty when it was made for
	// this investigation.
	ReusedFrom string `json:"reusedFrom,omitempty"`

	// The fields below are optional: the rules analyzer may leave them empty, and
	// analyses recorded before they existed decode without them.

	// AttackTimeline is the attack as an ordered list of steps, each citing the
	// evidence it rests on.
	AttackTimeline []AttackStep `json:"attackTimeline,omitempty"`
	// ActionReasons explains each recommended action. When it is not empty it holds
	// exactly one reason per recommended action (Validate checks this).
	ActionReasons []ActionReason `json:"actionReasons,omitempty"`
	// OpenQuestions are what the analyzer could not settle from the evidence and a
	// human should find out.
	OpenQuestions []string `json:"openQuestions,omitempty"`
	// Corrected is true when a model's first answer failed validation and the
	// analysis is its corrected second answer; CorrectionNote then says what was
	// wrong with the first one.
	Corrected      bool   `json:"corrected,omitempty"`
	CorrectionNote string `json:"correctionNote,omitempty"`
	// InjectionFlags lists the S1-sourced strings that look like instructions aimed
	// at a model (suspected prompt injection), one "field: what: excerpt" each
	// (see guard.DetectInjection). When it is not empty the model's answer was
	// checked against the rules analyzer (guard.AgainstInjection).
	InjectionFlags []string `json:"injectionFlags,omitempty"`
	// GuardChanges lists what the injection guard replaced in the model's answer
	// ("verdict false_positive replaced by the rules' true_positive (confidence
	// 0.90)", …), kept when a guarded analysis is guarded again (reused for another
	// threat); empty with InjectionFlags set means the model's answer stood.
	GuardChanges []string `json:"guardChanges,omitempty"`
	// Pseudonymized is true when the model was shown tokens (HOST-1, USER-1)
	// instead of the host and user names, which were put back in this analysis
	// (S1C_LLM_PSEUDONYMIZE, see guard.Pseudonymize).
	Pseudonymized bool `json:"pseudonymized,omitempty"`
	// Usage is what asking the model cost this investigation; nil when no model
	// was asked for it (rules, pre-filter, or an analysis reused from the cache:
	// the investigation that paid carries the cost, the one reusing it paid nothing).
	Usage *ModelUsage `json:"usage,omitempty"`
	// Disagreement is set when a model's verdict was lower than SentinelOne's rating
	// or the rules engine's verdict on the same evidence. The model recommends, it
	// does not overrule: this analysis is then the higher reading, and the model's
	// is kept here for the human who decides between them.
	Disagreement *Disagreement `json:"disagreement,omitempty"`
}

// Disagreement is a model's reading that contradicts SentinelOne's rating or the
// rules engine's verdict (see Analysis.Disagreement).
type Disagreement struct {
	// S1Rating is SentinelOne's confidence level (malicious, suspicious).
	S1Rating string `json:"s1Rating,omitempty"`
	// RulesVerdict is the rules engine's verdict on the same evidence.
	RulesVerdict Verdict `json:"rulesVerdict"`
	// Model is the model's reading: its analyzer, verdict, confidence, summary,
	// recommended actions and the evidence it cited.
	Model ModelReading `json:"model"`
	// Reason says it plainly, for the note, the audit log and the approver.
	Reason string `json:"reason"`
}

// ModelReading is what a model concluded, kept small for history.
type ModelReading struct {
	Analyzer           string   `json:"analyzer"`
	Verdict            Verdict  `json:"verdict"`
	Confidence         float64  `json:"confidence"`
	Summary            string   `json:"summary"`
	RecommendedActions []Action `json:"recommendedActions,omitempty"`
	// Evidence is what the model cited for its reading (its attack timeline's evidence).
	Evidence []string `json:"evidence,omitempty"`
}

// ModelUsage is the cost of one model analysis, summed over its requests (two
// when the first answer was sent back for correction).
type ModelUsage struct {
	// Calls counts the HTTP requests sent to the model, answered or not.
	Calls            int   `json:"calls"`
	PromptTokens     int64 `json:"promptTokens"`
	CompletionTokens int64 `json:"completionTokens"`
	// Latency is the wall time spent waiting for the model, over all requests.
	Latency time.Duration `json:"latency"`
}

// AttackStep is one step of an attack timeline.
type AttackStep struct {
	Step string `json:"step"`
	// Evidence is a field name of the threat facts (e.g. "commandLine") or an exact
	// quote from the evidence the analyzer was given.
	Evidence string `json:"evidence"`
	// Technique is a MITRE ATT&CK technique ID, or empty.
	Technique string `json:"technique,omitempty"`
}

// ActionReason says why one recommended action is recommended.
type ActionReason struct {
	Action Action `json:"action"`
	Reason string `json:"reason"`
}

// ReasonFor returns the reason given for act, or "" if there is none.
func (a Analysis) ReasonFor(act Action) string {
	for _, r := range a.ActionReasons {
		if r.Action == act {
			return r.Reason
		}
	}
	return ""
}

// Validate checks an analysis against the schema every analyzer must honour.
// It lists every problem at once so a model's bad answer is reported completely.
func (a Analysis) Validate() error {
	problems := a.Problems()
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("analysis failed validation: %v", problems)
}

// Problems lists every way the analysis breaks the schema Validate checks, one
// sentence each, or nothing if it is valid.
func (a Analysis) Problems() []string {
	var problems []string
	if !a.Verdict.Valid() {
		problems = append(problems, fmt.Sprintf("verdict %q is not one of %v", a.Verdict, Verdicts))
	}
	if a.Confidence < 0 || a.Confidence > 1 {
		problems = append(problems, fmt.Sprintf("confidence %v is outside 0..1", a.Confidence))
	}
	if !a.Priority.Valid() {
		problems = append(problems, fmt.Sprintf("priority %q is not one of %v", a.Priority, Priorities))
	}
	if a.Summary == "" {
		problems = append(problems, "summary is empty")
	}
	for _, act := range a.RecommendedActions {
		if !act.Valid() {
			problems = append(problems, fmt.Sprintf("recommended action %q is not one of %v", act, Actions))
		}
	}
	for _, t := range a.MITRETechniques {
		if !ValidTechniqueID(t) {
			problems = append(problems, fmt.Sprintf("MITRE technique %q is not of the form T1234 or T1234.001", t))
		}
	}
	for i, st := range a.AttackTimeline {
		if strings.TrimSpace(st.Step) == "" {
			problems = append(problems, fmt.Sprintf("attack timeline step %d is empty", i+1))
		}
		if strings.TrimSpace(st.Evidence) == "" {
			problems = append(problems, fmt.Sprintf("attack timeline step %d cites no evidence", i+1))
		}
		if st.Technique != "" && !ValidTechniqueID(st.Technique) {
			problems = append(problems, fmt.Sprintf("attack timeline step %d: MITRE technique %q is not of the form T1234 or T1234.001", i+1, st.Technique))
		}
	}
	problems = append(problems, a.actionReasonProblems()...)
	for i, q := range a.OpenQuestions {
		if strings.TrimSpace(q) == "" {
			problems = append(problems, fmt.Sprintf("open question %d is empty", i+1))
		}
	}
	return problems
}

// actionReasonProblems checks ActionReasons against RecommendedActions. An
// analysis without reasons is valid (the rules analyzer, older payloads); one
// with reasons must explain every recommended action exactly once, and nothing else.
func (a Analysis) actionReasonProblems() []string {
	if len(a.ActionReasons) == 0 {
		return nil
	}
	var problems []string
	count := map[Action]int{}
	for _, r := range a.ActionReasons {
		count[r.Action]++
		switch {
		case !r.Action.Valid():
			problems = append(problems, fmt.Sprintf("action reason for %q, which is not one of %v", r.Action, Actions))
		case !contains(a.RecommendedActions, r.Action):
			problems = append(problems, fmt.Sprintf("action reason for %q, which is not a recommended action", r.Action))
		}
		if strings.TrimSpace(r.Reason) == "" {
			problems = append(problems, fmt.Sprintf("the reason for action %q is empty", r.Action))
		}
	}
	for _, act := range a.RecommendedActions {
		switch n := count[act]; {
		case n == 0:
			problems = append(problems, fmt.Sprintf("recommended action %q has no action reason", act))
		case n > 1:
			problems = append(problems, fmt.Sprintf("recommended action %q has %d action reasons, want exactly one", act, n))
		}
	}
	return problems
}

// ValidTechniqueID reports whether s looks like a MITRE ATT&CK technique ID (T1234 or T1234.001).
func ValidTechniqueID(s string) bool {
	if len(s) != 5 && len(s) != 9 {
		return false
	}
	if s[0] != 'T' || !digits(s[1:5]) {
		return false
	}
	return len(s) == 5 || (s[5] == '.' && digits(s[6:9]))
}

var techniqueRE = regexp.MustCompile(`(?i)\bT\d{4}(?:\.\d{3})?\b`)

// TechniqueIDs extracts valid MITRE technique IDs from S1's technique strings,
// which hold either IDs ("T1059.001") or names ("Command and Scripting
// Interpreter"); names are ignored rather than guessed at. Order is kept,
// duplicates dropped.
func TechniqueIDs(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		for _, loc := range techniqueRE.FindAllStringIndex(s, -1) {
			if rest := s[loc[1]:]; len(rest) > 1 && rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' {
				continue // a malformed sub-technique such as T1059.01: not an ID
			}
			id := strings.ToUpper(s[loc[0]:loc[1]])
			if !seen[id] && ValidTechniqueID(id) {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// PathOnVolume returns a file path with forward slashes and without its volume (a drive
// letter such as C:, an NT device such as \Device\HarddiskVolume2, the \\?\ prefix), so
// that the console's paths and the paths people write compare alike:
// \Device\HarddiskVolume2\Windows\System32\cmd.exe and C:\Windows\System32\cmd.exe are
// both /Windows/System32/cmd.exe. Case is kept; a UNC path keeps its server.
func PathOnVolume(p string) string {
	p = strings.ReplaceAll(strings.TrimSpace(p), `\`, "/")
	for _, pre := range []string{"//?/", "/??/"} {
		if strings.HasPrefix(p, pre) {
			p = p[len(pre):]
		}
	}
	if rest, ok := cutPrefixFold(p, "/device/"); ok {
		// The device name (HarddiskVolume2, Mup for network paths) stands for the volume.
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = rest[i:]
		} else {
			p = "/"
		}
	}
	if len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') {
		p = p[2:]
	}
	return p
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
