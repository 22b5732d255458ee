// Package simulator is an in-memory double of the SentinelOne Management API
// v2.1 (threats, timelines, notes, mitigation, verdicts, agents, network
// isolation, Deep Visibility). It is deliberately independent of the product's
// packages so a client bug cannot be mirrored here: of this module it imports
// only the scenario file format (package scenario) and the S1QL evaluator
// (package hunt/s1ql, the definition of the query subset s1copilot speaks);
// both import only the standard library.
//
// Asynchronous effects (mitigation results, isolation) are computed lazily:
// every request first settles whatever became due according to Options.Now.
// That keeps the state race-free under one mutex, makes the timestamps exact
// (an action settles at start+delay, not when someone looks) and lets tests
// drive time with a fake clock instead of sleeping.
package simulator

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
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
	// DVQueryDelay is how long a Deep Visibility query runs (RUNNING,
	// progressStatus 0→100) before it is FINISHED. 0 finishes immediately.
	DVQueryDelay time.Duration
	// DefaultVisibleAfter applies to threats added at runtime (AddThreat,
	// POST /sim/threats) that set no visibleAfter: GET /threats hides them
	// until createdAt+DefaultVisibleAfter. 0 means immediately visible.
	DefaultVisibleAfter time.Duration
	// Faults injects transport-level failures into /web/api/v2.1 requests
	// (never /sim). The zero value injects nothing. See Faults.
	Faults Faults
	// FaultsAfterSideEffects makes injected 5xx answers happen after the
	// handler ran, like a proxy that drops the console's response: the
	// action is applied but the client sees an error. Default false: faults
	// are injected before the handler runs and nothing is applied.
	FaultsAfterSideEffects bool
	// EnforceRateLimits enables per-token token buckets per endpoint class
	// (DefaultRateLimits, overridden by RateLimits). DV init-query's
	// 1-per-minute limit is enforced regardless, as the spec documents it.
	EnforceRateLimits bool
	// RateLimits overrides limits by class name (see DefaultRateLimits).
	RateLimits map[string]Limit
	// TokenLifetime is how long Token is valid from the simulator's start, as the console
	// gives API tokens a lifetime (six months by default). Once it has passed, every API
	// request is refused with 401, and POST /users/api-token-details reports the expiry.
	// 0 means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// ScriptDelay is how long a remote-script task takes on an online agent: created, then
	// pending after a quarter, in_progress after half, completed (or failed) after the full
	// delay. 0 settles it on the next request. See remotescripts.go.
	ScriptDelay time.Duration
	// ScriptTaskExpiry is how long a remote-script task may wait for its agent (offline)
	// or for approval before it ends expired. 0 means DefaultScriptTaskExpiry.
	ScriptTaskExpiry time.Duration
	// StrictPendingExecutions answers an execution held for approval as the vendor schema
	// describes it: parentTaskId null, and no task (nor activity 3618) until it is
	// approved. By default the simulator returns the parentTaskId at once and shows the
	// tasks as pending_user_action.
	StrictPendingExecutions bool
}

// DefaultTokenLifetime is the console's default API token lifetime (six months).
const DefaultTokenLifetime = 180 * 24 * time.Hour

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
	// Blocklisted: sha1 -> add-to-blacklist requests that added it.
	Blocklisted map[string]int `json:"blocklisted"`
	// RateLimitViolations: rate-limit class -> requests refused with 429
	// because the client really exceeded the limit.
	RateLimitViolations map[string]int `json:"rateLimitViolations"`
	// InjectedFaults: fault kind (server_error, rate_limit, invalid_json,
	// latency) -> requests it was injected into.
	InjectedFaults map[string]int `json:"injectedFaults"`
	// ReadsByID: of Requests, the GET /threats and GET /agents that named their IDs
	// (ids=…) rather than listed; IDsRead the IDs they named in all.
	ReadsByID map[string]int `json:"readsById"`
	IDsRead   map[string]int `json:"idsRead"`
	// ScriptExecutions: agentID -> scriptID -> remote-script executions requested on the
	// agent (accepted POST /remote-scripts/execute), whether they ran, failed, expired or
	// were declined.
	ScriptExecutions map[string]map[string]int `json:"scriptExecutions"`
}

func newCounters() Counters {
	return Counters{
		Requests:            map[string]int{},
		Mitigations:         map[string]map[string]int{},
		Notes:               map[string]int{},
		AgentActions:        map[string]map[string]int{},
		Blocklisted:         map[string]int{},
		RateLimitViolations: map[string]int{},
		InjectedFaults:      map[string]int{},
		ReadsByID:           map[string]int{},
		IDsRead:             map[string]int{},
		ScriptExecutions:    map[string]map[string]int{},
	}
}

func (c Counters) clone() Counters {
	out := Counters{
		Requests:     maps.Clone(c.Requests),
		Mitigations:  make(map[string]map[string]int, len(c.Mitigations)),
		Notes:        maps.Clone(c.Notes),
		AgentActions: make(map[string]map[string]int, len(c.AgentActions)),
		Unauthorized: c.Unauthorized,

		Blocklisted:         maps.Clone(c.Blocklisted),
		RateLimitViolations: maps.Clone(c.RateLimitViolations),
		InjectedFaults:      maps.Clone(c.InjectedFaults),
		ReadsByID:           maps.Clone(c.ReadsByID),
		IDsRead:             maps.Clone(c.IDsRead),
		ScriptExecutions:    make(map[string]map[string]int, len(c.ScriptExecutions)),
	}
	for k, v := range c.ScriptExecutions {
		out.ScriptExecutions[k] = maps.Clone(v)
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
	// tokenCreatedAt and tokenExpiresAt are the API token's life (Options.TokenLifetime).
	tokenCreatedAt, tokenExpiresAt time.Time

	mu       sync.Mutex
	agents   map[string]*agent
	threats  map[string]*threat
	seq      uint64 // insertion order of every listable object; cursors snapshot it
	nextID   uint64
	counters Counters

	activities []*activity            // every activity, in creation order (timelines index into it)
	blocklist  map[string]*blockEntry // sha1 -> entry
	dvQueries  map[string]*dvQuery
	// agentEvents are the scenario's events of no threat: DV finds them, no
	// threat's explore events or timeline shows them.
	agentEvents []*event
	limiter     *limiter
	faults      *faultInjector
	// ro is the RemoteOps state (script library, executions, tasks); remotescripts.go
	// creates it on first use.
	ro *remoteOps
}

// blockEntry is one hash on the user-defined blocklist.
type blockEntry struct {
	sha1      string
	osType    string
	scope     string
	note      string
	createdAt time.Time
}

type agent struct {
	sc            scenario.Agent
	seq           uint64
	vss           bool
	isActive      bool
	online        bool      // simulator-only: an offline agent executes nothing
	offlineSince  time.Time // last contact while offline
	networkStatus string
	netTarget     string // pending final status of an isolation change, "" if none
	netSettleAt   time.Time
	netWaiting    bool // the change waits for the agent to come online
	createdAt     time.Time
	registeredAt  time.Time
	updatedAt     time.Time
}

type threat struct {
	sc               scenario.Threat
	seq              uint64
	collectionID     string
	createdAt        time.Time
	visibleAt        time.Time // GET /threats hides the threat before this
	updatedAt        time.Time
	mitigationStatus string
	analystVerdict   string
	incidentStatus   string
	externalTicketID string        // POST /threats/external-ticket-id (tickets.go); "" = none
	mitigations      []*mitigation // one entry per action, in first-use order
	timeline         []*activity   // index into Simulator.activities
	notes            []*note
	events           []*event
}

type mitigation struct {
	action    string // entry action name, e.g. "rollback"
	urlAction string // URL action name, e.g. "rollback-remediation"
	status    string // pending → sent → success | failed | pending-reboot
	reportID  string
	startedAt time.Time
	sentAt    time.Time // when the agent picks the command up
	settleAt  time.Time // when the agent reports
	endedAt   time.Time // zero while unsettled
	lastAt    time.Time
	never     bool // rollback without VSS: accepted, never settles
	waiting   bool // agent offline: sentAt/settleAt are unknown until it returns
	fail      bool // scenario asked for a failed report
	reboot    bool // scenario asked for a pending-reboot report
}

func (m *mitigation) settled() bool {
	return m.status == "success" || m.status == "failed" || m.status == "pending-reboot"
}

type activity struct {
	id        string
	seq       uint64
	code      int
	primary   string
	secondary string
	createdAt time.Time
	user      *consoleUser // nil for agent/system activities
	data      map[string]any
	threat    *threat // nil for agent-only activities
	agent     *agent  // nil for none
}

// consoleUser is a console user activities are attributed to.
type consoleUser struct{ name, id string }

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

var (
	apiUser = &consoleUser{name: apiUserName, id: apiUserID}
	// analystUser acts through the console (UpdateThreat, /sim/threats/{id}/update),
	// so clients can tell their own changes from a human's.
	analystUser = &consoleUser{name: "Dana Analyst", id: "1000000000000000002"}
)

// idBase is the first generated ID; scenario IDs that collide are skipped.
const idBase = 1990000000000000000

// New builds a simulator seeded with sc (nil means empty). Generators in
// sc.Generate are expanded into a copy; sc itself is not modified.
func New(sc *scenario.Scenario, opts Options) (*Simulator, error) {
	if opts.Token == "" {
		return nil, errors.New("simulator: Options.Token is required")
	}
	if opts.MitigationDelay < 0 || opts.IsolationDelay < 0 || opts.DVQueryDelay < 0 || opts.DefaultVisibleAfter < 0 ||
		opts.ScriptDelay < 0 || opts.ScriptTaskExpiry < 0 {
		return nil, errors.New("simulator: delays must not be negative")
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	limits, err := mergeLimits(opts.RateLimits)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	if sc == nil {
		sc = &scenario.Scenario{}
	}
	if len(sc.Generate) > 0 {
		cp := *sc
		cp.Agents, cp.Threats = slices.Clone(sc.Agents), slices.Clone(sc.Threats)
		if err := cp.Expand(); err != nil {
			return nil, fmt.Errorf("simulator: %w", err)
		}
		sc = &cp
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s := &Simulator{
		opts:      opts,
		now:       opts.Now,
		agents:    map[string]*agent{},
		threats:   map[string]*threat{},
		nextID:    idBase,
		counters:  newCounters(),
		blocklist: map[string]*blockEntry{},
		dvQueries: map[string]*dvQuery{},
		limiter:   newLimiter(limits, opts.EnforceRateLimits),
		faults:    newFaultInjector(opts.Faults),
	}
	if s.now == nil {
		s.now = time.Now
	}
	now := s.clock()
	lifetime := opts.TokenLifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	s.tokenCreatedAt, s.tokenExpiresAt = now, now.Add(lifetime)
	for _, a := range sc.Agents {
		s.addAgentLocked(a, now)
	}
	for _, t := range sc.Threats {
		s.addThreatLocked(t, now, 0)
	}
	s.addAgentEvents(sc.Events, now)
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

func (s *Simulator) addAgentLocked(sa scenario.Agent, now time.Time) {
	a := &agent{
		sc:            sa,
		seq:           s.nextSeq(),
		vss:           sa.OSType == "windows" || sa.OSType == "windows_legacy",
		isActive:      true,
		online:        sa.Online == nil || *sa.Online,
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
	if !a.online {
		a.offlineSince = now.Add(-72 * time.Hour)
	}
	s.agents[sa.ID] = a
}

// addThreatLocked assumes st was validated against the current agents.
// defVisible applies when st sets no visibleAfter.
func (s *Simulator) addThreatLocked(st scenario.Threat, now time.Time, defVisible time.Duration) *threat {
	created := now
	if st.CreatedAgo != "" {
		d, _ := time.ParseDuration(st.CreatedAgo) // validated
		created = now.Add(-d)
	} else {
		created, _ = time.Parse(time.RFC3339Nano, st.CreatedAt) // validated
		created = created.UTC().Truncate(time.Microsecond)
	}
	visible := defVisible
	if st.VisibleAfter != "" {
		visible, _ = time.ParseDuration(st.VisibleAfter) // validated
	}
	t := &threat{
		sc:               st,
		seq:              s.nextSeq(),
		collectionID:     s.allocID(),
		createdAt:        created,
		updatedAt:        created,
		visibleAt:        created.Add(visible),
		mitigationStatus: or(st.MitigationStatus, "not_mitigated"),
		analystVerdict:   or(st.AnalystVerdict, "undefined"),
		incidentStatus:   or(st.IncidentStatus, "unresolved"),
	}
	s.threats[st.ID] = t
	s.seedMitigations(t, st)
	for _, ta := range st.Timeline {
		d, _ := time.ParseDuration(ta.Ago) // validated
		s.record(&activity{
			code: ta.ActivityType, primary: ta.PrimaryDescription, secondary: ta.SecondaryDescription,
			createdAt: now.Add(-d), data: maps.Clone(ta.Data), threat: t, agent: s.agents[st.AgentID],
		})
	}
	s.addEvents(t)
	return t
}

// seedMitigations stores the settled mitigationStatus[] entries the scenario
// gives the threat. A successful kill or quarantine makes it mitigated unless
// the scenario sets mitigationStatus itself.
func (s *Simulator) seedMitigations(t *threat, st scenario.Threat) {
	for _, sm := range st.Mitigations {
		after, _ := time.ParseDuration(or(sm.After, "1s")) // validated
		at := t.createdAt.Add(after)
		m := &mitigation{
			action: sm.Action, urlAction: urlActionOf(sm.Action), status: sm.Status, reportID: s.allocID(),
			startedAt: t.createdAt, sentAt: t.createdAt, settleAt: at, endedAt: at, lastAt: at,
			never: true, // what happened before the scenario: reported as is, never moving on
		}
		t.mitigations = append(t.mitigations, m)
		t.updatedAt = maxTime(t.updatedAt, at)
		if st.MitigationStatus == "" && sm.Status == "success" && (sm.Action == "kill" || sm.Action == "quarantine") {
			t.mitigationStatus = "mitigated"
		}
	}
}

// urlActionOf maps a mitigationStatus[] action name to its mitigate URL action.
func urlActionOf(entry string) string {
	for url, c := range mitigationCodes {
		if c.entry == entry {
			return url
		}
	}
	return entry
}

// AddThreat adds a threat at runtime, e.g. to test polling for new
// detections. createdAgo is relative to now; Options.DefaultVisibleAfter
// applies when st.VisibleAfter is empty.
func (s *Simulator) AddThreat(st scenario.Threat) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addThreatChecked(st)
}

func (s *Simulator) addThreatChecked(st scenario.Threat) error {
	err := st.Validate(func(id string) bool { return s.agents[id] != nil })
	if st.ID != "" && s.threats[st.ID] != nil {
		var problems scenario.ValidationErrors
		errors.As(err, &problems)
		err = append(problems, fmt.Sprintf("threat.id: duplicate threat id %q", st.ID))
	}
	if err != nil {
		return fmt.Errorf("add threat: %w", err)
	}
	now := s.clock()
	s.advance(now)
	s.addThreatLocked(st, now, s.opts.DefaultVisibleAfter)
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

// NoteRecord is a note as stored: its text and when the console received it.
type NoteRecord struct {
	Text      string
	CreatedAt time.Time
}

// NoteRecords returns the notes on a threat with their arrival times, oldest first
// (benchmarks measure detection-to-note latency from them).
func (s *Simulator) NoteRecords(threatID string) []NoteRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.threats[threatID]
	if t == nil {
		return nil
	}
	out := make([]NoteRecord, 0, len(t.notes))
	for _, n := range t.notes {
		out = append(out, NoteRecord{Text: n.text, CreatedAt: n.createdAt})
	}
	return out
}

// Blocklist returns the blocklisted SHA1 hashes, sorted.
func (s *Simulator) Blocklist() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.blocklist))
}

// ErrNotFound is returned by the Go admin methods for unknown IDs.
var ErrNotFound = errors.New("not found")

// SetAgentOnline takes an agent offline or brings it back. While offline,
// mitigations and isolation changes for it stay pending; when it returns,
// they proceed from that moment (sent after half the delay, settled after
// the full delay).
func (s *Simulator) SetAgentOnline(id string, online bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.agents[id]
	if a == nil {
		return fmt.Errorf("agent %s: %w", id, ErrNotFound)
	}
	now := s.clock()
	s.advance(now)
	if a.online == online {
		return nil
	}
	a.online = online
	a.updatedAt = maxTime(a.updatedAt, now)
	s.scriptsAgentOnline(a, online, now)
	if !online {
		a.offlineSince = now
		for _, t := range s.threatsOf(a) {
			for _, m := range t.mitigations {
				if !m.settled() && !m.never {
					m.waiting = true
				}
			}
		}
		if a.netTarget != "" {
			a.netWaiting = true
		}
		return nil
	}
	a.isActive = true
	for _, t := range s.threatsOf(a) {
		for _, m := range t.mitigations {
			if m.waiting {
				s.schedule(m, now)
			}
		}
	}
	if a.netWaiting {
		a.netWaiting, a.netSettleAt = false, now.Add(s.opts.IsolationDelay)
	}
	return nil
}

// threatsOf returns the agent's threats; callers hold mu.
func (s *Simulator) threatsOf(a *agent) []*threat {
	var out []*threat
	for _, t := range s.threats {
		if t.sc.AgentID == a.sc.ID {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(x, y *threat) int { return cmp.Compare(x.seq, y.seq) })
	return out
}

// schedule (re)starts the agent side of a mitigation at start: the command
// is picked up after half the delay and reported after the full delay. A
// command already sent only waits for the report.
func (s *Simulator) schedule(m *mitigation, start time.Time) {
	m.waiting = false
	if m.status == "pending" {
		m.sentAt = start.Add(s.opts.MitigationDelay / 2)
	}
	m.settleAt = start.Add(s.opts.MitigationDelay)
}

// ThreatUpdate is a change an analyst makes in the console; empty fields
// are left alone.
type ThreatUpdate struct {
	AnalystVerdict   string `json:"analystVerdict,omitempty"`
	IncidentStatus   string `json:"incidentStatus,omitempty"`
	MitigationStatus string `json:"mitigationStatus,omitempty"`
}

// UpdateThreat applies u as a console analyst would: it bumps updatedAt and
// records activities 2030 (verdict) and 2028 (incident status) attributed
// to a console user other than the API token's.
func (s *Simulator) UpdateThreat(id string, u ThreatUpdate) error {
	var problems scenario.ValidationErrors
	check := func(field, v string, allowed scenario.Enum) {
		if err := allowed.Check(v); err != nil {
			problems = append(problems, field+": "+err.Error())
		}
	}
	check("analystVerdict", u.AnalystVerdict, scenario.AnalystVerdicts)
	check("incidentStatus", u.IncidentStatus, scenario.IncidentStatuses)
	check("mitigationStatus", u.MitigationStatus, scenario.MitigationStatuses)
	if u == (ThreatUpdate{}) {
		problems = append(problems, "update: at least one of analystVerdict, incidentStatus, mitigationStatus is required")
	}
	if len(problems) > 0 {
		return problems
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.threats[id]
	if t == nil {
		return fmt.Errorf("threat %s: %w", id, ErrNotFound)
	}
	now := s.clock()
	s.advance(now)
	if u.IncidentStatus != "" {
		s.setIncident([]*threat{t}, u.IncidentStatus, "", now, analystUser)
	}
	if u.AnalystVerdict != "" {
		s.setVerdict([]*threat{t}, u.AnalystVerdict, now, analystUser)
	}
	if u.MitigationStatus != "" {
		// No activity: which code the console records for this is unknown.
		t.mitigationStatus = u.MitigationStatus
	}
	t.updatedAt = maxTime(t.updatedAt, now)
	return nil
}

// advance settles every pending transition that is due at now. Callers hold mu.
func (s *Simulator) advance(now time.Time) {
	for _, t := range s.threats {
		for _, m := range t.mitigations {
			if m.never || m.waiting || m.settled() {
				continue
			}
			if m.status == "pending" && !now.Before(m.sentAt) {
				m.status, m.lastAt = "sent", m.sentAt
			}
			if !now.Before(m.settleAt) {
				s.settleMitigation(t, m)
			}
		}
	}
	for _, a := range s.agents {
		if a.netTarget != "" && !a.netWaiting && !now.Before(a.netSettleAt) {
			s.settleNetwork(a)
		}
	}
}

func (s *Simulator) settleMitigation(t *threat, m *mitigation) {
	at := m.settleAt
	m.endedAt, m.lastAt = at, at
	codes := mitigationCodes[m.urlAction]
	a := s.agents[t.sc.AgentID]
	var code int
	var primary string
	switch {
	case m.fail:
		m.status, code = "failed", codes.failed
		primary = fmt.Sprintf("The agent %s failed to %s the threat: %s.", a.sc.ComputerName, codes.verb, t.sc.ThreatName)
	case m.reboot:
		m.status, code = "pending-reboot", codes.reboot
		primary = fmt.Sprintf("The agent %s requires a reboot to complete the %s of the threat: %s.", a.sc.ComputerName, codes.noun, t.sc.ThreatName)
	default:
		m.status, code = "success", codes.success
		primary = fmt.Sprintf("The agent %s successfully %s the threat: %s.", a.sc.ComputerName, codes.pastVerb, t.sc.ThreatName)
		switch m.urlAction {
		case "kill", "quarantine":
			t.mitigationStatus = "mitigated"
		case "un-quarantine":
			// The file is back on disk, so the threat is no longer contained.
			t.mitigationStatus = "not_mitigated"
		}
	}
	s.emit(t, code, primary, t.sc.FilePath, at, nil, map[string]any{"globalStatus": m.status})
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
	s.emitAgent(a, code, primary, at, nil)
}

// record stores a new activity: the global log is the single source of
// truth; a threat's timeline indexes the same objects.
func (s *Simulator) record(act *activity) {
	act.id, act.seq = s.allocID(), s.nextSeq()
	s.activities = append(s.activities, act)
	if act.threat != nil {
		act.threat.timeline = append(act.threat.timeline, act)
	}
}

// emit records a generated activity of a threat.
func (s *Simulator) emit(t *threat, code int, primary, secondary string, at time.Time, user *consoleUser, data map[string]any) {
	s.record(&activity{
		code: code, primary: primary, secondary: secondary,
		createdAt: at, user: user, data: data, threat: t, agent: s.agents[t.sc.AgentID],
	})
}

// emitAgent records an agent activity in the timelines of the agent's threats,
// which is where a threat-centric client looks for isolation evidence; an
// agent without threats gets one agent-level activity.
func (s *Simulator) emitAgent(a *agent, code int, primary string, at time.Time, user *consoleUser) {
	ts := s.threatsOf(a)
	data := map[string]any{"computerName": a.sc.ComputerName}
	if len(ts) == 0 {
		s.record(&activity{code: code, primary: primary, secondary: a.sc.ComputerName, createdAt: at, user: user, data: data, agent: a})
	}
	for _, t := range ts {
		s.emit(t, code, primary, a.sc.ComputerName, at, user, maps.Clone(data))
	}
}

// mitigationCodes maps URL actions to entry actions and activity codes
// (reference §2.3, codes from the SEKOIA dictionary). The reference only
// gives the range 2031–2035 for "…Pending Reboot"; assigning them in the
// same kill/remediate/rollback/quarantine/unquarantine order as 2011–2015 is
// an inference.
var mitigationCodes = map[string]struct {
	entry                            string
	command, success, failed, reboot int
	verb, pastVerb, noun             string
}{
	"kill":                 {"kill", 2011, 2001, 2006, 2031, "kill", "killed", "kill"},
	"remediate":            {"remediate", 2012, 2002, 2007, 2032, "remediate", "remediated", "remediation"},
	"rollback-remediation": {"rollback", 2013, 2003, 2008, 2033, "roll back", "rolled back", "rollback"},
	"quarantine":           {"quarantine", 2014, 2004, 2009, 2034, "quarantine", "quarantined", "quarantine"},
	"un-quarantine":        {"unquarantine", 2015, 2026, 2027, 2035, "unquarantine", "unquarantined", "unquarantine"},
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
			startedAt: now, lastAt: now,
			fail:   slices.Contains(t.sc.FailActions, urlAction),
			reboot: slices.Contains(t.sc.PendingRebootActions, urlAction),
		}
		switch {
		case urlAction == "rollback-remediation" && !a.vss:
			// The gotcha this simulator exists to teach: the console accepts a
			// rollback it cannot perform (no VSS snapshots) and it never settles.
			m.never = true
		case !a.online:
			m.waiting = true
		default:
			s.schedule(m, now)
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
			t.sc.FilePath, now, apiUser, nil)
		d["reports"] = []any{renderMitigation(m)}
		affected++
		inc2(s.counters.Mitigations, t.sc.ID, urlAction)
	}
	return affected, details
}

// setNetwork starts an isolation change on the agents. For an offline agent
// the change shows as disconnecting/connecting until it comes back.
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
		a.netWaiting = !a.online
		a.updatedAt = maxTime(a.updatedAt, now)
		s.emitAgent(a, code, fmt.Sprintf("The management user %s issued a %s command to the machine %s.", apiUserName, verb, a.sc.ComputerName), now, apiUser)
	}
}

func (s *Simulator) setVerdict(ts []*threat, verdict string, now time.Time, user *consoleUser) (affected int, details []map[string]any) {
	for _, t := range ts {
		res := "not_changed"
		if t.analystVerdict != verdict {
			old := t.analystVerdict
			t.analystVerdict, t.updatedAt, res = verdict, maxTime(t.updatedAt, now), "updated"
			affected++
			s.emit(t, 2030,
				fmt.Sprintf("The management user %s changed the analyst verdict of threat %s to %s.", user.name, t.sc.ThreatName, verdictDescriptions[verdict]),
				t.sc.FilePath, now, user, map[string]any{"oldAnalystVerdict": old, "newAnalystVerdict": verdict})
		}
		details = append(details, map[string]any{"threatId": t.sc.ID, "result": res})
	}
	return affected, details
}

func (s *Simulator) setIncident(ts []*threat, status, verdict string, now time.Time, user *consoleUser) (affected int, details []map[string]any) {
	for _, t := range ts {
		res, vres := "not_changed", "not_changed"
		if t.incidentStatus != status {
			old := t.incidentStatus
			t.incidentStatus, t.updatedAt, res = status, maxTime(t.updatedAt, now), "updated"
			s.emit(t, 2028,
				fmt.Sprintf("The management user %s changed the incident status of threat %s to %s.", user.name, t.sc.ThreatName, incidentDescriptions[status]),
				t.sc.FilePath, now, user, map[string]any{"oldIncidentStatus": old, "newIncidentStatus": status})
		}
		if verdict != "" {
			_, vd := s.setVerdict([]*threat{t}, verdict, now, user)
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
			text, now, apiUser, map[string]any{"noteDetails": text})
	}
	return len(ts)
}

// addToBlocklist records the threats' SHA1s; each distinct hash counts once
// per request. It returns the number of threats affected.
func (s *Simulator) addToBlocklist(ts []*threat, scope, note string, now time.Time) int {
	seen := map[string]bool{}
	for _, t := range ts {
		h := strings.ToLower(t.sc.SHA1)
		if seen[h] {
			continue
		}
		seen[h] = true
		s.counters.Blocklisted[h]++
		if s.blocklist[h] == nil {
			s.blocklist[h] = &blockEntry{sha1: h, osType: s.agents[t.sc.AgentID].sc.OSType, scope: scope, note: note, createdAt: now}
		}
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
