package activities

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
)

// techniqueRE finds MITRE technique IDs in indicator technique names and links: v2.1
// threats carry names and attack.mitre.org links, not a separate ID field.
var techniqueRE = regexp.MustCompile(`T\d{4}(?:[./]\d{3})?`)

// ThreatFacts normalises a threat into the compact facts every later step uses.
func ThreatFacts(t s1client.Threat) investigation.ThreatFacts {
	ti, ag := t.ThreatInfo, t.AgentRealtimeInfo
	f := investigation.ThreatFacts{
		ThreatID:             string(t.ID),
		ThreatName:           ti.ThreatName,
		Classification:       ti.Classification,
		ClassificationSource: ti.ClassificationSource,
		ConfidenceLevel:      ti.ConfidenceLevel,
		AnalystVerdict:       ti.AnalystVerdict,
		IncidentStatus:       ti.IncidentStatus,
		MitigationStatus:     ti.MitigationStatus,
		SHA1:                 ti.SHA1,
		SHA256:               ti.SHA256,
		FilePath:             ti.FilePath,
		FileVerificationType: ti.FileVerificationType,
		IsFileless:           bool(ti.IsFileless),
		PublisherName:        ti.PublisherName,
		CommandLine:          clip(ti.MaliciousProcessArguments, 1000),
		OriginatorProcess:    ti.OriginatorProcess,
		InitiatedBy:          ti.InitiatedBy,
		ProcessUser:          ti.ProcessUser,
		Storyline:            ti.Storyline,
		Engines:              ti.Engines,
		CreatedAt:            ti.CreatedAt.Time,
		AgentID:              string(ag.AgentID),
		AgentName:            ag.AgentComputerName,
		LastLoggedInUser:     t.AgentDetectionInfo.AgentLastLoggedInUserName,
		OSType:               ag.AgentOsType,
		OSName:               ag.AgentOsName,
		MachineType:          ag.AgentMachineType,
		NetworkStatus:        ag.AgentNetworkStatus,
		AgentVersion:         ag.AgentVersion,
		AgentActive:          bool(ag.AgentIsActive),
		ActiveThreats:        ag.ActiveThreats.Int(),
		SiteID:               string(ag.SiteID),
		SiteName:             ag.SiteName,
		GroupName:            ag.GroupName,
		AccountID:            string(ag.AccountID),
	}
	if f.ThreatID == "" {
		f.ThreatID = string(ti.ThreatID)
	}
	// The mode at detection decided whether the agent acted; the realtime copy is the
	// fallback for consoles that leave agentDetectionInfo empty.
	f.MitigationMode = t.AgentDetectionInfo.AgentMitigationMode
	if f.MitigationMode == "" {
		f.MitigationMode = ag.AgentMitigationMode
	}
	for _, e := range t.MitigationStatus {
		f.Mitigations = append(f.Mitigations, e.Action+":"+e.Status)
	}
	sort.Strings(f.Mitigations)
	f.Mitigations = slices.Compact(f.Mitigations)
	if len(f.Engines) == 0 {
		for _, e := range ti.DetectionEngines {
			f.Engines = append(f.Engines, e.Title)
		}
	}
	seen := map[string]bool{}
	for _, ind := range t.Indicators {
		f.Indicators = append(f.Indicators, clip(strings.TrimSpace(ind.Category+": "+ind.Description), 300))
		for _, tac := range ind.Tactics {
			for _, tech := range tac.Techniques {
				for _, id := range techniqueRE.FindAllString(tech.Name+" "+tech.Link, -1) {
					id = strings.Replace(id, "/", ".", 1)
					if !seen[id] {
						seen[id] = true
						f.Techniques = append(f.Techniques, id)
					}
				}
			}
		}
	}
	sort.Strings(f.Techniques)
	f.Workload = workloadOf(t)
	return f
}

// workloadOf reads the cloud-workload blocks. Consoles send them on every threat,
// with null values on ordinary endpoints, so "present" means "has a value".
func workloadOf(t s1client.Threat) *investigation.Workload {
	var w investigation.Workload
	if c := t.ContainerInfo; c != nil {
		w.ContainerName, w.ContainerImage, w.ContainerID = c.Name, c.Image, c.ID
	}
	if k := t.KubernetesInfo; k != nil {
		w.Cluster, w.Namespace, w.Pod, w.Node = k.Cluster, k.Namespace, k.Pod, k.Node
		if k.ControllerName != "" {
			w.Controller = strings.TrimPrefix(k.ControllerKind+"/"+k.ControllerName, "/")
		}
	}
	if e := t.EcsInfo; e != nil {
		w.ECSCluster, w.ECSService, w.ECSLaunch = e.ClusterName, e.ServiceName, e.Type
		if e.TaskDefinitionFamily != "" {
			w.ECSTask = strings.TrimSuffix(e.TaskDefinitionFamily+":"+string(e.TaskDefinitionRevision), ":")
		}
	}
	if w == (investigation.Workload{}) {
		return nil
	}
	return &w
}

// MergeAgent overlays the agent record, which is fresher than the threat's copy.
func MergeAgent(f *investigation.ThreatFacts, ag s1client.Agent) {
	if ag.ComputerName != "" {
		f.AgentName = ag.ComputerName
	}
	if f.LastLoggedInUser == "" {
		// Only a fallback: the threat's copy is who was logged in when it ran.
		f.LastLoggedInUser = ag.LastLoggedInUserName
	}
	if ag.OsType != "" {
		f.OSType = ag.OsType
	}
	if ag.OsName != "" {
		f.OSName = ag.OsName
	}
	if ag.MachineType != "" {
		f.MachineType = ag.MachineType
	}
	if ag.NetworkStatus != "" {
		f.NetworkStatus = ag.NetworkStatus
	}
	f.AgentActive = bool(ag.IsActive)
	f.ActiveThreats = ag.ActiveThreats.Int()
	// The threat carries one mode, the one for malicious threats; a suspicious threat is
	// handled by the policy's separate mode for suspicious threats, which only the agent
	// record has.
	switch {
	case strings.EqualFold(f.ConfidenceLevel, "suspicious") && ag.MitigationModeSuspicious != "":
		f.MitigationMode = ag.MitigationModeSuspicious
	case f.MitigationMode == "" && ag.MitigationMode != "":
		f.MitigationMode = ag.MitigationMode
	}
	f.Tags = nil
	for scope, tags := range ag.Tags {
		for _, t := range tags {
			f.Tags = append(f.Tags, scope+":"+t.Key+"="+t.Value)
		}
	}
	sort.Strings(f.Tags)
}
