package simulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
)

// APIPrefix is the path prefix of the emulated Management API.
const APIPrefix = "/web/api/v2.1"

// Error codes. 4000010 and 4010010 are observed console values; the others
// follow the same "<HTTP status>0010" pattern and are simulator-chosen.
const (
	codeValidation   = 4000010
	codeAuth         = 4010010
	codeNotFound     = 4040010
	codeMethod       = 4050010
	codeInternal     = 5000010
	maxRequestBodyKB = 1024
)

// route is one endpoint; a "{name}" segment matches any single segment.
type route struct {
	method  string
	pattern string
	segs    []string
	handle  func(s *Simulator, w http.ResponseWriter, r *http.Request, params map[string]string)
}

var routes = func() []route {
	rs := []route{
		{method: "GET", pattern: "/threats", handle: (*Simulator).listThreats},
		{method: "GET", pattern: "/threats/{id}/timeline", handle: (*Simulator).listTimeline},
		{method: "GET", pattern: "/threats/{id}/notes", handle: (*Simulator).listNotes},
		{method: "POST", pattern: "/threats/notes", handle: (*Simulator).postNotes},
		{method: "POST", pattern: "/threats/mitigate/{action}", handle: (*Simulator).postMitigate},
		{method: "POST", pattern: "/threats/analyst-verdict", handle: (*Simulator).postVerdict},
		{method: "POST", pattern: "/threats/incident", handle: (*Simulator).postIncident},
		{method: "POST", pattern: "/threats/external-ticket-id", handle: (*Simulator).postExternalTicket},
		{method: "GET", pattern: "/agents", handle: (*Simulator).listAgents},
		{method: "POST", pattern: "/agents/actions/disconnect", handle: (*Simulator).postDisconnect},
		{method: "POST", pattern: "/agents/actions/connect", handle: (*Simulator).postConnect},
		{method: "GET", pattern: "/threats/{id}/explore/events", handle: (*Simulator).listExploreEvents},
		{method: "POST", pattern: "/threats/add-to-blacklist", handle: (*Simulator).postBlocklist},
		{method: "GET", pattern: "/activities", handle: (*Simulator).listActivities},
		{method: "POST", pattern: "/dv/init-query", handle: (*Simulator).postDVInitQuery},
		{method: "GET", pattern: "/dv/query-status", handle: (*Simulator).getDVQueryStatus},
		{method: "POST", pattern: "/dv/cancel-query", handle: (*Simulator).postDVCancelQuery},
		{method: "GET", pattern: "/dv/events", handle: (*Simulator).getDVEvents},
		{method: "POST", pattern: "/users/api-token-details", handle: (*Simulator).postTokenDetails},
		{method: "GET", pattern: "/remote-scripts", handle: (*Simulator).listRemoteScripts},
		{method: "POST", pattern: "/remote-scripts/execute", handle: (*Simulator).postScriptExecute},
		{method: "GET", pattern: "/remote-scripts/status", handle: (*Simulator).listScriptTasks},
		{method: "POST", pattern: "/remote-scripts/fetch-files", handle: (*Simulator).postScriptFetchFiles},
		{method: "GET", pattern: "/remote-scripts/pending-executions", handle: (*Simulator).listPendingExecutions},
		{method: "PUT", pattern: "/remote-scripts/pending-executions/{id}", handle: (*Simulator).putPendingExecution},
	}
	for i := range rs {
		rs[i].pattern = APIPrefix + rs[i].pattern
		rs[i].segs = strings.Split(strings.Trim(rs[i].pattern, "/"), "/")
	}
	return rs
}()

func (rt route) match(path string) (map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range rt.segs {
		if strings.HasPrefix(p, "{") {
			params[strings.Trim(p, "{}")] = segs[i]
		} else if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// Handler serves the Management API under /web/api/v2.1 and the admin
// endpoints under /sim (no auth; the simulator is a loopback tool).
func (s *Simulator) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sim/") {
			s.serveAdmin(w, r)
			return
		}
		s.serveAPI(w, r)
	})
}

func (s *Simulator) serveAPI(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, rt := range routes {
		params, ok := rt.match(r.URL.Path)
		if !ok {
			continue
		}
		if rt.method != r.Method {
			allowed = append(allowed, rt.method)
			continue
		}
		s.countRequest(rt, r, params)
		if !s.authorized(r) {
			s.mu.Lock()
			s.counters.Unauthorized++
			s.mu.Unlock()
			writeErrors(w, http.StatusUnauthorized, apiError{Code: codeAuth, Title: "Authentication Failed"})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10)
		s.guard(w, r, func(w http.ResponseWriter) { rt.handle(s, w, r, params) })
		return
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeErrors(w, http.StatusMethodNotAllowed, detailed(codeMethod, "Method Not Allowed", "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	writeErrors(w, http.StatusNotFound, detailed(codeNotFound, "Not Found", "no such endpoint: %s", r.URL.Path))
}

func (s *Simulator) countRequest(rt route, r *http.Request, params map[string]string) {
	key := r.Method + " " + rt.pattern
	// Mitigate keeps its literal action so tests can count kills vs quarantines.
	if a, ok := params["action"]; ok && scenario.MitigateActions.Has(a) {
		key = strings.Replace(key, "{action}", a, 1)
	}
	s.mu.Lock()
	s.counters.Requests[key]++
	// Reads by ID (GET /threats?ids=…) apart from lists, to tell the poller's share.
	if ids := r.URL.Query().Get("ids"); ids != "" && r.Method == http.MethodGet && (rt.pattern == APIPrefix+"/threats" || rt.pattern == APIPrefix+"/agents") {
		s.counters.ReadsByID[key]++
		s.counters.IDsRead[key] += strings.Count(ids, ",") + 1
	}
	s.mu.Unlock()
}

func (s *Simulator) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "ApiToken") {
		return false
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.Token)) != 1 {
		return false
	}
	return s.clock().Before(s.tokenExpiresAt) // an expired token is refused like a wrong one
}

// postTokenDetails serves POST /users/api-token-details: when the token in the body
// was created and expires. Not in the project's API reference; the shape is the one
// public integrations read (data.createdAt, data.expiresAt).
func (s *Simulator) postTokenDetails(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var body struct {
		Data struct {
			APIToken string `json:"apiToken"`
		} `json:"data"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if body.Data.APIToken == "" {
		writeErrors(w, http.StatusBadRequest, validationError("data.apiToken: Missing data for required field."))
		return
	}
	if subtle.ConstantTimeCompare([]byte(body.Data.APIToken), []byte(s.opts.Token)) != 1 {
		writeErrors(w, http.StatusBadRequest, validationError("data.apiToken: Invalid token."))
		return
	}
	const layout = "2006-01-02T15:04:05.000000Z"
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"createdAt": s.tokenCreatedAt.UTC().Format(layout),
		"expiresAt": s.tokenExpiresAt.UTC().Format(layout),
	}})
}

func detailed(code int, title, format string, args ...any) apiError {
	d := fmt.Sprintf(format, args...)
	return apiError{Code: code, Detail: &d, Title: title}
}

func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only reachable through a programming error in a renderer.
		status = http.StatusInternalServerError
		b = []byte(fmt.Sprintf(`{"errors":[{"code":%d,"detail":"encode response","title":"Internal Error"}]}`, codeInternal))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// --- lists ---------------------------------------------------------------

func (s *Simulator) listThreats(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "threats", []string{"createdAt", "updatedAt", "id"}, "createdAt")
	ids, agentIDs, siteIDs := q.ids("ids"), q.ids("agentIds"), q.ids("siteIds")
	accountIDs, groupIDs := q.ids("accountIds"), q.ids("groupIds")
	hashes := lowerSet(q.csv("contentHashes")) // SHA1s (reference §2.2)
	created, updated := q.timeRange("createdAt"), q.timeRange("updatedAt")
	resolved := q.boolean("resolved")
	incident, verdicts := q.enums("incidentStatuses", scenario.IncidentStatuses), q.enums("analystVerdicts", scenario.AnalystVerdicts)
	mitStatuses, confidence := q.enums("mitigationStatuses", scenario.MitigationStatuses), q.enums("confidenceLevels", scenario.ConfidenceLevels)
	// externalTicketIds, externalTicketExists (tickets.go)
	ticketed := ticketFilter(q)
	// k8s*/container* __contains (workload.go)
	onWorkload := workloadFilter(q)
	q.boolean("tenant") // single-tenant simulator: accepted, no effect
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	var rows []row
	for _, t := range s.threats {
		a := s.agents[t.sc.AgentID].sc
		if now.Before(t.visibleAt) {
			continue // not indexed yet (visibleAfter)
		}
		if !in(ids, t.sc.ID) || !in(agentIDs, a.ID) || !in(siteIDs, a.SiteID) || !in(accountIDs, a.AccountID) ||
			!in(groupIDs, a.GroupID) || !in(incident, t.incidentStatus) || !in(verdicts, t.analystVerdict) ||
			!in(mitStatuses, t.mitigationStatus) || !in(confidence, t.sc.ConfidenceLevel) ||
			!in(hashes, strings.ToLower(t.sc.SHA1)) || !created(t.createdAt) || !updated(t.updatedAt) || !ticketed(t) || !onWorkload(t) {
			continue
		}
		if resolved != nil && *resolved != (t.incidentStatus == "resolved") {
			continue
		}
		key := timeKey(t.createdAt)
		switch lp.sortBy {
		case "updatedAt":
			key = timeKey(t.updatedAt)
		case "id":
			key = idKey(t.sc.ID)
		}
		rows = append(rows, row{key: key, id: idKey(t.sc.ID), seq: t.seq, obj: t})
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderThreat(o.(*threat), now) })
}

// writePage renders only the page's objects (rendering is the costly part).
func (s *Simulator) writePage(w http.ResponseWriter, rows []row, lp listParams, render func(any) any) {
	data, pagination := paginate(rows, lp, s.seq)
	for i := range data {
		data[i] = render(data[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "pagination": pagination})
}

func in(set map[string]bool, v string) bool { return set == nil || set[v] }

// lowerSet is vals as a lower-cased set (hashes compare case-insensitively); nil stays nil.
func lowerSet(vals []string) map[string]bool {
	if vals == nil {
		return nil
	}
	m := map[string]bool{}
	for _, v := range vals {
		m[strings.ToLower(v)] = true
	}
	return m
}

// agentsWithThreat returns the IDs of agents with a visible threat whose SHA1 is in
// hashes. Callers hold mu.
func (s *Simulator) agentsWithThreat(hashes map[string]bool, now time.Time) map[string]bool {
	out := map[string]bool{}
	for _, t := range s.threats {
		if !now.Before(t.visibleAt) && hashes[strings.ToLower(t.sc.SHA1)] {
			out[t.sc.AgentID] = true
		}
	}
	return out
}

// threatFromPath resolves {id}; callers hold mu.
// lockThreat locks the simulator, settles what is due and finds the threat of a
// sub-resource path. Without one it answers 404, unlocks and returns nil; otherwise the
// caller must call unlock.
func (s *Simulator) lockThreat(w http.ResponseWriter, id string) (t *threat, unlock func()) {
	s.mu.Lock()
	s.advance(s.clock())
	if t = s.threatFromPath(w, id); t == nil {
		s.mu.Unlock()
		return nil, nil
	}
	return t, s.mu.Unlock
}

func (s *Simulator) threatFromPath(w http.ResponseWriter, id string) *threat {
	if !scenario.ValidID(id) {
		writeErrors(w, http.StatusBadRequest, validationError("threat_id: Not a valid integer."))
		return nil
	}
	t := s.threats[id]
	if t == nil {
		writeErrors(w, http.StatusNotFound, detailed(codeNotFound, "Not Found", "threat %s not found", id))
	}
	return t
}

func (s *Simulator) listTimeline(w http.ResponseWriter, r *http.Request, params map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "timeline:"+params["id"], []string{"createdAt", "id"}, "createdAt")
	var types map[string]bool
	if parts := q.csv("activityTypes"); parts != nil {
		types = map[string]bool{}
		for i, p := range parts {
			if !scenario.ValidID(p) {
				q.errs = append(q.errs, validationError("activityTypes: %d: Not a valid integer.", i))
			}
			types[p] = true
		}
	}
	if errs := q.finish("accountIds", "siteIds", "groupIds"); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	t, unlock := s.lockThreat(w, params["id"])
	if t == nil {
		return
	}
	defer unlock()
	var rows []row
	for _, act := range t.timeline {
		if !in(types, fmt.Sprint(act.code)) {
			continue
		}
		rows = append(rows, createdRow(lp.sortBy, act.createdAt, act.id, act.seq, act))
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderActivity(o.(*activity)) })
}

func (s *Simulator) listNotes(w http.ResponseWriter, r *http.Request, params map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "notes:"+params["id"], []string{"createdAt", "id"}, "createdAt")
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
	for _, n := range t.notes {
		rows = append(rows, createdRow(lp.sortBy, n.createdAt, n.id, n.seq, n))
	}
	s.writePage(w, rows, lp, func(o any) any { return renderNote(o.(*note)) })
}

func (s *Simulator) listAgents(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "agents", []string{"id", "computerName", "createdAt", "updatedAt"}, "id")
	ids, siteIDs := q.ids("ids"), q.ids("siteIds")
	accountIDs, groupIDs := q.ids("accountIds"), q.ids("groupIds")
	uuids := q.csv("uuids")
	names := q.csv("computerName")
	contains := q.csv("computerName__contains")
	netStatuses := q.enums("networkStatuses", scenario.NetworkStatuses)
	osTypesF := q.enums("osTypes", scenario.OSTypes)
	// threatContentHash: agents that reported a threat with one of these SHA1s (the
	// console's "where else was this file seen").
	threatHashes := lowerSet(q.csv("threatContentHash"))
	q.boolean("tenant")
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	var withHash map[string]bool
	if threatHashes != nil {
		withHash = s.agentsWithThreat(threatHashes, now)
	}
	var rows []row
	for _, a := range s.agents {
		sc := a.sc
		if !in(ids, sc.ID) || !in(siteIDs, sc.SiteID) || !in(accountIDs, sc.AccountID) || !in(groupIDs, sc.GroupID) ||
			!in(netStatuses, a.networkStatus) || !in(osTypesF, sc.OSType) {
			continue
		}
		if uuids != nil && !slices.Contains(uuids, sc.UUID) || names != nil && !slices.Contains(names, sc.ComputerName) {
			continue
		}
		if withHash != nil && !withHash[sc.ID] {
			continue
		}
		if contains != nil && !slices.ContainsFunc(contains, func(c string) bool {
			return strings.Contains(strings.ToLower(sc.ComputerName), strings.ToLower(c))
		}) {
			continue
		}
		var key string
		switch lp.sortBy {
		case "computerName":
			key = strings.ToLower(sc.ComputerName)
		case "createdAt":
			key = timeKey(a.createdAt)
		case "updatedAt":
			key = timeKey(a.updatedAt)
		default:
			key = idKey(sc.ID)
		}
		rows = append(rows, row{key: key, id: idKey(sc.ID), seq: a.seq, obj: a})
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderAgent(o.(*agent), now) })
}

// --- actions ---------------------------------------------------------------

// actionBody is the {"filter":{...},"data":{...}} envelope of POST actions.
type actionBody struct {
	Filter map[string]json.RawMessage `json:"filter"`
	Data   json.RawMessage            `json:"data"`
}

// actionFilter holds the filter keys the simulator understands.
type actionFilter struct {
	ids, agentIDs, siteIDs, accountIDs, groupIDs map[string]bool
}

func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// readAction decodes the envelope and its filter; data is decoded into
// dataOut when non-nil. It writes the 400 itself and returns false on error.
func readAction(w http.ResponseWriter, r *http.Request, filterKeys []string, dataOut any) (actionFilter, bool) {
	var body actionBody
	var f actionFilter
	if err := decodeStrict(r.Body, &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return f, false
	}
	if body.Filter == nil {
		writeErrors(w, http.StatusBadRequest, validationError("filter: Missing data for required field."))
		return f, false
	}
	var errs []apiError
	targets := map[string]*map[string]bool{
		"ids": &f.ids, "agentIds": &f.agentIDs, "siteIds": &f.siteIDs, "accountIds": &f.accountIDs, "groupIds": &f.groupIDs,
	}
	restricted := false
	for _, key := range slices.Sorted(maps.Keys(body.Filter)) {
		raw := body.Filter[key]
		if key == "tenant" {
			continue // single tenant: accepted (bool or "true"), no effect
		}
		dst, ok := targets[key]
		if !ok || !slices.Contains(filterKeys, key) {
			errs = append(errs, validationError("filter.%s: Unknown field.", key))
			continue
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			errs = append(errs, validationError("filter.%s: Not a valid list of id strings.", key))
			continue
		}
		set := map[string]bool{}
		for i, id := range list {
			if !scenario.ValidID(id) {
				errs = append(errs, validationError("filter.%s: %d: Not a valid integer.", key, i))
			}
			set[id] = true
		}
		*dst = set
		restricted = true
	}
	if len(errs) == 0 && !restricted {
		// The console would act on every object in scope; no test wants that.
		errs = append(errs, validationError("filter: At least one of %s is required.", strings.Join(filterKeys, ", ")))
	}
	if dataOut != nil {
		data := body.Data
		if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
			data = []byte("{}")
		}
		if err := decodeStrict(bytes.NewReader(data), dataOut); err != nil {
			errs = append(errs, validationError("data: %v", err))
		}
	}
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return f, false
	}
	return f, true
}

// matchThreats returns the threats selected by f, ordered by ID for stable
// responses. Callers hold mu.
func (s *Simulator) matchThreats(f actionFilter) []*threat {
	var out []*threat
	for _, t := range s.threats {
		a := s.agents[t.sc.AgentID].sc
		if in(f.ids, t.sc.ID) && in(f.agentIDs, a.ID) && in(f.siteIDs, a.SiteID) && in(f.accountIDs, a.AccountID) && in(f.groupIDs, a.GroupID) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *threat) int { return strings.Compare(idKey(a.sc.ID), idKey(b.sc.ID)) })
	return out
}

var threatFilterKeys = []string{"ids", "agentIds", "siteIds", "accountIds", "groupIds"}

func (s *Simulator) postMitigate(w http.ResponseWriter, r *http.Request, params map[string]string) {
	action := params["action"]
	if !scenario.MitigateActions.Has(action) {
		writeErrors(w, http.StatusBadRequest, validationError("action: Must be one of: kill, quarantine, remediate, rollback-remediation, un-quarantine."))
		return
	}
	var data struct{}
	f, ok := readAction(w, r, threatFilterKeys, &data)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	affected, details := s.mitigate(action, s.matchThreats(f), now)
	writeAffected(w, affected, details)
}

func (s *Simulator) postVerdict(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var data struct {
		AnalystVerdict string `json:"analystVerdict"`
	}
	f, ok := readAction(w, r, threatFilterKeys, &data)
	if !ok {
		return
	}
	if !scenario.AnalystVerdicts.Has(data.AnalystVerdict) {
		writeErrors(w, http.StatusBadRequest, validationError("data.analystVerdict: Must be one of: true_positive, false_positive, suspicious, undefined."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	affected, details := s.setVerdict(s.matchThreats(f), data.AnalystVerdict, now, apiUser)
	writeAffected(w, affected, details)
}

func (s *Simulator) postIncident(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var data struct {
		IncidentStatus string `json:"incidentStatus"`
		AnalystVerdict string `json:"analystVerdict"`
	}
	f, ok := readAction(w, r, threatFilterKeys, &data)
	if !ok {
		return
	}
	var errs []apiError
	if !scenario.IncidentStatuses.Has(data.IncidentStatus) {
		errs = append(errs, validationError("data.incidentStatus: Must be one of: unresolved, in_progress, resolved."))
	}
	if data.AnalystVerdict != "" && !scenario.AnalystVerdicts.Has(data.AnalystVerdict) {
		errs = append(errs, validationError("data.analystVerdict: Must be one of: true_positive, false_positive, suspicious, undefined."))
	}
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	affected, details := s.setIncident(s.matchThreats(f), data.IncidentStatus, data.AnalystVerdict, now, apiUser)
	writeAffected(w, affected, details)
}

func writeAffected(w http.ResponseWriter, affected int, details []map[string]any) {
	if details == nil {
		details = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"affected": affected, "details": details}})
}

func (s *Simulator) postNotes(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var data struct {
		Text string `json:"text"`
	}
	f, ok := readAction(w, r, threatFilterKeys, &data)
	if !ok {
		return
	}
	if strings.TrimSpace(data.Text) == "" {
		writeErrors(w, http.StatusBadRequest, validationError("data.text: Missing data for required field."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	n := s.addNote(s.matchThreats(f), data.Text, now)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"affected": n}})
}

// postBlocklist serves POST /threats/add-to-blacklist: the threats' SHA1s
// go on the blocklist; affected counts matched threats.
func (s *Simulator) postBlocklist(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var data struct {
		TargetScope string `json:"targetScope"`
		Note        string `json:"note"`
		Description string `json:"description"`
	}
	f, ok := readAction(w, r, threatFilterKeys, &data)
	if !ok {
		return
	}
	if data.TargetScope != "" && !slices.Contains([]string{"group", "site", "account", "tenant"}, data.TargetScope) {
		writeErrors(w, http.StatusBadRequest, validationError("data.targetScope: Must be one of: group, site, account, tenant."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	n := s.addToBlocklist(s.matchThreats(f), or(data.TargetScope, "site"), or(data.Note, data.Description), now)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"affected": n}})
}

func (s *Simulator) postDisconnect(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	s.agentAction(w, r, false)
}

func (s *Simulator) postConnect(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	s.agentAction(w, r, true)
}

func (s *Simulator) agentAction(w http.ResponseWriter, r *http.Request, connect bool) {
	var data struct{}
	f, ok := readAction(w, r, []string{"ids", "siteIds", "accountIds", "groupIds"}, &data)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	var as []*agent
	for _, a := range s.agents {
		if in(f.ids, a.sc.ID) && in(f.siteIDs, a.sc.SiteID) && in(f.accountIDs, a.sc.AccountID) && in(f.groupIDs, a.sc.GroupID) {
			as = append(as, a)
		}
	}
	s.setNetwork(as, connect, now)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"affected": len(as)}})
}

// --- admin ----------------------------------------------------------------

func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/sim/health":
		if requireMethod(w, r, "GET") {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true})
		}
	case path == "/sim/counters":
		if requireMethod(w, r, "GET") {
			writeJSON(w, http.StatusOK, s.Counters())
		}
	case path == "/sim/threats":
		if requireMethod(w, r, "POST") {
			s.adminAddThreat(w, r)
		}
	case path == "/sim/events":
		if requireMethod(w, r, "POST") {
			s.adminAddEvents(w, r)
		}
	case strings.HasPrefix(path, "/sim/threats/") && strings.HasSuffix(path, "/update"):
		if requireMethod(w, r, "POST") {
			s.adminUpdateThreat(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/sim/threats/"), "/update"))
		}
	case strings.HasPrefix(path, "/sim/agents/") && strings.HasSuffix(path, "/online"):
		if requireMethod(w, r, "POST") {
			s.adminSetOnline(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "/sim/agents/"), "/online"))
		}
	case strings.HasPrefix(path, "/sim/remote-scripts/"):
		s.serveScriptsAdmin(w, r, path)
	case strings.HasPrefix(path, "/sim/threats/") && strings.HasSuffix(path, "/notes"):
		if requireMethod(w, r, "GET") {
			id := strings.TrimSuffix(strings.TrimPrefix(path, "/sim/threats/"), "/notes")
			notes := s.Notes(id)
			if notes == nil {
				notes = []string{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"notes": notes})
		}
	default:
		writeErrors(w, http.StatusNotFound, detailed(codeNotFound, "Not Found", "no such endpoint: %s", r.URL.Path))
	}
}

func requireMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeErrors(w, http.StatusMethodNotAllowed, detailed(codeMethod, "Method Not Allowed", "%s is not allowed on %s", r.Method, r.URL.Path))
	return false
}

func (s *Simulator) adminAddThreat(w http.ResponseWriter, r *http.Request) {
	var st scenario.Threat
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10), &st); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid threat JSON: %v", err))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addThreatChecked(st); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("%v", err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"data": s.renderThreat(s.threats[st.ID], s.clock())})
}

func (s *Simulator) adminUpdateThreat(w http.ResponseWriter, r *http.Request, id string) {
	var u ThreatUpdate
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10), &u); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if err := s.UpdateThreat(id, u); err != nil {
		writeAdminError(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": s.renderThreat(s.threats[id], s.clock())})
}

func (s *Simulator) adminSetOnline(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Online *bool `json:"online"`
	}
	if err := decodeStrict(http.MaxBytesReader(w, r.Body, maxRequestBodyKB<<10), &body); err != nil {
		writeErrors(w, http.StatusBadRequest, validationError("body: Invalid JSON: %v", err))
		return
	}
	if body.Online == nil {
		writeErrors(w, http.StatusBadRequest, validationError("online: Missing data for required field."))
		return
	}
	if err := s.SetAgentOnline(id, *body.Online); err != nil {
		writeAdminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": id, "online": *body.Online}})
}

func writeAdminError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrNotFound) {
		writeErrors(w, http.StatusNotFound, detailed(codeNotFound, "Not Found", "%v", err))
		return
	}
	writeErrors(w, http.StatusBadRequest, validationError("%v", err))
}
