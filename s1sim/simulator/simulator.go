// Package simulator is an in-memory double of the SentinelOne Management API
// v2.1 (threats, timelines, notes, mitigation, verdicts, agents, network
// isolation). It is deliberately independent of the product's packages so a
// client bug cannot be mirrored here.
//
// Asynchronous effects (mitigation results, isolation) are computed lazily:
// every request first settles whatever became due according to Options.Now.
// That keeps the state race-free under one mutex, makes the timestamps exact
// (an action settles at start+delay, not when someone looks) and lets tests
// drive time with a fake clock instead of sleeping.
package simulator

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Options configures a Simulator.
type Options struct {
	// Token is required; requests must send "Authorization: ApiToken <token>"
	// (the scheme word is matched case-insensitively, like the console does).
	Token string
	// MitigationDelay is how long a mitigation stays pending before the agent
	// reports. 0 settles it on the next request.
	MitigationDelay time.Duration
	// IsolationDelay is how long disconnecting/connecting lasts. 0 settles it
	// on the next request.
	IsolationDelay time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Counters records what clients did, for tests and the demo.
type Counters struct {
	// Requests by "METHOD /path/template" (e.g. "GET /web/api/v2.1/threats/{id}/timeline";
	// mitigate keeps its literal action). Only routed API requests count.
	Requests map[string]int `json:"requests"`
	// Mitigations: threatID -> URL action -> POSTs that affected the threat.
	Mitigations map[string]map[string]int `json:"mitigations"`
	// Notes: threatID -> notes added.
	Notes map[string]int `json:"notes"`
	// AgentActions: agentID -> "disconnect"/"connect" -> count.
	AgentActions map[string]map[string]int `json:"agentActions"`
	// Unauthorized counts requests refused with 401.
	Unauthorized int `json:"unauthorized"`
}

func (c Counters) clone() Counters {
	out := Counters{
		Requests:     maps.Clone(c.Requests),
		Mitigations:  make(map[string]map[string]int, len(c.Mitigations)),
		Notes:        maps.Clone(c.Notes),
		AgentActions: make(map[string]map[string]int, len(c.AgentActions)),
		Unauthorized: c.Unauthorized,
	}
	for k, v := range c.Mitigations {
		out.Mitigations[k] = maps.Clone(v)
	}
	for k, v := range c.AgentActions {
		out.AgentActions[k] = maps.Clone(v)
	}
	return out
}

// Simulator holds the console state. All methods are safe for concurrent use.
type Simulator struct {
	opts Options
	now  func() time.Time

	mu       sync.Mutex
	agents   map[string]*agent
	threats  map[string]*threat
	seq      uint64 // insertion order of every listable object; cursors snapshot it
	nextID   uint64
	counters Counters
}

type agent struct {
	sc            ScenarioAgent
	seq           uint64
	vss           bool
	isActive      bool
	networkStatus string
	netTarget     string // pending final status of an isolation change, "" if none
	netSettleAt   time.Time
	createdAt     time.Time
	registeredAt  time.Time
	updatedAt     time.Time
}

type threat struct {
	sc               ScenarioThreat
	seq              uint64
	collectionID     string
	createdAt        time.Time
	updatedAt        time.Time
	mitigationStatus string
	analystVerdict   string
	incidentStatus   string
	mitigations      []*mitigation // one entry per action, in first-use order
	timeline         []*activity
	notes            []*note
}

type mitigation struct {
	action    string // entry action name, e.g. "rollback"
	urlAction string // URL action name, e.g. "rollback-remediation"
	status    string
	reportID  string
	startedAt time.Time
	settleAt  time.Time
	endedAt   time.Time // zero while pending
	lastAt    time.Time
	never     bool // rollback without VSS: accepted, never settles
	fail      bool // scenario asked for a failed report
}

type activity struct {
	id        string
	seq       uint64
	code      int
	primary   string
	secondary string
	createdAt time.Time
	byUser    bool
	data      map[string]any
}

type note struct {
	id        string
	seq       uint64
	text      string
	createdAt time.Time
}

// Identity of the console user behind the API token; notes and user
// activities are attributed to it.
const (
	apiUserName = "s1sim API user"
	apiUserID   = "1000000000000000001"
)

// idBase is the first generated ID; scenario IDs that collide are skipped.
const idBase = 1990000000000000000

// New builds a simulator seeded with sc (nil means empty).
func New(sc *Scenario, opts Options) (*Simulator, error) {
	if opts.Token == "" {
		return nil, errors.New("simulator: Options.Token is required")
	}
	if opts.MitigationDelay < 0 || opts.IsolationDelay < 0 {
		return nil, errors.New("simulator: delays must not be negative")
	}
	if sc == nil {
		sc = &Scenario{}
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s := &Simulator{
		opts:    opts,
		now:     opts.Now,
		agents:  map[string]*agent{},
		threats: map[string]*threat{},
		nextID:  idBase,
		counters: Counters{
			Requests:     map[string]int{},
			Mitigations:  map[string]map[string]int{},
			Notes:        map[string]int{},
			AgentActions: map[string]map[string]int{},
		},
	}
	if s.now == nil {
		s.now = time.Now
	}
	now := s.clock()
	for _, a := range sc.Agents {
		s.addAgentLocked(a, now)
	}
	for _, t := range sc.Threats {
		s.addThreatLocked(t, now)
	}
	return s, nil
}

// clock returns Now in UTC truncated to microseconds, the API's precision, so
// a timestamp a client read back compares equal in filters and cursors.
func (s *Simulator) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

func (s *Simulator) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// allocID returns a fresh decimal ID that no agent or threat uses.
func (s *Simulator) allocID() string {
	for {
		s.nextID++
		id := strconv.FormatUint(s.nextID, 10)
		if s.agents[id] == nil && s.threats[id] == nil {
			return id
		}
	}
}

func (s *Simulator) addAgentLocked(sa ScenarioAgent, now time.Time) {
	a := &agent{
		sc:            sa,
		seq:           s.nextSeq(),
		vss:           sa.OSType == "windows" || sa.OSType == "windows_legacy",
		isActive:      true,
		networkStatus: sa.NetworkStatus,
		// Fixed offsets keep agent dates plausible and reproducible.
		registeredAt: now.Add(-90 * 24 * time.Hour),
		createdAt:    now.Add(-90 * 24 * time.Hour),
		updatedAt:    now.Add(-time.Hour),
	}
	if sa.VSSEnabled != nil {
		a.vss = a.vss && *sa.VSSEnabled
	}
	if sa.IsActive != nil {
		a.isActive = *sa.IsActive
	}
	s.agents[sa.ID] = a
}

// addThreatLocked assumes st was validated against the current agents.
func (s *Simulator) addThreatLocked(st ScenarioThreat, now time.Time) *threat {
	created := now
	if st.CreatedAgo != "" {
		d, _ := time.ParseDuration(st.CreatedAgo) // validated
		created = now.Add(-d)
	} else {
		created, _ = time.Parse(time.RFC3339Nano, st.CreatedAt) // validated
		created = created.UTC().Truncate(time.Microsecond)
	}
	t := &threat{
		sc:               st,
		seq:              s.nextSeq(),
		collectionID:     s.allocID(),
		createdAt:        created,
		updatedAt:        created,
		mitigationStatus: or(st.MitigationStatus, "not_mitigated"),
		analystVerdict:   or(st.AnalystVerdict, "undefined"),
		incidentStatus:   or(st.IncidentStatus, "unresolved"),
	}
	for _, ta := range st.Timeline {
		d, _ := time.ParseDuration(ta.Ago) // validated
		t.timeline = append(t.timeline, &activity{
			id:        s.allocID(),
			seq:       s.nextSeq(),
			code:      ta.ActivityType,
			primary:   ta.PrimaryDescription,
			secondary: ta.SecondaryDescription,
			createdAt: now.Add(-d),
			data:      maps.Clone(ta.Data),
		})
	}
	s.threats[st.ID] = t
	return t
}

// AddThreat adds a threat at runtime, e.g. to test polling for new
// detections. createdAgo is relative to now.
func (s *Simulator) AddThreat(st ScenarioThreat) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addThreatChecked(st)
}

func (s *Simulator) addThreatChecked(st ScenarioThreat) error {
	agentIDs := make(map[string]bool, len(s.agents))
	for id := range s.agents {
		agentIDs[id] = true
	}
	var p problems
	validateThreat(&p, "threat", &st, agentIDs)
	if st.ID != "" && s.threats[st.ID] != nil {
		p.addf("threat.id: duplicate threat id %q", st.ID)
	}
	if err := p.err(); err != nil {
		return fmt.Errorf("add threat: %w", err)
	}
	now := s.clock()
	s.advance(now)
	s.addThreatLocked(st, now)
	return nil
}

// Counters returns a deep copy of the counters.
func (s *Simulator) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters.clone()
}

// Notes returns the texts of the notes on a threat, oldest first.
func (s *Simulator) Notes(threatID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.threats[threatID]
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t.notes))
	for _, n := range t.notes {
		out = append(out, n.text)
	}
	return out
}

// advance settles every pending transition that is due at now. Callers hold mu.
func (s *Simulator) advance(now time.Time) {
	for _, t := range s.threats {
		for _, m := range t.mitigations {
			if m.status == "pending" && !m.never && !now.Before(m.settleAt) {
				s.settleMitigation(t, m)
			}
		}
	}
	for _, a := range s.agents {
		if a.netTarget != "" && !now.Before(a.netSettleAt) {
			s.settleNetwork(a)
		}
	}
}

func (s *Simulator) settleMitigation(t *threat, m *mitigation) {
	at := m.settleAt
	m.endedAt, m.lastAt = at, at
	codes := mitigationCodes[m.urlAction]
	code, verb := codes.success, codes.pastVerb
	if m.fail {
		m.status = "failed"
		code = codes.failed
	} else {
		m.status = "success"
		switch m.urlAction {
		case "kill", "quarantine":
			t.mitigationStatus = "mitigated"
		case "un-quarantine":
			// The file is back on disk, so the threat is no longer contained.
			t.mitigationStatus = "not_mitigated"
		}
	}
	a := s.agents[t.sc.AgentID]
	primary := fmt.Sprintf("The agent %s successfully %s the threat: %s.", a.sc.ComputerName, verb, t.sc.ThreatName)
	if m.fail {
		primary = fmt.Sprintf("The agent %s failed to %s the threat: %s.", a.sc.ComputerName, codes.verb, t.sc.ThreatName)
	}
	s.emit(t, code, primary, t.sc.FilePath, at, false, map[string]any{"globalStatus": m.status})
	t.updatedAt = maxTime(t.updatedAt, at)
}

func (s *Simulator) settleNetwork(a *agent) {
	at := a.netSettleAt
	a.networkStatus, a.netTarget = a.netTarget, ""
	a.updatedAt = maxTime(a.updatedAt, at)
	code, primary := 1002, fmt.Sprintf("Agent %s was connected to network.", a.sc.ComputerName)
	if a.networkStatus == "disconnected" {
		code, primary = 1001, fmt.Sprintf("Agent %s was disconnected from network.", a.sc.ComputerName)
	}
	s.emitAgent(a, code, primary, at, false)
}

// emit appends a generated activity to a threat's timeline.
func (s *Simulator) emit(t *threat, code int, primary, secondary string, at time.Time, byUser bool, data map[string]any) {
	t.timeline = append(t.timeline, &activity{
		id: s.allocID(), seq: s.nextSeq(), code: code, primary: primary, secondary: secondary,
		createdAt: at, byUser: byUser, data: data,
	})
}

// emitAgent records an agent activity in the timelines of the agent's threats,
// which is where a threat-centric client looks for isolation evidence.
func (s *Simulator) emitAgent(a *agent, code int, primary string, at time.Time, byUser bool) {
	for _, t := range s.threats {
		if t.sc.AgentID == a.sc.ID {
			s.emit(t, code, primary, a.sc.ComputerName, at, byUser, map[string]any{"computerName": a.sc.ComputerName})
		}
	}
}

// mitigationCodes maps URL actions to entry actions and activity codes
// (reference §2.3).
var mitigationCodes = map[string]struct {
	entry                     string
	command, success, failed  int
	verb, pastVerb, nounTitle string
}{
	"kill":                 {"kill", 2011, 2001, 2006, "kill", "killed", "Kill"},
	"remediate":            {"remediate", 2012, 2002, 2007, "remediate", "remediated", "Remediate"},
	"rollback-remediation": {"rollback", 2013, 2003, 2008, "roll back", "rolled back", "Rollback"},
	"quarantine":           {"quarantine", 2014, 2004, 2009, "quarantine", "quarantined", "Quarantine"},
	"un-quarantine":        {"unquarantine", 2015, 2026, 2027, "unquarantine", "unquarantined", "Unquarantine"},
}

type skipped struct {
	Action      string `json:"action"`
	Reason      string `json:"reason"`
	Description string `json:"description"`
}

// mitigate applies a URL action to the threats; it returns, per threat, the
// rendered report or the reason it was skipped.
func (s *Simulator) mitigate(urlAction string, ts []*threat, now time.Time) (affected int, details []map[string]any) {
	codes := mitigationCodes[urlAction]
	for _, t := range ts {
		a := s.agents[t.sc.AgentID]
		d := map[string]any{"threatId": t.sc.ID, "reports": []any{}, "skipped": []any{}}
		details = append(details, d)
		// Per the spec, remediate is supported on Windows and macOS only.
		if urlAction == "remediate" && a.sc.OSType == "linux" {
			d["skipped"] = []skipped{{Action: codes.entry, Reason: "not_supported", Description: "Remediate is not supported on Linux agents"}}
			continue
		}
		m := &mitigation{
			action: codes.entry, urlAction: urlAction, status: "pending", reportID: s.allocID(),
			startedAt: now, lastAt: now, settleAt: now.Add(s.opts.MitigationDelay),
			fail: slices.Contains(t.sc.FailActions, urlAction),
		}
		// The gotcha this simulator exists to teach: the console accepts a
		// rollback it cannot perform (no VSS snapshots) and it never settles.
		if urlAction == "rollback-remediation" && !a.vss {
			m.never = true
		}
		replaced := false
		for i, old := range t.mitigations {
			if old.action == m.action {
				t.mitigations[i], replaced = m, true
			}
		}
		if !replaced {
			t.mitigations = append(t.mitigations, m)
		}
		t.updatedAt = maxTime(t.updatedAt, now)
		s.emit(t, codes.command,
			fmt.Sprintf("The management user %s issued a %s command to the machine %s for threat: %s.", apiUserName, codes.verb, a.sc.ComputerName, t.sc.ThreatName),
			t.sc.FilePath, now, true, nil)
		d["reports"] = []any{renderMitigation(m)}
		affected++
		inc2(s.counters.Mitigations, t.sc.ID, urlAction)
	}
	return affected, details
}

// setNetwork starts an isolation change on the agents.
func (s *Simulator) setNetwork(as []*agent, connect bool, now time.Time) {
	action, via, target, code, verb := "disconnect", "disconnecting", "disconnected", 61, "Disconnect from Network"
	if connect {
		action, via, target, code, verb = "connect", "connecting", "connected", 62, "Reconnect to Network"
	}
	for _, a := range as {
		inc2(s.counters.AgentActions, a.sc.ID, action)
		if a.networkStatus == target || a.netTarget == target {
			continue // already there or on the way; nothing new happens
		}
		a.networkStatus, a.netTarget, a.netSettleAt = via, target, now.Add(s.opts.IsolationDelay)
		a.updatedAt = maxTime(a.updatedAt, now)
		s.emitAgent(a, code, fmt.Sprintf("The management user %s issued a %s command to the machine %s.", apiUserName, verb, a.sc.ComputerName), now, true)
	}
}

func (s *Simulator) setVerdict(ts []*threat, verdict string, now time.Time) (affected int, details []map[string]any) {
	for _, t := range ts {
		res := "not_changed"
		if t.analystVerdict != verdict {
			old := t.analystVerdict
			t.analystVerdict, t.updatedAt, res = verdict, maxTime(t.updatedAt, now), "updated"
			affected++
			s.emit(t, 2030,
				fmt.Sprintf("The management user %s changed the analyst verdict of threat %s to %s.", apiUserName, t.sc.ThreatName, verdictDescriptions[verdict]),
				t.sc.FilePath, now, true, map[string]any{"oldAnalystVerdict": old, "newAnalystVerdict": verdict})
		}
		details = append(details, map[string]any{"threatId": t.sc.ID, "result": res})
	}
	return affected, details
}

func (s *Simulator) setIncident(ts []*threat, status, verdict string, now time.Time) (affected int, details []map[string]any) {
	for _, t := range ts {
		res, vres := "not_changed", "not_changed"
		if t.incidentStatus != status {
			old := t.incidentStatus
			t.incidentStatus, t.updatedAt, res = status, maxTime(t.updatedAt, now), "updated"
			s.emit(t, 2028,
				fmt.Sprintf("The management user %s changed the incident status of threat %s to %s.", apiUserName, t.sc.ThreatName, incidentDescriptions[status]),
				t.sc.FilePath, now, true, map[string]any{"oldIncidentStatus": old, "newIncidentStatus": status})
		}
		if verdict != "" {
			_, vd := s.setVerdict([]*threat{t}, verdict, now)
			vres = vd[0]["result"].(string)
		}
		if res == "updated" || vres == "updated" {
			affected++
		}
		d := map[string]any{"threatId": t.sc.ID, "result": res}
		if verdict != "" {
			d["analystVerdict"] = vres
		}
		details = append(details, d)
	}
	return affected, details
}

func (s *Simulator) addNote(ts []*threat, text string, now time.Time) int {
	for _, t := range ts {
		t.notes = append(t.notes, &note{id: s.allocID(), seq: s.nextSeq(), text: text, createdAt: now})
		s.counters.Notes[t.sc.ID]++
		// 4020 "threat note added" comes from a secondary source (unverified).
		s.emit(t, 4020, fmt.Sprintf("The management user %s added a note to threat %s.", apiUserName, t.sc.ThreatName),
			text, now, true, map[string]any{"noteDetails": text})
	}
	return len(ts)
}

func inc2(m map[string]map[string]int, k1, k2 string) {
	if m[k1] == nil {
		m[k1] = map[string]int{}
	}
	m[k1][k2]++
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
