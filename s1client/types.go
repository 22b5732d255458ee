package s1client

import "encoding/json"

// Wire types for the Management API v2.1. JSON tags are the console's field names. Fields
// that real payloads or fixtures send with loose types use the Flex* types and Time; plain
// strings decode null as "". Unknown fields are ignored, so newer consoles decode fine.

// Threat is one item of GET /threats.
type Threat struct {
	ID                 FlexString              `json:"id"`
	ThreatInfo         ThreatInfo              `json:"threatInfo"`
	AgentRealtimeInfo  AgentRealtimeInfo       `json:"agentRealtimeInfo"`
	AgentDetectionInfo AgentDetectionInfo      `json:"agentDetectionInfo"`
	MitigationStatus   []MitigationStatusEntry `json:"mitigationStatus"`
	Indicators         []Indicator             `json:"indicators"`
	ContainerInfo      *ContainerInfo          `json:"containerInfo"`
	KubernetesInfo     *KubernetesInfo         `json:"kubernetesInfo"`
	EcsInfo            *EcsInfo                `json:"ecsInfo"`
	WhiteningOptions   []string                `json:"whiteningOptions"`
}

// MitigationEntry returns the mitigationStatus[] entry for statusAction (the entry's action
// value, e.g. "kill" or "rollback"; see MitigationAction.StatusAction). If the console lists
// the action more than once, the most recently updated entry wins.
func (t Threat) MitigationEntry(statusAction string) (MitigationStatusEntry, bool) {
	var (
		best  MitigationStatusEntry
		found bool
	)
	for _, e := range t.MitigationStatus {
		if e.Action != statusAction {
			continue
		}
		if !found || !e.LastUpdate.Before(best.LastUpdate.Time) {
			best, found = e, true
		}
	}
	return best, found
}

// ThreatInfo is threat.threatInfo: what was detected and its triage state.
type ThreatInfo struct {
	ThreatID                    FlexString        `json:"threatId"`
	ThreatName                  string            `json:"threatName"`
	SHA1                        string            `json:"sha1"`
	SHA256                      string            `json:"sha256"`
	MD5                         string            `json:"md5"`
	ConfidenceLevel             string            `json:"confidenceLevel"` // malicious | suspicious | n/a
	Classification              string            `json:"classification"`
	ClassificationSource        string            `json:"classificationSource"`
	MitigationStatus            string            `json:"mitigationStatus"` // not_mitigated | mitigated | marked_as_benign
	MitigationStatusDescription string            `json:"mitigationStatusDescription"`
	AnalystVerdict              string            `json:"analystVerdict"` // undefined | true_positive | false_positive | suspicious
	AnalystVerdictDescription   string            `json:"analystVerdictDescription"`
	IncidentStatus              string            `json:"incidentStatus"` // unresolved | in_progress | resolved
	IncidentStatusDescription   string            `json:"incidentStatusDescription"`
	InitiatedBy                 string            `json:"initiatedBy"`
	InitiatedByDescription      string            `json:"initiatedByDescription"`
	InitiatingUserID            FlexString        `json:"initiatingUserId"`
	InitiatingUsername          string            `json:"initiatingUsername"`
	DetectionType               string            `json:"detectionType"`
	Engines                     []string          `json:"engines"`
	DetectionEngines            []DetectionEngine `json:"detectionEngines"`
	FilePath                    string            `json:"filePath"`
	FileExtension               string            `json:"fileExtension"`
	FileExtensionType           string            `json:"fileExtensionType"`
	FileSize                    FlexInt           `json:"fileSize"`
	FileVerificationType        string            `json:"fileVerificationType"`
	CertificateID               string            `json:"certificateId"`
	PublisherName               string            `json:"publisherName"`
	IsValidCertificate          FlexBool          `json:"isValidCertificate"`
	IsFileless                  FlexBool          `json:"isFileless"`
	MaliciousProcessArguments   string            `json:"maliciousProcessArguments"`
	OriginatorProcess           string            `json:"originatorProcess"`
	ProcessUser                 string            `json:"processUser"`
	RootProcessUpn              string            `json:"rootProcessUpn"`
	Storyline                   string            `json:"storyline"`
	CollectionID                FlexString        `json:"collectionId"`
	CloudFilesHashVerdict       string            `json:"cloudFilesHashVerdict"`
	ExternalTicketID            string            `json:"externalTicketId"`
	ExternalTicketExists        FlexBool          `json:"externalTicketExists"`
	MitigatedPreemptively       FlexBool          `json:"mitigatedPreemptively"`
	AutomaticallyResolved       FlexBool          `json:"automaticallyResolved"`
	PendingActions              FlexBool          `json:"pendingActions"`
	FailedActions               FlexBool          `json:"failedActions"`
	RebootRequired              FlexBool          `json:"rebootRequired"`
	ReachedEventsLimit          FlexBool          `json:"reachedEventsLimit"`
	BrowserType                 string            `json:"browserType"`
	CreatedAt                   Time              `json:"createdAt"`
	UpdatedAt                   Time              `json:"updatedAt"`
	IdentifiedAt                Time              `json:"identifiedAt"`
}

// DetectionEngine is one threatInfo.detectionEngines[] item.
type DetectionEngine struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// AgentRealtimeInfo is threat.agentRealtimeInfo: the agent's state now.
type AgentRealtimeInfo struct {
	AgentID               FlexString `json:"agentId"`
	AgentUUID             string     `json:"agentUuid"`
	AgentComputerName     string     `json:"agentComputerName"`
	AgentDomain           string     `json:"agentDomain"`
	AgentOsType           string     `json:"agentOsType"` // windows | macos | linux | windows_legacy
	AgentOsName           string     `json:"agentOsName"`
	AgentOsRevision       string     `json:"agentOsRevision"`
	AgentVersion          string     `json:"agentVersion"`
	AgentMachineType      string     `json:"agentMachineType"`
	AgentNetworkStatus    string     `json:"agentNetworkStatus"` // connected | disconnected | connecting | disconnecting
	AgentIsActive         FlexBool   `json:"agentIsActive"`
	AgentIsDecommissioned FlexBool   `json:"agentIsDecommissioned"`
	// AgentDecommissionedAt is a boolean in the spec and a timestamp or null in payloads, so
	// it is kept as text.
	AgentDecommissionedAt FlexString         `json:"agentDecommissionedAt"`
	AgentInfected         FlexBool           `json:"agentInfected"`
	AgentMitigationMode   string             `json:"agentMitigationMode"` // detect | protect
	ActiveThreats         FlexInt            `json:"activeThreats"`
	AccountID             FlexString         `json:"accountId"`
	AccountName           string             `json:"accountName"`
	SiteID                FlexString         `json:"siteId"`
	SiteName              string             `json:"siteName"`
	GroupID               FlexString         `json:"groupId"`
	GroupName             string             `json:"groupName"`
	NetworkInterfaces     []NetworkInterface `json:"networkInterfaces"`
	OperationalState      string             `json:"operationalState"`
	RebootRequired        FlexBool           `json:"rebootRequired"`
	ScanStatus            string             `json:"scanStatus"`
	ScanStartedAt         Time               `json:"scanStartedAt"`
	ScanFinishedAt        Time               `json:"scanFinishedAt"`
	ScanAbortedAt         Time               `json:"scanAbortedAt"`
	UserActionsNeeded     []string           `json:"userActionsNeeded"`
	StorageName           string             `json:"storageName"`
	StorageType           string             `json:"storageType"`
}

// AgentDetectionInfo is threat.agentDetectionInfo: the agent's state when it detected the
// threat (mostly null on old threats).
type AgentDetectionInfo struct {
	AccountID                 FlexString     `json:"accountId"`
	AccountName               string         `json:"accountName"`
	SiteID                    FlexString     `json:"siteId"`
	SiteName                  string         `json:"siteName"`
	GroupID                   FlexString     `json:"groupId"`
	GroupName                 string         `json:"groupName"`
	AgentIPV4                 string         `json:"agentIpV4"`
	AgentIPV6                 string         `json:"agentIpV6"`
	ExternalIP                string         `json:"externalIp"`
	AgentDomain               string         `json:"agentDomain"`
	AgentUUID                 string         `json:"agentUuid"`
	AgentVersion              string         `json:"agentVersion"`
	AgentOsName               string         `json:"agentOsName"`
	AgentOsRevision           string         `json:"agentOsRevision"`
	AgentRegisteredAt         Time           `json:"agentRegisteredAt"`
	AgentMitigationMode       string         `json:"agentMitigationMode"`
	AgentDetectionState       string         `json:"agentDetectionState"`
	AgentLastLoggedInUserName string         `json:"agentLastLoggedInUserName"`
	AgentLastLoggedInUserMail string         `json:"agentLastLoggedInUserMail"`
	AgentLastLoggedInUpn      string         `json:"agentLastLoggedInUpn"`
	AssetVersion              string         `json:"assetVersion"`
	CloudProviders            map[string]any `json:"cloudProviders"`
}

// Mitigation status values of mitigationStatus[].status.
const (
	MitigationStatusPending       = "pending"
	MitigationStatusSent          = "sent"
	MitigationStatusSuccess       = "success"
	MitigationStatusFailed        = "failed"
	MitigationStatusPendingReboot = "pending-reboot"
	MitigationStatusPartial       = "partial"
)

// MitigationStatusEntry is one threat.mitigationStatus[] item: the state of one action.
type MitigationStatusEntry struct {
	Action              string           `json:"action"` // kill | remediate | rollback | quarantine | unquarantine | network_quarantine …
	Status              string           `json:"status"` // see MitigationStatus* constants
	LastUpdate          Time             `json:"lastUpdate"`
	MitigationStartedAt Time             `json:"mitigationStartedAt"`
	MitigationEndedAt   Time             `json:"mitigationEndedAt"`
	LatestReport        string           `json:"latestReport"`
	ReportID            FlexString       `json:"reportId"`
	GroupNotFound       FlexBool         `json:"groupNotFound"`
	AgentSupportsReport FlexBool         `json:"agentSupportsReport"`
	ActionsCounters     *ActionsCounters `json:"actionsCounters"`
}

// Done reports whether the action reached a state the agent will not move out of by
// itself: success, failed, partial or pending-reboot (which needs a human to reboot).
func (e MitigationStatusEntry) Done() bool {
	switch e.Status {
	case MitigationStatusSuccess, MitigationStatusFailed, MitigationStatusPartial, MitigationStatusPendingReboot:
		return true
	}
	return false
}

// ActionsCounters is mitigationStatus[].actionsCounters.
type ActionsCounters struct {
	Total         FlexInt `json:"total"`
	Success       FlexInt `json:"success"`
	Failed        FlexInt `json:"failed"`
	PendingReboot FlexInt `json:"pendingReboot"`
	NotFound      FlexInt `json:"notFound"`
}

// Indicator is one threat.indicators[] item.
type Indicator struct {
	Category    string    `json:"category"`
	CategoryID  FlexInt   `json:"categoryId"`
	Description string    `json:"description"`
	IDs         []FlexInt `json:"ids"`
	Tactics     []Tactic  `json:"tactics"`
}

// Tactic is a MITRE ATT&CK tactic of an indicator. v2.1 gives names and links, no T-IDs.
type Tactic struct {
	Name       string      `json:"name"`
	Source     string      `json:"source"`
	Techniques []Technique `json:"techniques"`
}

// Technique is a MITRE ATT&CK technique of a tactic.
type Technique struct {
	Name string `json:"name"`
	Link string `json:"link"`
}

// ContainerInfo is threat.containerInfo. Labels are kept raw: their shape is undocumented.
type ContainerInfo struct {
	ID                    string          `json:"id"`
	Name                  string          `json:"name"`
	Image                 string          `json:"image"`
	Labels                json.RawMessage `json:"labels"`
	IsContainerQuarantine FlexBool        `json:"isContainerQuarantine"`
}

// KubernetesInfo is threat.kubernetesInfo. Label fields are kept raw (undocumented shape).
type KubernetesInfo struct {
	Cluster               string          `json:"cluster"`
	Namespace             string          `json:"namespace"`
	NamespaceLabels       json.RawMessage `json:"namespaceLabels"`
	Pod                   string          `json:"pod"`
	PodLabels             json.RawMessage `json:"podLabels"`
	Node                  string          `json:"node"`
	NodeLabels            json.RawMessage `json:"nodeLabels"`
	ControllerKind        string          `json:"controllerKind"`
	ControllerName        string          `json:"controllerName"`
	ControllerLabels      json.RawMessage `json:"controllerLabels"`
	IsContainerQuarantine FlexBool        `json:"isContainerQuarantine"`
}

// EcsInfo is threat.ecsInfo (newer consoles; absent on older ones).
type EcsInfo struct {
	Type                   string     `json:"type"`
	Version                string     `json:"version"`
	ClusterName            string     `json:"clusterName"`
	TaskArn                string     `json:"taskArn"`
	TaskAvailabilityZone   string     `json:"taskAvailabilityZone"`
	ServiceName            string     `json:"serviceName"`
	ServiceArn             string     `json:"serviceArn"`
	TaskDefinitionFamily   string     `json:"taskDefinitionFamily"`
	TaskDefinitionRevision FlexString `json:"taskDefinitionRevision"`
	TaskDefinitionArn      string     `json:"taskDefinitionArn"`
}

// NetworkInterface is an agent network interface.
type NetworkInterface struct {
	ID                FlexString `json:"id"`
	Name              string     `json:"name"`
	Inet              []string   `json:"inet"`
	Inet6             []string   `json:"inet6"`
	Physical          string     `json:"physical"`
	GatewayIP         string     `json:"gatewayIp"`
	GatewayMacAddress string     `json:"gatewayMacAddress"`
}

// Agent is one item of GET /agents. The license key is deliberately not decoded.
type Agent struct {
	ID                         FlexString            `json:"id"`
	UUID                       string                `json:"uuid"`
	ComputerName               string                `json:"computerName"`
	Domain                     string                `json:"domain"`
	OsType                     string                `json:"osType"` // windows | windows_legacy | linux | macos
	OsName                     string                `json:"osName"`
	OsRevision                 string                `json:"osRevision"`
	OsArch                     string                `json:"osArch"`
	OsUsername                 string                `json:"osUsername"`
	OsStartTime                Time                  `json:"osStartTime"`
	MachineType                string                `json:"machineType"`
	ModelName                  string                `json:"modelName"`
	SerialNumber               string                `json:"serialNumber"`
	AgentVersion               string                `json:"agentVersion"`
	IsUpToDate                 FlexBool              `json:"isUpToDate"`
	NetworkStatus              string                `json:"networkStatus"` // connected | disconnected | connecting | disconnecting
	NetworkQuarantineEnabled   FlexBool              `json:"networkQuarantineEnabled"`
	IsActive                   FlexBool              `json:"isActive"`
	LastActiveDate             Time                  `json:"lastActiveDate"`
	LastIPToMgmt               string                `json:"lastIpToMgmt"`
	ExternalIP                 string                `json:"externalIp"`
	GroupIP                    string                `json:"groupIp"`
	NetworkInterfaces          []NetworkInterface    `json:"networkInterfaces"`
	LastLoggedInUserName       string                `json:"lastLoggedInUserName"`
	ActiveDirectory            *ActiveDirectory      `json:"activeDirectory"`
	Infected                   FlexBool              `json:"infected"`
	ActiveThreats              FlexInt               `json:"activeThreats"`
	ThreatRebootRequired       FlexBool              `json:"threatRebootRequired"`
	MitigationMode             string                `json:"mitigationMode"`
	MitigationModeSuspicious   string                `json:"mitigationModeSuspicious"`
	ScanStatus                 string                `json:"scanStatus"`
	ScanStartedAt              Time                  `json:"scanStartedAt"`
	ScanFinishedAt             Time                  `json:"scanFinishedAt"`
	ScanAbortedAt              Time                  `json:"scanAbortedAt"`
	LastSuccessfulScanDate     Time                  `json:"lastSuccessfulScanDate"`
	OperationalState           string                `json:"operationalState"`
	OperationalStateExpiration Time                  `json:"operationalStateExpiration"`
	UserActionsNeeded          []string              `json:"userActionsNeeded"`
	MissingPermissions         []string              `json:"missingPermissions"`
	IsDecommissioned           FlexBool              `json:"isDecommissioned"`
	IsUninstalled              FlexBool              `json:"isUninstalled"`
	IsPendingUninstall         FlexBool              `json:"isPendingUninstall"`
	EncryptedApplications      FlexBool              `json:"encryptedApplications"`
	FirewallEnabled            FlexBool              `json:"firewallEnabled"`
	LocationEnabled            FlexBool              `json:"locationEnabled"`
	LocationType               string                `json:"locationType"`
	Locations                  []Location            `json:"locations"`
	AllowRemoteShell           FlexBool              `json:"allowRemoteShell"`
	InRemoteShellSession       FlexBool              `json:"inRemoteShellSession"`
	RemoteProfilingState       string                `json:"remoteProfilingState"`
	RangerStatus               string                `json:"rangerStatus"`
	RangerVersion              string                `json:"rangerVersion"`
	AppsVulnerabilityStatus    string                `json:"appsVulnerabilityStatus"`
	ConsoleMigrationStatus     string                `json:"consoleMigrationStatus"`
	InstallerType              string                `json:"installerType"`
	CPUID                      string                `json:"cpuId"`
	CPUCount                   FlexInt               `json:"cpuCount"`
	CoreCount                  FlexInt               `json:"coreCount"`
	TotalMemory                FlexInt               `json:"totalMemory"` // MB
	ExternalID                 string                `json:"externalId"`
	AccountID                  FlexString            `json:"accountId"`
	AccountName                string                `json:"accountName"`
	SiteID                     FlexString            `json:"siteId"`
	SiteName                   string                `json:"siteName"`
	GroupID                    FlexString            `json:"groupId"`
	GroupName                  string                `json:"groupName"`
	DetectionState             string                `json:"detectionState"`
	FirstFullModeTime          Time                  `json:"firstFullModeTime"`
	CloudProviders             map[string]any        `json:"cloudProviders"`
	StorageName                string                `json:"storageName"`
	StorageType                string                `json:"storageType"`
	CreatedAt                  Time                  `json:"createdAt"`
	RegisteredAt               Time                  `json:"registeredAt"`
	UpdatedAt                  Time                  `json:"updatedAt"`
	Tags                       map[string][]AgentTag `json:"tags"` // e.g. {"sentinelone":[…]}
}

// ActiveDirectory is agent.activeDirectory.
type ActiveDirectory struct {
	ComputerDistinguishedName string   `json:"computerDistinguishedName"`
	ComputerMemberOf          []string `json:"computerMemberOf"`
	LastUserDistinguishedName string   `json:"lastUserDistinguishedName"`
	LastUserMemberOf          []string `json:"lastUserMemberOf"`
	UserPrincipalName         string   `json:"userPrincipalName"`
	Mail                      string   `json:"mail"`
}

// Location is one agent.locations[] item.
type Location struct {
	ID    FlexString `json:"id"`
	Name  string     `json:"name"`
	Scope string     `json:"scope"`
}

// AgentTag is one agent tag, e.g. tags.sentinelone[].
type AgentTag struct {
	ID           FlexString `json:"id"`
	Key          string     `json:"key"`
	Value        string     `json:"value"`
	AssignedBy   string     `json:"assignedBy"`
	AssignedByID FlexString `json:"assignedById"`
	AssignedAt   Time       `json:"assignedAt"`
}

// TimelineEntry is one item of GET /threats/{id}/timeline. Numbers inside Data decode as
// json.Number so that IDs sent as numbers keep every digit.
type TimelineEntry struct {
	ID                   FlexString     `json:"id"`
	ActivityType         FlexInt        `json:"activityType"`
	PrimaryDescription   string         `json:"primaryDescription"`
	SecondaryDescription string         `json:"secondaryDescription"`
	CreatedAt            Time           `json:"createdAt"`
	UpdatedAt            Time           `json:"updatedAt"`
	Data                 map[string]any `json:"data"`
	ThreatID             FlexString     `json:"threatId"`
	AgentID              FlexString     `json:"agentId"`
	UserID               FlexString     `json:"userId"`
	Hash                 string         `json:"hash"`
	OsFamily             string         `json:"osFamily"`
	AccountID            FlexString     `json:"accountId"`
	SiteID               FlexString     `json:"siteId"`
	GroupID              FlexString     `json:"groupId"`
}

// Note is one item of GET /threats/{id}/notes.
type Note struct {
	ID        FlexString `json:"id"`
	Text      string     `json:"text"`
	Creator   string     `json:"creator"`
	CreatorID FlexString `json:"creatorId"`
	CreatedAt Time       `json:"createdAt"`
	UpdatedAt Time       `json:"updatedAt"`
	Edited    FlexBool   `json:"edited"`
}

// Activity is one item of GET /activities. Numbers inside Data decode as json.Number.
type Activity struct {
	ID                   FlexString     `json:"id"`
	ActivityType         FlexInt        `json:"activityType"`
	ActivityUUID         string         `json:"activityUuid"`
	PrimaryDescription   string         `json:"primaryDescription"`
	SecondaryDescription string         `json:"secondaryDescription"`
	Description          string         `json:"description"`
	Comments             string         `json:"comments"`
	ThreatID             FlexString     `json:"threatId"`
	AgentID              FlexString     `json:"agentId"`
	UserID               FlexString     `json:"userId"`
	AccountID            FlexString     `json:"accountId"`
	AccountName          string         `json:"accountName"`
	SiteID               FlexString     `json:"siteId"`
	SiteName             string         `json:"siteName"`
	GroupID              FlexString     `json:"groupId"`
	GroupName            string         `json:"groupName"`
	CreatedAt            Time           `json:"createdAt"`
	UpdatedAt            Time           `json:"updatedAt"`
	Data                 map[string]any `json:"data"`
}

// MitigateResult is the data of POST /threats/mitigate/{action}. Older consoles send only
// affected, so Details may be empty.
type MitigateResult struct {
	Affected int              `json:"affected"`
	Details  []MitigateDetail `json:"details"`
}

// MitigateDetail is the per-threat outcome of a mitigate call.
type MitigateDetail struct {
	ThreatID FlexString              `json:"threatId"`
	Reports  []MitigationStatusEntry `json:"reports"`
	Skipped  []SkippedAction         `json:"skipped"`
}

// SkippedAction says why the console did not run an action on a threat; Reason is one of
// permissions, not_supported, precondition, triggered.
type SkippedAction struct {
	Action      string `json:"action"`
	Reason      string `json:"reason"`
	Description string `json:"description"`
}
