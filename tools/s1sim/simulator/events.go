package simulator

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/hunt/s1ql"
	"github.com/s1copilot/s1copilot/scenario"
)

// event is a stored explore/DV event: a threat's, or an agent's own (a
// scenario's top-level events, threat nil), which only DV queries find.
type event struct {
	id        string
	seq       uint64
	createdAt time.Time
	sc        scenario.Event
	threat    *threat
	agent     *agent
}

// AddEvents adds events tied to no threat at runtime, for hunting: Deep
// Visibility queries initiated afterwards find them. before is relative to
// now. Nothing is added unless every event is valid.
func (s *Simulator) AddEvents(evs []scenario.AgentEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var problems []string
	for i := range evs {
		if err := evs[i].Validate(func(id string) bool { return s.agents[id] != nil }); err != nil {
			problems = append(problems, fmt.Sprintf("events[%d]: %v", i, err))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	s.addAgentEvents(evs, s.clock())
	return nil
}

// adminAddEvents serves POST /sim/events: {"events":[…scenario top-level events…]}.
func (s *Simulator) adminAddEvents(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Events []scenario.AgentEvent `json:"events"`
	}
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10), &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if len(body.Events) == 0 {
		writeErrors(w, http.StatusBadRequest, validationError("events: Missing data for required field."))
		return
	}
	if err := s.AddEvents(body.Events); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("%v", err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"affected": len(body.Events)}})
}

// addAgentEvents stores events tied to no threat. before is relative to now
// (the scenario's load). Callers hold mu; evs were validated.
func (s *Simulator) addAgentEvents(evs []scenario.AgentEvent, now time.Time) {
	for _, ae := range evs {
		at := now
		if ae.At != "" {
			at, _ = time.Parse(time.RFC3339Nano, ae.At)
			at = at.UTC().Truncate(time.Microsecond)
		} else {
			d, _ := time.ParseDuration(or(ae.Before, "0s"))
			at = now.Add(-d)
		}
		s.agentEvents = append(s.agentEvents, &event{id: s.allocID(), seq: s.nextSeq(), createdAt: at, sc: ae.Event, agent: s.agents[ae.AgentID]})
	}
}

// addEvents stores the threat's events, deriving a default process chain
// when the scenario gives none. Callers hold mu.
func (s *Simulator) addEvents(t *threat) {
	evs := t.sc.Events
	if len(evs) == 0 {
		evs = s.defaultEvents(t)
	}
	for _, e := range evs {
		d, _ := time.ParseDuration(or(e.Before, "0s")) // validated
		t.events = append(t.events, &event{id: s.allocID(), seq: s.nextSeq(), createdAt: t.createdAt.Add(-d), sc: e, threat: t, agent: s.agents[t.sc.AgentID]})
	}
}

// defaultEvents derives: the originator process starting, it writing the
// threat file (unless fileless), the threat process starting with the
// malicious arguments, and one behavioural indicator per threat indicator.
func (s *Simulator) defaultEvents(t *threat) []scenario.Event {
	sc := t.sc
	a := s.agents[sc.AgentID].sc
	shell, grand := "bash", "sshd"
	if a.OSType == "windows" || a.OSType == "windows_legacy" {
		shell, grand = "explorer.exe", "userinit.exe"
	}
	origin := or(sc.OriginatorProcess, shell)
	name := displayName(sc.FilePath)
	pidOf := func(seed string) int {
		n, _ := strconv.ParseUint(scenario.FakeHex(sc.ID+seed, 4), 16, 32)
		return int(n%60000) + 1000
	}
	user := or(sc.ProcessUser, a.LastLoggedInUserName)
	image := imagePath(sc.FilePath)
	evs := []scenario.Event{{
		EventType: "Process Creation", Before: "30s", ProcessName: origin, ProcessUserName: user,
		PID: pidOf("origin"), ParentProcessName: grand, ParentPID: pidOf("grand"),
		ProcessImagePath: originImage(origin, a.OSType), ProcessCmd: origin,
	}}
	if !sc.IsFileless {
		evs = append(evs, scenario.Event{
			EventType: "File Creation", Before: "20s", ProcessName: origin, PID: pidOf("origin"), ProcessUserName: user,
			FileFullName: image, FileSHA1: sc.SHA1,
		})
	}
	evs = append(evs, scenario.Event{
		EventType: "Process Creation", Before: "10s", ProcessName: name, ProcessCmd: or(sc.MaliciousProcessArguments, image),
		ProcessImagePath: image, ProcessUserName: user, PID: pidOf("threat"), ParentProcessName: origin, ParentPID: pidOf("origin"),
		FileSHA1: sc.SHA1,
	})
	for _, ind := range sc.Indicators {
		evs = append(evs, scenario.Event{
			EventType: "Behavioral Indicators", ProcessName: name, PID: pidOf("threat"), ProcessUserName: user,
			IndicatorCategory: ind.Category, IndicatorName: strings.ReplaceAll(ind.Category, " ", "") + "Detected", IndicatorDescription: ind.Description,
		})
	}
	return evs
}

var deviceVolumeRE = regexp.MustCompile(`^\\Device\\HarddiskVolume\d+\\`)

// imagePath turns a kernel device path into the drive path DV shows.
func imagePath(p string) string {
	return deviceVolumeRE.ReplaceAllString(p, `C:\`)
}

func originImage(proc, osType string) string {
	switch {
	case osType == "linux" || osType == "macos":
		return "/usr/bin/" + proc
	case strings.EqualFold(proc, "explorer.exe"):
		return `C:\Windows\explorer.exe`
	default:
		return `C:\Windows\System32\` + proc
	}
}

const dvTimeLayout = "2006-01-02T15:04:05.000Z"

func dvTime(t time.Time) string { return t.UTC().Format(dvTimeLayout) }

func nilIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return strconv.Itoa(n)
}

// renderEvent renders an event with the legacy DV names plus the newer flat
// fields real responses carry; like the console, most values are strings.
func (s *Simulator) renderEvent(e *event) map[string]any {
	a := e.agent
	ag := a.sc
	sc := e.sc
	related, storyline, owner := e.relatedToThreat(), e.storyline(), e.id
	if e.threat != nil {
		owner = e.threat.sc.ID
	}
	procKey := strings.ToUpper(scenario.FakeHex(owner+sc.ProcessName+strconv.Itoa(sc.PID), 16))
	return map[string]any{
		"id": e.id, "objectType": sc.ObjectType(), "eventType": sc.EventType,
		"createdAt": dvTime(e.createdAt), "eventTime": dvTime(e.createdAt), "agentTimestamp": dvTime(e.createdAt),
		"user": nilIfEmpty(sc.ProcessUserName), "processUserName": nilIfEmpty(sc.ProcessUserName),
		"processName": nilIfEmpty(sc.ProcessName), "processCmd": nilIfEmpty(sc.ProcessCmd), "processImagePath": nilIfEmpty(sc.ProcessImagePath),
		"processImageSha1Hash": nilIfEmpty(map[bool]string{true: sc.FileSHA1}[sc.EventType == "Process Creation"]),
		"pid":                  nilIfZero(sc.PID), "parentPid": nilIfZero(sc.ParentPID), "parentProcessName": nilIfEmpty(sc.ParentProcessName),
		"processUniqueKey": procKey, "processGroupId": procKey, "processStartTime": dvTime(e.createdAt),
		"processIntegrityLevel": "MEDIUM", "tid": nil, "rpid": nil,
		"fileFullName": nilIfEmpty(sc.FileFullName), "fileSha1": nilIfEmpty(sc.FileSHA1), "fileSha256": nil, "fileMd5": nil,
		"srcIp": nilIfEmpty(sc.SrcIP), "srcPort": nilIfZero(sc.SrcPort), "dstIp": nilIfEmpty(sc.DstIP), "dstPort": nilIfZero(sc.DstPort),
		"dnsRequest": nilIfEmpty(sc.DNSRequest), "registryPath": nilIfEmpty(sc.RegistryPath),
		"indicatorCategory": nilIfEmpty(sc.IndicatorCategory), "indicatorName": nilIfEmpty(sc.IndicatorName),
		"indicatorDescription": nilIfEmpty(sc.IndicatorDescription),
		"relatedToThreat":      map[bool]string{true: "True", false: "False"}[related], "threatStatus": nil,
		"storyline": storyline, "trueContext": storyline,
		"agentName": ag.ComputerName, "agentId": ag.ID, "agentUuid": ag.UUID, "agentOs": ag.OSType, "agentMachineType": ag.MachineType,
		"agentDomain": ag.Domain, "agentGroupId": ag.GroupID, "agentIp": nilIfEmpty(ag.LastIPToMgmt), "agentVersion": ag.AgentVersion,
		"agentIsActive": a.isActive && a.online, "agentIsDecommissioned": false, "agentInfected": s.activeThreats(a) > 0,
		"agentNetworkStatus": a.networkStatus,
		"accountId":          ag.AccountID, "siteId": ag.SiteID, "siteName": ag.SiteName,
		"endpointName": ag.ComputerName, "endpointOs": ag.OSType, "endpointMachineType": ag.MachineType,
		"srcProcName": nilIfEmpty(sc.ProcessName), "srcProcCmdLine": nilIfEmpty(sc.ProcessCmd), "srcProcImagePath": nilIfEmpty(sc.ProcessImagePath),
		"srcProcPid": nilIfZero(sc.PID), "srcProcUser": nilIfEmpty(sc.ProcessUserName), "srcProcParentName": nilIfEmpty(sc.ParentProcessName),
		"srcProcParentPid": nilIfZero(sc.ParentPID), "srcProcStorylineId": storyline,
		"srcProcRelatedToThreat": map[bool]string{true: "True", false: "False"}[related],
		"srcProcCmdScript":       nilIfEmpty(sc.CmdScript),
		"tgtFilePath":            nilIfEmpty(sc.FileFullName),
		"tgtProcName":            nilIfEmpty(e.field("TgtProcName")), "tgtProcCmdLine": nilIfEmpty(e.field("TgtProcCmdLine")),
		"tgtProcImagePath": nilIfEmpty(e.field("TgtProcImagePath")),
		"dnsResponse":      nilIfEmpty(sc.DNSResponse), "networkUrl": nilIfEmpty(sc.NetworkURL),
		"taskName": nilIfEmpty(sc.TaskName), "taskPath": nilIfEmpty(sc.TaskPath), "loginsUserName": nilIfEmpty(sc.LoginsUserName),
	}
}

// relatedToThreat: a threat's events default to true, an agent's own to false.
func (e *event) relatedToThreat() bool {
	if e.sc.RelatedToThreat != nil {
		return *e.sc.RelatedToThreat
	}
	return e.threat != nil
}

// storyline is the threat's, or one derived from the event's process for an
// agent's own event (events of one process share it).
func (e *event) storyline() string {
	if e.threat != nil {
		return e.threat.sc.Storyline
	}
	return strings.ToUpper(scenario.FakeHex(e.agent.sc.ID+e.sc.ProcessName+strconv.Itoa(e.sc.PID), 16))
}

// field is the event's value of an S1QL field (hunt/s1ql's names), "" when it
// has none. The compact event describes one process, hence the mapping:
//
//   - SrcProc* and the legacy Process* are the event's process (processName,
//     processCmd, processImagePath, processUserName, pid); SrcProcParent* its
//     parent; SrcProcImageSha1 is fileSha1 on a "Process Creation" event.
//   - TgtProc* are tgtProc* when given; otherwise, on a "Process Creation"
//     event, the process created (the event's process, so both a SrcProc* and
//     a TgtProc* query find a process start); empty on other events.
//   - TgtFilePath and FileFullName are fileFullName; TgtFileSha1 and FileSha1
//     are fileSha1.
//   - RegistryKeyPath and RegistryPath are registryPath.
//   - AgentName and EndpointName are the agent's computerName, EndpointOs its
//     osType, AgentUuid and SiteName the agent's.
//   - The rest map to the field of the same name (dstIp, dnsRequest, taskName…).
func (e *event) field(name string) string {
	sc, ag := &e.sc, &e.agent.sc
	created := sc.EventType == "Process Creation"
	itoa := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	switch name {
	case "EventType":
		return sc.EventType
	case "ObjectType":
		return sc.ObjectType()
	case "AgentName", "EndpointName":
		return ag.ComputerName
	case "EndpointOs":
		return ag.OSType
	case "AgentUuid":
		return ag.UUID
	case "SiteName":
		return ag.SiteName
	case "SrcProcName", "ProcessName":
		return sc.ProcessName
	case "SrcProcCmdLine", "ProcessCmd":
		return sc.ProcessCmd
	case "SrcProcCmdScript":
		return sc.CmdScript
	case "SrcProcImagePath":
		return sc.ProcessImagePath
	case "SrcProcImageSha1":
		if created {
			return sc.FileSHA1
		}
	case "SrcProcUser", "ProcessUserName":
		return sc.ProcessUserName
	case "SrcProcPid":
		return itoa(sc.PID)
	case "SrcProcParentName":
		return sc.ParentProcessName
	case "SrcProcParentPid":
		return itoa(sc.ParentPID)
	case "SrcProcStorylineId":
		return e.storyline()
	case "TgtProcName":
		if sc.TgtProcName != "" || !created {
			return sc.TgtProcName
		}
		return sc.ProcessName
	case "TgtProcCmdLine":
		if sc.TgtProcCmdLine != "" || !created {
			return sc.TgtProcCmdLine
		}
		return sc.ProcessCmd
	case "TgtProcImagePath":
		if sc.TgtProcImagePath != "" || !created {
			return sc.TgtProcImagePath
		}
		return sc.ProcessImagePath
	case "TgtProcPid":
		if created && sc.TgtProcName == "" {
			return itoa(sc.PID)
		}
	case "TgtFilePath", "FileFullName":
		return sc.FileFullName
	case "TgtFileSha1", "FileSha1":
		return sc.FileSHA1
	case "RegistryKeyPath", "RegistryPath":
		return sc.RegistryPath
	case "IndicatorName":
		return sc.IndicatorName
	case "IndicatorCategory":
		return sc.IndicatorCategory
	case "IndicatorDescription":
		return sc.IndicatorDescription
	case "DstIp":
		return sc.DstIP
	case "DstPort":
		return itoa(sc.DstPort)
	case "SrcIp":
		return sc.SrcIP
	case "SrcPort":
		return itoa(sc.SrcPort)
	case "DnsRequest":
		return sc.DNSRequest
	case "DnsResponse":
		return sc.DNSResponse
	case "NetworkUrl":
		return sc.NetworkURL
	case "TaskName":
		return sc.TaskName
	case "TaskPath":
		return sc.TaskPath
	case "LoginsUserName":
		return sc.LoginsUserName
	}
	return ""
}

// trueFalse renders booleans the way DV does: as "True"/"False" strings.
var trueFalse = map[bool]string{true: "True", false: "False"}

func eventRow(e *event, sortBy string) row {
	return createdRow(sortBy, e.createdAt, e.id, e.seq, e)
}

// listExploreEvents serves GET /threats/{id}/explore/events. eventTypes
// matches an event's eventType or objectType, case-insensitively.
func (s *Simulator) listExploreEvents(w http.ResponseWriter, r *http.Request, params map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "explore:"+params["id"], []string{"createdAt", "id"}, "createdAt")
	types := q.csv("eventTypes")
	like := q.csv("processName__like")
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	t, unlock := s.lockThreat(w, params["id"])
	if t == nil {
		return
	}
	defer unlock()
	var rows []row
	for _, e := range t.events {
		if types != nil && !slices.ContainsFunc(types, func(v string) bool {
			return strings.EqualFold(v, e.sc.EventType) || strings.EqualFold(v, e.sc.ObjectType())
		}) {
			continue
		}
		if like != nil && !slices.ContainsFunc(like, func(v string) bool {
			return strings.Contains(strings.ToLower(e.sc.ProcessName), strings.ToLower(v))
		}) {
			continue
		}
		rows = append(rows, eventRow(e, lp.sortBy))
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderEvent(o.(*event)) })
}

// --- Deep Visibility -------------------------------------------------------

// dvQuery is one DV query. Its results are the stored events (threats' and
// agents' own) whose createdAt is within [from, to], whose agent is in
// siteIDs/accountIDs when given, that existed at init time (snap) and that
// match the S1QL query (hunt/s1ql's subset, fields mapped by event.field).
// A query with no results still ends FINISHED with no events, not
// EMPTY_RESULTS: the spec's responseState enum lacks EMPTY_RESULTS (only the
// endpoint's prose lists it) and a client reading FINISHED then events works
// for both.
type dvQuery struct {
	id         string
	query      string
	parsed     *s1ql.Query
	from, to   time.Time
	createdAt  time.Time
	snap       uint64
	cancelled  bool
	cancelAt   time.Time
	siteIDs    map[string]bool
	accountIDs map[string]bool
}

// state reports responseState and progressStatus at now.
func (q *dvQuery) state(now time.Time, delay time.Duration) (string, int) {
	at := now
	if q.cancelled {
		at = q.cancelAt
	}
	elapsed := at.Sub(q.createdAt)
	progress := 100
	if delay > 0 && elapsed < delay {
		progress = int(elapsed * 100 / delay)
	}
	switch {
	case q.cancelled && progress < 100:
		return "QUERY_CANCELLED", progress
	case progress < 100:
		return "RUNNING", progress
	default:
		return "FINISHED", 100
	}
}

func queryModeInfo(at time.Time) map[string]any {
	return map[string]any{"mode": "scalyr", "lastActivatedAt": at.UTC().Format("2006-01-02T15:04:05+00:00")}
}

func (s *Simulator) postDVInitQuery(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var body struct {
		Query      string   `json:"query"`
		FromDate   string   `json:"fromDate"`
		ToDate     string   `json:"toDate"`
		QueryType  []string `json:"queryType"`
		Limit      *int     `json:"limit"`
		IsVerbose  *bool    `json:"isVerbose"`
		TimeFrame  string   `json:"timeFrame"`
		SiteIDs    []string `json:"siteIds"`
		AccountIDs []string `json:"accountIds"`
		Tenant     any      `json:"tenant"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	var errs []apiError
	var parsed *s1ql.Query
	if strings.TrimSpace(body.Query) == "" {
		errs = append(errs, validationError("query: Missing data for required field."))
	} else if q, err := s1ql.Parse(body.Query); err != nil {
		// The console answers a query it cannot parse with a validation error
		// naming the problem; so does the simulator for anything outside the subset.
		errs = append(errs, validationError("query: %s", strings.TrimPrefix(err.Error(), "s1ql: ")))
	} else {
		parsed = q
	}
	parse := func(name, v string) time.Time {
		if v == "" {
			errs = append(errs, validationError("%s: Missing data for required field.", name))
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, validationError("%s: Not a valid datetime.", name))
		}
		return t
	}
	from, to := parse("fromDate", body.FromDate), parse("toDate", body.ToDate)
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		errs = append(errs, validationError("toDate: Must be later than fromDate."))
	}
	for i, qt := range body.QueryType {
		if qt != "events" && qt != "processState" {
			errs = append(errs, validationError("queryType: %d: Must be one of: events, processState.", i))
		}
	}
	if body.Limit != nil && (*body.Limit < 1 || *body.Limit > 100000) {
		errs = append(errs, validationError("limit: Must be greater than or equal to 1 and less than or equal to 100000."))
	}
	idSet := func(name string, ids []string) map[string]bool {
		if ids == nil {
			return nil
		}
		m := map[string]bool{}
		for i, id := range ids {
			if !scenario.ValidID(id) {
				errs = append(errs, validationError("%s: %d: Not a valid integer.", name, i))
			}
			m[id] = true
		}
		return m
	}
	sites, accounts := idSet("siteIds", body.SiteIDs), idSet("accountIds", body.AccountIDs)
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	id := "q" + scenario.FakeHex(fmt.Sprintf("dv%d-%s", s.nextSeq(), body.Query), 32)
	s.dvQueries[id] = &dvQuery{
		id: id, query: body.Query, parsed: parsed, from: from, to: to, createdAt: now, snap: s.seq,
		siteIDs: sites, accountIDs: accounts,
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"queryId": id, "queryModeInfo": queryModeInfo(now)}})
}

// dvQueryID reads queryId (or XSOAR's query_id).
func dvQueryID(q *query) string {
	id, _ := q.str("queryId")
	if alt, ok := q.str("query_id"); ok && id == "" {
		id = alt
	}
	if id == "" && len(q.errs) == 0 {
		q.errs = append(q.errs, validationError("queryId: Missing data for required field."))
	}
	return id
}

// getDVQueryStatus: an unknown queryId is 200 with responseState
// QUERY_NOT_FOUND (a state the spec's endpoint description lists).
func (s *Simulator) getDVQueryStatus(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	id := dvQueryID(q)
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	dq := s.dvQueries[id]
	if dq == nil {
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"responseState": "QUERY_NOT_FOUND", "progressStatus": 0, "warnings": nil}})
		return
	}
	state, progress := dq.state(now, s.opts.DVQueryDelay)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"responseState": state, "progressStatus": progress, "queryModeInfo": queryModeInfo(dq.createdAt), "warnings": nil,
	}})
}

// postDVCancelQuery answers QUERY_CANCELLED for a running query and the
// current state otherwise (the sample shows "FINISHED" for a done query);
// QUERY_NOT_FOUND for an unknown ID.
func (s *Simulator) postDVCancelQuery(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var body struct {
		QueryID string `json:"queryId"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if body.QueryID == "" {
		writeErrors(w, http.StatusBadRequest, validationError("queryId: Missing data for required field."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	dq := s.dvQueries[body.QueryID]
	result := "QUERY_NOT_FOUND"
	if dq != nil {
		if state, _ := dq.state(now, s.opts.DVQueryDelay); state == "RUNNING" {
			dq.cancelled, dq.cancelAt = true, now
		}
		result, _ = dq.state(now, s.opts.DVQueryDelay)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"success": result}})
}

// getDVEvents pages over the query's events; the query must be FINISHED
// (400 otherwise). subQuery, S1QL too, narrows the query's results further.
func (s *Simulator) getDVEvents(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	id := dvQueryID(q)
	lp := parseListParams(q, "dv:"+id, []string{"createdAt", "id"}, "createdAt")
	var sub *s1ql.Query
	if v, ok := q.str("subQuery"); ok && strings.TrimSpace(v) != "" {
		parsed, err := s1ql.Parse(v)
		if err != nil {
			q.errs = append(q.errs, validationError("subQuery: %s", strings.TrimPrefix(err.Error(), "s1ql: ")))
		}
		sub = parsed
	}
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	dq := s.dvQueries[id]
	if dq == nil {
		writeErrors(w, http.StatusBadRequest, validationError("queryId: Query %s not found.", id))
		return
	}
	if state, _ := dq.state(now, s.opts.DVQueryDelay); state != "FINISHED" {
		writeErrors(w, http.StatusBadRequest, validationError("queryId: Query is %s; poll /dv/query-status until FINISHED.", state))
		return
	}
	var rows []row
	consider := func(e *event) {
		a := e.agent.sc
		if e.seq > dq.snap || e.createdAt.Before(dq.from) || e.createdAt.After(dq.to) ||
			!in(dq.siteIDs, a.SiteID) || !in(dq.accountIDs, a.AccountID) {
			return
		}
		if !dq.parsed.Match(e.field) || sub != nil && !sub.Match(e.field) {
			return
		}
		rows = append(rows, eventRow(e, lp.sortBy))
	}
	for _, t := range s.threats {
		for _, e := range t.events {
			consider(e)
		}
	}
	for _, e := range s.agentEvents {
		consider(e)
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderEvent(o.(*event)) })
}
