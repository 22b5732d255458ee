// Package report is the weekly SOC report: what s1copilot did over a period, in
// figures a SOC lead reads on Monday morning — investigations by verdict and priority,
// how they ended, how long triage and response took, how long approvers took, what
// was done, the most frequent threats, hosts and hashes, how often analysts agreed
// with the model, and what the model cost.
//
// The figures are computed by a pure function (Compute) from three sources read by
// activities: Temporal visibility (the investigations started in the period and
// their search attributes), the audit log (what each investigation did and when,
// reduced to one Trail per investigation) and SentinelOne (threat names, hosts and
// hashes, which search attributes do not hold). Render turns them into Markdown and
// a self-contained HTML page; Summary drafts the executive summary.
package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
)

// Window is the report's period, [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ID names the report after its period, so that a retried run writes the same files
// and Slack finds the message it already posted.
func (w Window) ID() string {
	const f = "2006-01-02T1504Z"
	return "soc-report-" + w.From.UTC().Format(f) + "--" + w.To.UTC().Format(f)
}

// Contains reports whether t falls in the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

// Investigation is one investigation as Temporal visibility lists it: its search
// attributes (IDs and enums only; AgentName is absent when payloads are encrypted),
// start and close times and status.
type Investigation struct {
	WorkflowID string    `json:"workflowId"`
	ThreatID   string    `json:"threatId"`
	Verdict    string    `json:"verdict,omitempty"`
	Priority   string    `json:"priority,omitempty"`
	Stage      string    `json:"stage,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	SiteID     string    `json:"siteId,omitempty"`
	AgentName  string    `json:"agentName,omitempty"`
	Start      time.Time `json:"start"`
	Close      time.Time `json:"close,omitzero"`
	// Status is the execution status: Running, Completed, Failed, Terminated, …
	Status string `json:"status"`
}

// Running reports whether the investigation had not finished when it was listed.
func (i Investigation) Running() bool { return i.Close.IsZero() }

// Threat is what SentinelOne says about an investigated threat.
type Threat struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"`
	AgentName string    `json:"agentName,omitempty"`
	SHA1      string    `json:"sha1,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

// Pricing is what the model's tokens cost, in US dollars per million tokens. Without
// it the report gives tokens, not dollars.
type Pricing struct {
	PromptPerMillion     float64 `json:"promptPerMillion"`
	CompletionPerMillion float64 `json:"completionPerMillion"`
}

// Count is one bar of a chart: a label and how many.
type Count struct {
	Label string `json:"label"`
	N     int    `json:"n"`
}

// Distribution summarises durations: how many, the median, the 90th percentile (both
// nearest-rank: the smallest value with at least p% of the values at or below it) and
// the longest; Buckets is their histogram for the chart.
type Distribution struct {
	N       int           `json:"n"`
	P50     time.Duration `json:"p50"`
	P90     time.Duration `json:"p90"`
	Max     time.Duration `json:"max"`
	Buckets []Count       `json:"buckets,omitempty"`
}

// GroupLatency is the approval latency of one approver group.
type GroupLatency struct {
	Group   string       `json:"group"`
	Latency Distribution `json:"latency"`
}

// ActionCount counts one action with one verified result.
type ActionCount struct {
	Action string `json:"action"`
	Result string `json:"result"`
	N      int    `json:"n"`
}

// Agreement counts analysts' feedback on the copilot's verdicts.
type Agreement struct {
	Agree    int `json:"agree"`
	Disagree int `json:"disagree"`
	// NA: nothing to compare (a status-only change, an undetermined verdict).
	NA int `json:"na"`
}

// Rate is the share of agreements among the verdicts compared, in percent; ok is false
// when none was compared.
func (a Agreement) Rate() (pct int, ok bool) {
	n := a.Agree + a.Disagree
	if n == 0 {
		return 0, false
	}
	return int(math.Round(100 * float64(a.Agree) / float64(n))), true
}

// Cost is what the model was asked and what it cost.
type Cost struct {
	Calls            int   `json:"calls"`
	PromptTokens     int64 `json:"promptTokens"`
	CompletionTokens int64 `json:"completionTokens"`
	// USD is set only when a price per token is configured.
	USD *float64 `json:"usd,omitempty"`
}

// Figures is everything the report says, computed by Compute.
type Figures struct {
	ReportID string `json:"reportId"`
	Window   Window `json:"window"`
	// Investigations counts the investigations started in the window; Running, those
	// not finished when the report was made.
	Investigations int     `json:"investigations"`
	Running        int     `json:"running"`
	ByVerdict      []Count `json:"byVerdict"`
	ByPriority     []Count `json:"byPriority"`
	// Outcomes: automatic, approved, rejected, approval timed out, recommended only,
	// closed in console, error, running (OutcomeLabels).
	Outcomes []Count `json:"outcomes"`
	// MTTT is threat created → triage note; MTTR, threat created → first verified
	// mitigation.
	MTTT            Distribution   `json:"mttt"`
	MTTR            Distribution   `json:"mttr"`
	ApprovalLatency []GroupLatency `json:"approvalLatency,omitempty"`
	Actions         []ActionCount  `json:"actions,omitempty"`
	TopThreats      []Count        `json:"topThreats,omitempty"`
	TopHosts        []Count        `json:"topHosts,omitempty"`
	TopHashes       []Count        `json:"topHashes,omitempty"`
	Feedback        Agreement      `json:"feedback"`
	// TriagedByModel and TriagedByRules count triage records by analyzer;
	// RulesReasons says why the rules engine triaged (no model, obvious case, model
	// failed, model disagreed).
	TriagedByModel int     `json:"triagedByModel"`
	TriagedByRules int     `json:"triagedByRules"`
	RulesReasons   []Count `json:"rulesReasons,omitempty"`
	Cost           Cost    `json:"cost"`
	// Notes say what the figures could not include and why.
	Notes []string `json:"notes,omitempty"`
}

// Outcome labels, in the order the report shows them.
const (
	OutcomeAutomatic       = "automatic"
	OutcomeApproved        = "approved"
	OutcomeRejected        = "rejected"
	OutcomeTimedOut        = "approval timed out"
	OutcomeRecommended     = "recommended only"
	OutcomeClosedInConsole = "closed in console"
	OutcomeError           = "error"
	OutcomeRunning         = "running"
)

// OutcomeLabels lists the outcome labels in report order.
var OutcomeLabels = []string{OutcomeAutomatic, OutcomeApproved, OutcomeRejected, OutcomeTimedOut,
	OutcomeRecommended, OutcomeClosedInConsole, OutcomeError, OutcomeRunning}

// Unassigned is the approver group of an approver no policy role names.
const Unassigned = "unassigned"

// TopN is how many threats, hosts and hashes the report lists.
const TopN = 10

// Inputs are the sources Compute reads.
type Inputs struct {
	Window         Window
	Investigations []Investigation
	// Trails are the investigations' audit trails (Trails); an investigation
	// without one still counts, from its search attributes.
	Trails  []Trail
	Threats []Threat
	// Pricing is nil when no price per token is configured.
	Pricing *Pricing
	// Notes are caveats from the readers (an audit log that could not be read…).
	Notes []string
}

// Compute turns the sources into the report's figures. It is pure and deterministic
// (the workflow runs it): the same inputs give the same figures, in the same order.
func Compute(in Inputs) Figures {
	f := Figures{ReportID: in.Window.ID(), Window: in.Window, Investigations: len(in.Investigations), Notes: slices.Clone(in.Notes)}
	trails := make(map[string]Trail, len(in.Trails))
	for _, t := range in.Trails {
		trails[t.InvestigationID] = t
	}
	threats := make(map[string]Threat, len(in.Threats))
	for _, t := range in.Threats {
		threats[t.ID] = t
	}
	verdicts, priorities, outcomes := counter{}, counter{}, counter{}
	names, hosts, hashes := counter{}, counter{}, counter{}
	reasons := counter{}
	actions := map[[2]string]int{}
	var mttt, mttr []time.Duration
	approvals := map[string][]time.Duration{}
	var noTrail, noThreat int
	for _, inv := range in.Investigations {
		if inv.Running() {
			f.Running++
		}
		verdicts.add(cmp.Or(inv.Verdict, "not analysed"))
		priorities.add(cmp.Or(inv.Priority, "not analysed"))
		tr, hasTrail := trails[inv.WorkflowID]
		if !hasTrail {
			noTrail++
		}
		outcomes.add(outcomeOf(inv, tr))
		th, hasThreat := threats[inv.ThreatID]
		if !hasThreat {
			noThreat++
		}
		names.add(cmp.Or(th.Name, "unknown (not returned by SentinelOne)"))
		if host := cmp.Or(th.AgentName, inv.AgentName); host != "" {
			hosts.add(host)
		}
		if hash := cmp.Or(th.SHA1, th.SHA256); hash != "" {
			hashes.add(hash)
		}
		created := tr.ThreatCreatedAt
		if created.IsZero() {
			created = th.CreatedAt // triage records written before threatCreatedAt existed
		}
		if d, ok := since(created, tr.TriagedAt); ok {
			mttt = append(mttt, d)
		}
		if d, ok := since(created, tr.MitigatedAt); ok {
			mttr = append(mttr, d)
		}
		if d, ok := since(tr.ApprovalRequestedAt, tr.DecidedAt); ok && (tr.Approval == "approved" || tr.Approval == "rejected") {
			groups := tr.ApproverGroups
			if len(groups) == 0 {
				groups = []string{Unassigned}
			}
			for _, g := range groups {
				approvals[g] = append(approvals[g], d)
			}
		}
		for _, a := range tr.Actions {
			actions[[2]string{a.Action, a.Result}]++
		}
		for _, fb := range tr.Feedback {
			switch fb {
			case "agree":
				f.Feedback.Agree++
			case "disagree":
				f.Feedback.Disagree++
			default:
				f.Feedback.NA++
			}
		}
		switch {
		case tr.Analyzer == "":
		case tr.RulesReason == "":
			f.TriagedByModel++
		default:
			f.TriagedByRules++
			reasons.add(tr.RulesReason)
		}
		f.Cost.Calls += tr.ModelCalls
		f.Cost.PromptTokens += tr.PromptTokens
		f.Cost.CompletionTokens += tr.CompletionTokens
	}
	f.ByVerdict = verdicts.ordered(verdictOrder())
	f.ByPriority = priorities.ordered(priorityOrder())
	f.Outcomes = outcomes.ordered(OutcomeLabels)
	f.MTTT, f.MTTR = Distribute(mttt), Distribute(mttr)
	for _, g := range sortedKeys(approvals) {
		f.ApprovalLatency = append(f.ApprovalLatency, GroupLatency{Group: g, Latency: Distribute(approvals[g])})
	}
	f.Actions = actionCounts(actions)
	f.TopThreats, f.TopHosts, f.TopHashes = names.top(TopN), hosts.top(TopN), hashes.top(TopN)
	f.RulesReasons = reasons.top(len(reasons))
	if p := in.Pricing; p != nil {
		usd := (float64(f.Cost.PromptTokens)*p.PromptPerMillion + float64(f.Cost.CompletionTokens)*p.CompletionPerMillion) / 1e6
		usd = math.Round(usd*1e4) / 1e4 // a demo's cost is a fraction of a cent
		f.Cost.USD = &usd
	}
	if noTrail > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("%d investigation(s) have no records in the audit log read: their times, actions and approvals are missing from the figures", noTrail))
	}
	if noThreat > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("SentinelOne returned no details for %d investigated threat(s) (deleted, or outside the token's scope)", noThreat))
	}
	return f
}

// outcomeOf says how an investigation ended, from its audit trail first (it tells an
// automatic action from an approved one) and its S1Outcome search attribute otherwise.
func outcomeOf(inv Investigation, tr Trail) string {
	switch {
	case inv.Running():
		return OutcomeRunning
	case tr.Approval == "approved":
		return OutcomeApproved
	case tr.Approval == "rejected" || inv.Outcome == "rejected":
		return OutcomeRejected
	case tr.Approval == "timed_out" || inv.Outcome == "approval_timed_out":
		return OutcomeTimedOut
	case tr.Approval == "closed_in_console" || inv.Outcome == "resolved_in_console":
		return OutcomeClosedInConsole
	case inv.Outcome == "error" || inv.Status != "Completed":
		return OutcomeError
	case tr.AutoActions:
		return OutcomeAutomatic
	case inv.Outcome == "recommended":
		return OutcomeRecommended
	case inv.Outcome == "mitigated" || inv.Outcome == "partially_mitigated" || inv.Outcome == "mitigation_failed":
		return OutcomeAutomatic // no audit trail: actions ran, and nobody approved them
	}
	return OutcomeRecommended
}

// since is the time from start to end, when both are known and in order.
func since(start, end time.Time) (time.Duration, bool) {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return 0, false
	}
	return end.Sub(start), true
}

// Distribute summarises durations (see Distribution).
func Distribute(ds []time.Duration) Distribution {
	if len(ds) == 0 {
		return Distribution{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	d := Distribution{N: len(s), P50: percentile(s, 50), P90: percentile(s, 90), Max: s[len(s)-1]}
	for _, b := range durationBuckets {
		n := 0
		for _, v := range s {
			if v >= b.from && (b.to == 0 || v < b.to) {
				n++
			}
		}
		d.Buckets = append(d.Buckets, Count{Label: b.label, N: n})
	}
	return d
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := int(math.Ceil(float64(p) / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// durationBuckets are the histogram's bins: a SOC thinks in minutes, hours and days.
var durationBuckets = []struct {
	label    string
	from, to time.Duration
}{
	{"< 1 min", 0, time.Minute},
	{"1–5 min", time.Minute, 5 * time.Minute},
	{"5–15 min", 5 * time.Minute, 15 * time.Minute},
	{"15–60 min", 15 * time.Minute, time.Hour},
	{"1–4 h", time.Hour, 4 * time.Hour},
	{"4–24 h", 4 * time.Hour, 24 * time.Hour},
	{"≥ 1 day", 24 * time.Hour, 0},
}

type counter map[string]int

func (c counter) add(label string) { c[label]++ }

// ordered lists the labels of order first (those counted, or all of order when
// it is the fixed set of a chart), then any other label alphabetically.
func (c counter) ordered(order []string) []Count {
	var out []Count
	for _, l := range order {
		out = append(out, Count{Label: l, N: c[l]})
	}
	for _, l := range sortedKeys(c) {
		if !slices.Contains(order, l) {
			out = append(out, Count{Label: l, N: c[l]})
		}
	}
	return out
}

// top lists the n most frequent labels, most frequent first, ties alphabetically.
func (c counter) top(n int) []Count {
	out := make([]Count, 0, len(c))
	for _, l := range sortedKeys(c) {
		out = append(out, Count{Label: l, N: c[l]})
	}
	slices.SortStableFunc(out, func(a, b Count) int { return b.N - a.N })
	return out[:min(n, len(out))]
}

func actionCounts(m map[[2]string]int) []ActionCount {
	var out []ActionCount
	for k, n := range m {
		out = append(out, ActionCount{Action: k[0], Result: k[1], N: n})
	}
	rank := func(a string) int {
		if i := slices.Index(investigation.Actions, investigation.Action(a)); i >= 0 {
			return i
		}
		return len(investigation.Actions)
	}
	slices.SortFunc(out, func(a, b ActionCount) int {
		return cmp.Or(cmp.Compare(rank(a.Action), rank(b.Action)), strings.Compare(a.Action, b.Action), strings.Compare(a.Result, b.Result))
	})
	return out
}

func verdictOrder() []string {
	out := make([]string, 0, len(investigation.Verdicts))
	for _, v := range []investigation.Verdict{investigation.VerdictTruePositive, investigation.VerdictSuspicious, investigation.VerdictFalsePositive, investigation.VerdictUndetermined} {
		out = append(out, string(v))
	}
	return out
}

func priorityOrder() []string {
	out := make([]string, 0, len(investigation.Priorities))
	for _, p := range investigation.Priorities {
		out = append(out, string(p))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
