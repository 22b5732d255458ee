package simulator

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
)

// The renderers build maps rather than structs: the v2.1 objects are wide and
// mostly constant, and encoding/json sorts map keys, so output is stable.

const tsLayout = "2006-01-02T15:04:05.000000Z"

// ts renders a timestamp the way the console does: UTC, microseconds, Z.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(tsLayout)
}

var (
	verdictDescriptions = map[string]string{
		"undefined": "Undefined", "true_positive": "True positive",
		"false_positive": "False positive", "suspicious": "Suspicious",
	}
	incidentDescriptions = map[string]string{
		"unresolved": "Unresolved", "in_progress": "In progress", "resolved": "Resolved",
	}
	mitigationDescriptions = map[string]string{
		"not_mitigated": "Not mitigated", "mitigated": "Mitigated", "marked_as_benign": "Marked as benign",
	}
	engineKeys = map[string]string{
		"On-Write DFI": "executables", "Reputation": "reputation", "SentinelOne Cloud": "sentinelone_cloud",
		"Behavioral AI": "data_files", "Static AI": "pre_execution", "User-Defined Blocklist": "user_blacklist",
		"Documents, Scripts": "data_files", "Anti Exploitation / Fileless": "executables",
	}
)

func titleWords(s string) string {
	words := strings.Fields(strings.ReplaceAll(s, "_", " "))
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

func (s *Simulator) renderAgent(a *agent, now time.Time) map[string]any {
	sc := a.sc
	active := s.activeThreats(a)
	tags := []map[string]any{}
	for i, tag := range sc.Tags {
		tags = append(tags, map[string]any{
			"id": strconv.FormatUint(uint64(idBase/10)+uint64(a.seq)*100+uint64(i), 10), "key": tag.Key, "value": tag.Value,
			"assignedBy": apiUserName, "assignedById": apiUserID, "assignedAt": ts(a.registeredAt),
		})
	}
	lastActive := now
	switch {
	case !a.online:
		lastActive = a.offlineSince
	case !a.isActive:
		lastActive = now.Add(-72 * time.Hour)
	}
	return map[string]any{
		"id": sc.ID, "uuid": sc.UUID, "computerName": sc.ComputerName, "domain": sc.Domain,
		"osType": sc.OSType, "osName": sc.OSName, "osRevision": sc.OSRevision, "osArch": or(sc.OSArch, "64 bit"),
		"osUsername": nil, "osStartTime": ts(now.Add(-7 * 24 * time.Hour).Truncate(time.Second)),
		"machineType": sc.MachineType, "modelName": modelName(sc), "agentVersion": sc.AgentVersion, "isUpToDate": true,
		"networkStatus": a.networkStatus, "networkQuarantineEnabled": false,
		"isActive": a.isActive && a.online, "lastActiveDate": ts(lastActive),
		"lastIpToMgmt": nilIfEmpty(sc.LastIPToMgmt), "externalIp": nilIfEmpty(sc.ExternalIP), "groupIp": groupIP(sc.ExternalIP),
		"networkInterfaces": networkInterfaces(sc), "lastLoggedInUserName": sc.LastLoggedInUserName,
		"activeDirectory": map[string]any{
			"computerDistinguishedName": nil, "computerMemberOf": []any{}, "lastUserDistinguishedName": nil,
			"lastUserMemberOf": []any{}, "userPrincipalName": nil, "mail": nil,
		},
		"infected": active > 0, "activeThreats": active, "threatRebootRequired": s.rebootRequired(a),
		"mitigationMode": or(sc.MitigationMode, "protect"), "mitigationModeSuspicious": "detect",
		"scanStatus": "finished", "scanStartedAt": ts(a.registeredAt.Add(time.Hour)), "scanFinishedAt": ts(a.registeredAt.Add(2 * time.Hour)),
		"scanAbortedAt": nil, "lastSuccessfulScanDate": ts(a.registeredAt.Add(2 * time.Hour)),
		"operationalState": "na", "operationalStateExpiration": nil, "userActionsNeeded": []any{}, "missingPermissions": []any{},
		"isDecommissioned": false, "isUninstalled": false, "isPendingUninstall": false,
		"encryptedApplications": false, "firewallEnabled": true, "locationEnabled": false, "locationType": "not_supported", "locations": nil,
		"allowRemoteShell": false, "inRemoteShellSession": false, "remoteProfilingState": "disabled", "remoteProfilingStateExpiration": nil,
		"rangerStatus": "NotApplicable", "rangerVersion": nil, "appsVulnerabilityStatus": "up_to_date", "consoleMigrationStatus": "N/A",
		"installerType": installerType(sc.OSType), "cpuId": "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "cpuCount": 4, "coreCount": 4, "totalMemory": 16384,
		"licenseKey": "", "externalId": "", "detectionState": "full_mode", "firstFullModeTime": ts(a.registeredAt),
		"accountId": sc.AccountID, "accountName": sc.AccountName, "siteId": sc.SiteID, "siteName": sc.SiteName,
		"groupId": sc.GroupID, "groupName": sc.GroupName, "groupUpdatedAt": nil, "policyUpdatedAt": nil,
		"createdAt": ts(a.createdAt), "registeredAt": ts(a.registeredAt), "updatedAt": ts(a.updatedAt),
		"cloudProviders": map[string]any{}, "hasContainerizedWorkload": false, "containerizedWorkloadCounts": nil,
		"storageName": nil, "storageType": nil, "showAlertIcon": false,
		"tags": map[string]any{"sentinelone": tags},
	}
}

func modelName(sc scenario.Agent) string {
	switch sc.MachineType {
	case "server":
		return "VMware, Inc. - VMware Virtual Platform"
	case "laptop":
		return "Dell Inc. - Latitude 7440"
	default:
		return "Dell Inc. - OptiPlex 7010"
	}
}

func installerType(osType string) string {
	switch osType {
	case "linux":
		return ".deb"
	case "macos":
		return ".pkg"
	default:
		return ".msi"
	}
}

func groupIP(ip string) any {
	if i := strings.LastIndex(ip, "."); i > 0 {
		return ip[:i] + ".x"
	}
	return nil
}

func networkInterfaces(sc scenario.Agent) []map[string]any {
	if sc.LastIPToMgmt == "" {
		return []map[string]any{}
	}
	mac := scenario.FakeHex(sc.ID+"mac", 12)
	physical := fmt.Sprintf("%s:%s:%s:%s:%s:%s", mac[0:2], mac[2:4], mac[4:6], mac[6:8], mac[8:10], mac[10:12])
	name := "Ethernet0"
	if sc.OSType == "linux" {
		name = "eth0"
	}
	gw := any(nil)
	if i := strings.LastIndex(sc.LastIPToMgmt, "."); i > 0 {
		gw = sc.LastIPToMgmt[:i] + ".1"
	}
	return []map[string]any{{
		"id": sc.ID[:len(sc.ID)-1] + "9", "name": name, "inet": []string{sc.LastIPToMgmt}, "inet6": []string{"fe80::" + scenario.FakeHex(sc.ID, 4) + ":" + scenario.FakeHex(sc.UUID, 4)},
		"physical": physical, "gatewayIp": gw, "gatewayMacAddress": nil,
	}}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rebootRequired reports whether any mitigation on the agent awaits a reboot.
func (s *Simulator) rebootRequired(a *agent) bool {
	for _, t := range s.threats {
		if t.sc.AgentID == a.sc.ID && slices.ContainsFunc(t.mitigations, func(m *mitigation) bool { return m.status == "pending-reboot" }) {
			return true
		}
	}
	return false
}

func (s *Simulator) activeThreats(a *agent) int {
	n := 0
	for _, t := range s.threats {
		if t.sc.AgentID == a.sc.ID && t.incidentStatus != "resolved" && t.mitigationStatus == "not_mitigated" {
			n++
		}
	}
	return n
}

func renderMitigation(m *mitigation) map[string]any {
	out := map[string]any{
		"action": m.action, "status": m.status, "lastUpdate": ts(m.lastAt),
		"latestReport": nil, "reportId": m.reportID, "groupNotFound": false, "agentSupportsReport": true,
		"mitigationStartedAt": ts(m.startedAt), "mitigationEndedAt": ts(m.endedAt), "actionsCounters": nil,
	}
	if m.settled() {
		c := map[string]any{"total": 1, "success": 0, "failed": 0, "pendingReboot": 0, "notFound": 0}
		c[map[string]string{"success": "success", "failed": "failed", "pending-reboot": "pendingReboot"}[m.status]] = 1
		out["latestReport"] = "/threats/mitigation-report/" + m.reportID
		out["actionsCounters"] = c
	}
	return out
}

func fileExtension(p string) (ext, kind string) {
	base := path.Base(strings.ReplaceAll(p, `\`, "/"))
	i := strings.LastIndex(base, ".")
	if i <= 0 || i == len(base)-1 {
		return "", "Unknown"
	}
	ext = strings.ToUpper(base[i+1:])
	switch strings.ToLower(ext) {
	case "exe", "dll", "sys", "scr", "com", "msi":
		kind = "Executable"
	case "ps1", "vbs", "js", "bat", "cmd", "sh", "py", "hta":
		kind = "Script"
	case "doc", "docx", "docm", "xls", "xlsx", "xlsm", "pdf", "rtf":
		kind = "Document"
	case "zip", "rar", "7z", "gz", "iso":
		kind = "Archive"
	default:
		kind = "Unknown"
	}
	return ext, kind
}

func displayName(p string) string {
	return path.Base(strings.ReplaceAll(p, `\`, "/"))
}

func (s *Simulator) renderThreat(t *threat, now time.Time) map[string]any {
	sc := t.sc
	a := s.agents[sc.AgentID]
	ag := a.sc
	ext, extType := fileExtension(sc.FilePath)
	size := int64(0)
	if sc.FileSize != nil {
		size = *sc.FileSize
	} else if n, err := strconv.ParseUint(sc.SHA1[:5], 16, 64); err == nil {
		size = int64(n) + 20000
	}
	engines := sc.Engines
	if engines == nil {
		engines = []string{}
	}
	detEngines := []map[string]any{}
	for _, e := range engines {
		detEngines = append(detEngines, map[string]any{"key": or(engineKeys[e], strings.ToLower(strings.ReplaceAll(e, " ", "_"))), "title": e})
	}
	pending, failed, reboot := false, false, false
	reports := []map[string]any{}
	for _, m := range t.mitigations {
		pending = pending || m.status == "pending" || m.status == "sent"
		failed = failed || m.status == "failed"
		reboot = reboot || m.status == "pending-reboot"
		reports = append(reports, renderMitigation(m))
	}
	agentReboot := s.rebootRequired(a)
	whitening := []string{"hash", "path"}
	if sc.PublisherName != "" && sc.FileVerificationType == "SignedVerified" {
		whitening = append(whitening, "certificate")
	}
	return map[string]any{
		"id": sc.ID,
		"threatInfo": map[string]any{
			"threatId": sc.ID, "threatName": sc.ThreatName, "sha1": sc.SHA1, "sha256": nilIfEmpty(sc.SHA256), "md5": nilIfEmpty(sc.MD5),
			"confidenceLevel": sc.ConfidenceLevel, "classification": sc.Classification, "classificationSource": sc.ClassificationSource,
			"mitigationStatus": t.mitigationStatus, "mitigationStatusDescription": mitigationDescriptions[t.mitigationStatus],
			"analystVerdict": t.analystVerdict, "analystVerdictDescription": verdictDescriptions[t.analystVerdict],
			"incidentStatus": t.incidentStatus, "incidentStatusDescription": incidentDescriptions[t.incidentStatus],
			"initiatedBy": sc.InitiatedBy, "initiatedByDescription": titleWords(sc.InitiatedBy),
			"initiatingUserId": nil, "initiatingUsername": nil,
			"detectionType": sc.DetectionType, "engines": engines, "detectionEngines": detEngines,
			"filePath": sc.FilePath, "fileExtension": ext, "fileExtensionType": extType, "fileSize": size,
			"fileVerificationType": or(sc.FileVerificationType, "NotSigned"), "certificateId": "",
			"publisherName": sc.PublisherName, "isValidCertificate": sc.FileVerificationType == "SignedVerified",
			"isFileless": sc.IsFileless, "maliciousProcessArguments": sc.MaliciousProcessArguments,
			"originatorProcess": sc.OriginatorProcess, "processUser": sc.ProcessUser,
			"storyline": sc.Storyline, "collectionId": t.collectionID,
			"createdAt": ts(t.createdAt), "updatedAt": ts(t.updatedAt), "identifiedAt": ts(t.createdAt.Add(-250 * time.Millisecond)),
			"mitigatedPreemptively": false, "automaticallyResolved": false, "cloudFilesHashVerdict": cloudVerdict(sc.ConfidenceLevel),
			"externalTicketId": nilIfEmpty(t.externalTicketID), "externalTicketExists": t.externalTicketID != "",
			"pendingActions": pending, "failedActions": failed, "rebootRequired": reboot, "reachedEventsLimit": false,
			"browserType": nil, "macroModules": []any{}, "rootProcessUpn": nil,
		},
		"agentRealtimeInfo": map[string]any{
			"agentId": ag.ID, "agentUuid": ag.UUID, "agentComputerName": ag.ComputerName, "agentDomain": ag.Domain,
			"agentOsType": ag.OSType, "agentOsName": ag.OSName, "agentOsRevision": ag.OSRevision, "agentVersion": ag.AgentVersion,
			"agentMachineType": ag.MachineType, "agentNetworkStatus": a.networkStatus, "agentIsActive": a.isActive && a.online,
			"agentIsDecommissioned": false, "agentDecommissionedAt": nil, "agentInfected": s.activeThreats(a) > 0,
			"agentMitigationMode": or(ag.MitigationMode, "protect"), "activeThreats": s.activeThreats(a),
			"accountId": ag.AccountID, "accountName": ag.AccountName, "siteId": ag.SiteID, "siteName": ag.SiteName,
			"groupId": ag.GroupID, "groupName": ag.GroupName, "networkInterfaces": networkInterfaces(ag),
			"operationalState": "na", "rebootRequired": agentReboot, "scanStatus": "finished",
			"scanStartedAt": ts(a.registeredAt.Add(time.Hour)), "scanFinishedAt": ts(a.registeredAt.Add(2 * time.Hour)), "scanAbortedAt": nil,
			"userActionsNeeded": []any{}, "storageName": nil, "storageType": nil,
		},
		"agentDetectionInfo": map[string]any{
			"accountId": ag.AccountID, "accountName": ag.AccountName, "siteId": ag.SiteID, "siteName": ag.SiteName,
			"groupId": ag.GroupID, "groupName": ag.GroupName, "agentIpV4": ag.LastIPToMgmt, "agentIpV6": "",
			"externalIp": ag.ExternalIP, "agentDomain": ag.Domain, "agentUuid": ag.UUID, "agentVersion": ag.AgentVersion,
			"agentOsName": ag.OSName, "agentOsRevision": ag.OSRevision, "agentRegisteredAt": ts(a.registeredAt),
			"agentMitigationMode": or(ag.MitigationMode, "protect"), "agentDetectionState": "full_mode",
			"agentLastLoggedInUserName": ag.LastLoggedInUserName, "agentLastLoggedInUserMail": nil, "agentLastLoggedInUpn": nil,
			"assetVersion": nil, "cloudProviders": map[string]any{},
		},
		"mitigationStatus": reports,
		"indicators":       renderIndicators(sc.Indicators),
		"containerInfo":    renderContainer(sc.Workload),
		"kubernetesInfo":   renderKubernetes(sc.Workload),
		"ecsInfo":          renderECS(sc.Workload),
		"whiteningOptions": whitening,
	}
}

func renderContainer(w *scenario.Workload) map[string]any {
	c := &scenario.Container{}
	if w != nil && w.Container != nil {
		c = w.Container
	}
	return map[string]any{"id": nilIfEmpty(c.ID), "name": nilIfEmpty(c.Name), "image": nilIfEmpty(c.Image),
		"labels": nil, "isContainerQuarantine": nil}
}

func renderKubernetes(w *scenario.Workload) map[string]any {
	k := &scenario.Kubernetes{}
	if w != nil && w.Kubernetes != nil {
		k = w.Kubernetes
	}
	return map[string]any{
		"cluster": nilIfEmpty(k.Cluster), "namespace": nilIfEmpty(k.Namespace), "namespaceLabels": nil,
		"pod": nilIfEmpty(k.Pod), "podLabels": nil, "node": nilIfEmpty(k.Node), "nodeLabels": nil,
		"controllerKind": nilIfEmpty(k.ControllerKind), "controllerName": nilIfEmpty(k.ControllerName),
		"controllerLabels": nil, "isContainerQuarantine": nil,
	}
}

func renderECS(w *scenario.Workload) map[string]any {
	e := &scenario.ECS{}
	if w != nil && w.ECS != nil {
		e = w.ECS
	}
	return map[string]any{
		"type": nilIfEmpty(e.Type), "version": nil, "clusterName": nilIfEmpty(e.ClusterName), "taskArn": nilIfEmpty(e.TaskArn),
		"taskAvailabilityZone": nilIfEmpty(e.TaskAvailabilityZone), "serviceName": nilIfEmpty(e.ServiceName), "serviceArn": nil,
		"taskDefinitionFamily": nilIfEmpty(e.TaskDefinitionFamily), "taskDefinitionRevision": nilIfEmpty(e.TaskDefinitionRevision),
		"taskDefinitionArn": nil,
	}
}

func cloudVerdict(confidence string) any {
	if confidence == "malicious" {
		return "black"
	}
	return "provider_unknown"
}

func renderIndicators(in []scenario.Indicator) []map[string]any {
	out := []map[string]any{}
	for i, ind := range in {
		tactics := []map[string]any{}
		for _, tac := range ind.Tactics {
			techs := []map[string]any{}
			for _, tech := range tac.Techniques {
				techs = append(techs, map[string]any{"name": tech.Name, "link": tech.Link})
			}
			tactics = append(tactics, map[string]any{"name": tac.Name, "source": or(tac.Source, "MITRE"), "techniques": techs})
		}
		out = append(out, map[string]any{
			"category": ind.Category, "description": ind.Description, "ids": []int{i + 1}, "tactics": tactics,
		})
	}
	return out
}

// renderActivity renders an activity (timeline entry or /activities item);
// data carries the threat context the console puts on every threat
// activity, overlaid with the entry's own.
func (s *Simulator) renderActivity(act *activity) map[string]any {
	var a scenario.Agent
	if act.agent != nil {
		a = act.agent.sc
	}
	data := map[string]any{
		"accountName": a.AccountName, "siteName": a.SiteName, "groupName": a.GroupName, "computerName": a.ComputerName,
		"scopeLevel": "Group", "scopeName": a.GroupName, "username": nil,
		"fullScopeDetails": fmt.Sprintf("Group %s in Site %s of Account %s", a.GroupName, a.SiteName, a.AccountName),
	}
	threatID, hash := any(nil), any(nil)
	if t := act.threat; t != nil {
		threatID, hash = t.sc.ID, t.sc.SHA1
		data["confidenceLevel"], data["fileContentHash"] = t.sc.ConfidenceLevel, t.sc.SHA1
		data["fileDisplayName"], data["filePath"] = displayName(t.sc.FilePath), t.sc.FilePath
		data["threatClassification"], data["threatClassificationSource"] = t.sc.Classification, t.sc.ClassificationSource
	}
	for k, v := range act.data {
		data[k] = v
	}
	userID := any(nil)
	if act.user != nil {
		userID = act.user.id
		data["username"] = act.user.name
	}
	u := scenario.FakeHex(act.id+"uuid", 32)
	return map[string]any{
		"id": act.id, "activityType": act.code, "activityUuid": u[:8] + "-" + u[8:12] + "-" + u[12:16] + "-" + u[16:20] + "-" + u[20:],
		"primaryDescription": act.primary, "secondaryDescription": nilIfEmpty(act.secondary),
		"description": nil, "comments": nil,
		"createdAt": ts(act.createdAt), "updatedAt": ts(act.createdAt), "data": data,
		"threatId": threatID, "agentId": nilIfEmpty(a.ID), "accountId": nilIfEmpty(a.AccountID), "accountName": nilIfEmpty(a.AccountName),
		"siteId": nilIfEmpty(a.SiteID), "siteName": nilIfEmpty(a.SiteName), "groupId": nilIfEmpty(a.GroupID), "groupName": nilIfEmpty(a.GroupName),
		"hash": hash, "osFamily": nilIfEmpty(a.OSType), "agentUpdatedVersion": nil, "userId": userID,
	}
}

func renderNote(n *note) map[string]any {
	return map[string]any{
		"id": n.id, "text": n.text, "creator": apiUserName, "creatorId": apiUserID,
		"createdAt": ts(n.createdAt), "updatedAt": ts(n.createdAt), "edited": false,
	}
}
