package s1client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const (
	// DefaultLimit is the page size used when a Limit is 0. The console's own default (10)
	// makes needlessly many calls against a 10 requests/s class.
	DefaultLimit = 100
	// MaxLimit is the console's maximum page size.
	MaxLimit = 1000
	// DefaultTimelineLimit is used by ThreatTimeline when limit <= 0.
	DefaultTimelineLimit = 1000
)

// wireTime is the console's own timestamp format (UTC, microseconds, Z).
const wireTime = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(wireTime) }

// Page is one page of a list endpoint. NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
	TotalItems int
	// Counted: the console sent pagination.totalItems (it does unless asked to skipCount).
	// Without it TotalItems is 0, which a caller must not read as "none".
	Counted bool
}

// ListThreatsParams filters GET /threats. Zero values mean "not set". Slice fields are sent
// comma-separated; values are passed through unchecked (the console validates them) except
// that empty values and values containing a comma are refused, as they would silently widen
// or break the filter.
type ListThreatsParams struct {
	IDs        []string
	AgentIDs   []string
	SiteIDs    []string
	AccountIDs []string
	GroupIDs   []string
	// ContentHashes selects threats whose file has one of these SHA1s (contentHashes).
	ContentHashes []string
	// ExternalTicketIDs selects threats linked to one of these tickets (externalTicketIds,
	// see SetExternalTicketID).
	ExternalTicketIDs []string
	// ExternalTicketExists, if set, selects threats with (true) or without (false) a
	// ticket (externalTicketExists).
	ExternalTicketExists *bool

	ConfidenceLevels   []string // malicious | suspicious | n/a
	AgentMachineTypes  []string // desktop | laptop | server | "kubernetes node" | …
	OSTypes            []string // windows | windows_legacy | macos | linux
	IncidentStatuses   []string // Incident* constants
	AnalystVerdicts    []string // Verdict* constants
	MitigationStatuses []string // not_mitigated | mitigated | marked_as_benign

	// Workload filters match a substring of the field (__contains, at least 2
	// characters each); a threat matches when any of the list's values occurs in it.
	K8sClusterNameContains     []string // k8sClusterName__contains
	K8sNamespaceNameContains   []string // k8sNamespaceName__contains
	ContainerImageNameContains []string // containerImageName__contains

	CreatedAtGte, CreatedAtLte time.Time
	UpdatedAtGte, UpdatedAtLte time.Time
	// CreatedAtLt and UpdatedAtLt are exclusive upper bounds (__lt): adjacent ranges
	// [a, b) and [b, c) then never both hold a threat stamped b.
	CreatedAtLt, UpdatedAtLt time.Time

	// Resolved filters on the API 2.0 "resolved" flag; nil means both.
	Resolved *bool

	SortBy    string // e.g. "createdAt", "updatedAt", "id"
	SortOrder string // "asc" or "desc"

	// CountOnly asks only for pagination.totalItems (Page.TotalItems); Items stay empty.
	CountOnly bool

	// Limit is the page size, 1..1000; 0 means DefaultLimit (100). Anything else is an
	// error returned before any request.
	Limit  int
	Cursor string
}

func (p ListThreatsParams) query() (url.Values, error) {
	const op = "list threats"
	q := url.Values{}
	limit, err := pageLimit(op, p.Limit)
	if err != nil {
		return nil, err
	}
	q.Set("limit", limit)
	if err := setCSV(q, op, map[string][]string{
		"ids": p.IDs, "agentIds": p.AgentIDs, "siteIds": p.SiteIDs, "accountIds": p.AccountIDs, "groupIds": p.GroupIDs,
		"k8sClusterName__contains": p.K8sClusterNameContains, "k8sNamespaceName__contains": p.K8sNamespaceNameContains, "containerImageName__contains": p.ContainerImageNameContains,
		"confidenceLevels": p.ConfidenceLevels, "agentMachineTypes": p.AgentMachineTypes, "osTypes": p.OSTypes,
		"incidentStatuses": p.IncidentStatuses, "analystVerdicts": p.AnalystVerdicts, "mitigationStatuses": p.MitigationStatuses,
		"contentHashes": p.ContentHashes, "externalTicketIds": p.ExternalTicketIDs,
	}); err != nil {
		return nil, err
	}
	for key, t := range map[string]time.Time{
		"createdAt__gte": p.CreatedAtGte, "createdAt__lt": p.CreatedAtLt, "createdAt__lte": p.CreatedAtLte,
		"updatedAt__gte": p.UpdatedAtGte, "updatedAt__lt": p.UpdatedAtLt, "updatedAt__lte": p.UpdatedAtLte,
	} {
		if !t.IsZero() {
			q.Set(key, formatTime(t))
		}
	}
	if p.Resolved != nil {
		q.Set("resolved", strconv.FormatBool(*p.Resolved))
	}
	if p.ExternalTicketExists != nil {
		q.Set("externalTicketExists", strconv.FormatBool(*p.ExternalTicketExists))
	}
	if p.CountOnly {
		q.Set("countOnly", "true")
	}
	if err := setSort(q, op, p.SortBy, p.SortOrder); err != nil {
		return nil, err
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q, nil
}

// csv joins values the way the console expects array query parameters (comma-separated),
// rejecting empty values and values containing commas, which would silently widen the filter.
func csv(vals []string) (string, error) {
	for _, v := range vals {
		if strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("empty value")
		}
		if strings.Contains(v, ",") {
			return "", fmt.Errorf("value %q contains a comma", v)
		}
	}
	return strings.Join(vals, ","), nil
}

// setCSV sets every non-empty list in lists as a comma-separated query parameter.
func setCSV(q url.Values, op string, lists map[string][]string) error {
	for key, vals := range lists {
		v, err := csv(vals)
		if err != nil {
			return invalidArg(op, "%s: %v", key, err)
		}
		if v != "" {
			q.Set(key, v)
		}
	}
	return nil
}

// pageLimit resolves a list Limit: 0 means DefaultLimit, 1..MaxLimit is kept, anything else
// is refused before any request.
func pageLimit(op string, limit int) (string, error) {
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return "", invalidArg(op, "limit %d out of range 1..%d", limit, MaxLimit)
	}
	return strconv.Itoa(limit), nil
}

// setSort validates and sets sortBy/sortOrder.
func setSort(q url.Values, op, sortBy, sortOrder string) error {
	if sortBy != "" {
		q.Set("sortBy", sortBy)
	}
	switch sortOrder {
	case "":
	case "asc", "desc":
		q.Set("sortOrder", sortOrder)
	default:
		return invalidArg(op, "sortOrder %q must be asc or desc", sortOrder)
	}
	return nil
}

// checkIDs validates IDs for a POST filter: an empty filter would act on the whole scope.
func checkIDs(op, what string, ids []string) error {
	if len(ids) == 0 {
		return invalidArg(op, "no %s IDs given (an empty filter would match everything)", what)
	}
	for _, id := range ids {
		if strings.TrimSpace(id) == "" {
			return invalidArg(op, "empty %s ID", what)
		}
	}
	return nil
}

// ListThreats fetches one page of GET /threats.
func (c *Client) ListThreats(ctx context.Context, p ListThreatsParams) (Page[Threat], error) {
	q, err := p.query()
	if err != nil {
		return Page[Threat]{}, err
	}
	return list[Threat](ctx, c, "/threats", "/threats", q)
}

// list fetches one page of a list endpoint.
func list[T any](ctx context.Context, c *Client, path, tmpl string, q url.Values) (Page[T], error) {
	var env envelope[[]T]
	if err := c.do(ctx, request{method: http.MethodGet, path: path, tmpl: tmpl, query: q}, &env); err != nil {
		return Page[T]{}, err
	}
	return toPage(&env), nil
}

// decodePage decodes a list response body exactly as the client does.
func decodePage[T any](raw []byte) (Page[T], error) {
	var env envelope[[]T]
	if err := decodeJSON(raw, &env); err != nil {
		return Page[T]{}, err
	}
	return toPage(&env), nil
}

func toPage[T any](env *envelope[[]T]) Page[T] {
	p := Page[T]{Items: env.Data, NextCursor: string(env.Pagination.NextCursor)}
	if n := env.Pagination.TotalItems; n != nil {
		p.TotalItems, p.Counted = int(*n), true
	}
	return p
}

// each runs a cursor iteration: fetch(cursor) returns one page, fn sees every item. It stops
// on the last page, on fn's error (returned unchanged), or when the console repeats a cursor.
func each[T any](start string, what string, fetch func(cursor string) (Page[T], error), fn func(T) error) error {
	seen := map[string]bool{}
	if start != "" {
		seen[start] = true
	}
	cursor := start
	for {
		page, err := fetch(cursor)
		if err != nil {
			return fmt.Errorf("s1: each %s: %w", what, err)
		}
		for _, it := range page.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		// A console bug returning the same cursor would otherwise loop forever.
		if seen[page.NextCursor] {
			return fmt.Errorf("s1: each %s: console returned cursor %.40q twice", what, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
}

// EachThreat calls fn for every threat matching p, following pagination.nextCursor until
// the console reports no next page. It starts at p.Cursor if set. An error from fn stops
// the iteration and is returned unchanged.
func (c *Client) EachThreat(ctx context.Context, p ListThreatsParams, fn func(Threat) error) error {
	return each(p.Cursor, "threat", func(cursor string) (Page[Threat], error) {
		p.Cursor = cursor
		return c.ListThreats(ctx, p)
	}, fn)
}

// GetThreat fetches one threat via GET /threats?ids=<id> (the API has no /threats/{id}).
// A threat the token cannot see, or that does not exist, yields an error wrapping
// ErrNotFound.
func (c *Client) GetThreat(ctx context.Context, threatID string) (Threat, error) {
	if err := checkIDs("get threat", "threat", []string{threatID}); err != nil {
		return Threat{}, err
	}
	q := url.Values{"ids": {threatID}}
	page, err := list[Threat](ctx, c, "/threats", "/threats", q)
	if err != nil {
		return Threat{}, fmt.Errorf("s1: get threat %s: %w", threatID, err)
	}
	for _, t := range page.Items {
		if string(t.ID) == threatID {
			return t, nil
		}
	}
	return Threat{}, fmt.Errorf("s1: get threat %s: %w", threatID, ErrNotFound)
}

// ThreatTimeline returns up to limit entries of GET /threats/{id}/timeline, oldest first,
// following the cursor. limit <= 0 means DefaultTimelineLimit.
func (c *Client) ThreatTimeline(ctx context.Context, threatID string, limit int) ([]TimelineEntry, error) {
	if err := checkIDs("threat timeline", "threat", []string{threatID}); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = DefaultTimelineLimit
	}
	path := "/threats/" + url.PathEscape(threatID) + "/timeline"
	var (
		out    []TimelineEntry
		cursor string
		seen   = map[string]bool{}
	)
	for len(out) < limit {
		q := url.Values{
			"limit":     {strconv.Itoa(min(limit-len(out), MaxLimit))},
			"sortBy":    {"createdAt"},
			"sortOrder": {"asc"},
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := list[TimelineEntry](ctx, c, path, "/threats/{threatId}/timeline", q)
		if err != nil {
			return nil, fmt.Errorf("s1: threat %s timeline: %w", threatID, err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" || len(page.Items) == 0 {
			break
		}
		if seen[page.NextCursor] {
			return nil, fmt.Errorf("s1: threat %s timeline: console returned cursor %.40q twice", threatID, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ThreatNotes returns every note of a threat (GET /threats/{id}/notes, all pages).
func (c *Client) ThreatNotes(ctx context.Context, threatID string) ([]Note, error) {
	if err := checkIDs("threat notes", "threat", []string{threatID}); err != nil {
		return nil, err
	}
	path := "/threats/" + url.PathEscape(threatID) + "/notes"
	var (
		out    []Note
		cursor string
		seen   = map[string]bool{}
	)
	for {
		q := url.Values{"limit": {strconv.Itoa(DefaultLimit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := list[Note](ctx, c, path, "/threats/{threatId}/notes", q)
		if err != nil {
			return nil, fmt.Errorf("s1: threat %s notes: %w", threatID, err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" || len(page.Items) == 0 {
			return out, nil
		}
		if seen[page.NextCursor] {
			return nil, fmt.Errorf("s1: threat %s notes: console returned cursor %.40q twice", threatID, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
}

// idFilter is the {"ids":[…]} filter of action bodies.
type idFilter struct {
	IDs []string `json:"ids"`
}

type affectedData struct {
	Affected FlexInt `json:"affected"`
}

// post sends {"filter":{"ids":ids},"data":data} and returns data.affected. A nil data omits
// the "data" key.
func (c *Client) post(ctx context.Context, path, tmpl string, ids []string, data any) (int, error) {
	body := map[string]any{"filter": idFilter{IDs: ids}}
	if data != nil {
		body["data"] = data
	}
	var env envelope[affectedData]
	if err := c.do(ctx, request{method: http.MethodPost, path: path, tmpl: tmpl, body: body}, &env); err != nil {
		return 0, err
	}
	return int(env.Data.Affected), nil
}

// AddThreatNote adds one note with text to each threat (POST /threats/notes) and returns the
// number of threats affected.
func (c *Client) AddThreatNote(ctx context.Context, threatIDs []string, text string) (int, error) {
	const op = "add threat note"
	if err := checkIDs(op, "threat", threatIDs); err != nil {
		return 0, err
	}
	if strings.TrimSpace(text) == "" {
		return 0, invalidArg(op, "empty note text")
	}
	n, err := c.post(ctx, "/threats/notes", "/threats/notes", threatIDs, map[string]string{"text": text})
	if err != nil {
		return 0, err // already "s1: POST <path>: …"
	}
	return n, nil
}

// MitigationAction is the {action} path value of POST /threats/mitigate/{action}.
type MitigationAction string

// Mitigation actions accepted by Mitigate.
const (
	MitigationKill         MitigationAction = "kill"
	MitigationQuarantine   MitigationAction = "quarantine"
	MitigationRemediate    MitigationAction = "remediate"
	MitigationRollback     MitigationAction = "rollback-remediation"
	MitigationUnquarantine MitigationAction = "un-quarantine"
)

// Valid reports whether a is one of the Mitigation* actions.
func (a MitigationAction) Valid() bool {
	switch a {
	case MitigationKill, MitigationQuarantine, MitigationRemediate, MitigationRollback, MitigationUnquarantine:
		return true
	}
	return false
}

// StatusAction returns the threat.mitigationStatus[].action value this action produces:
// the path and the status entry spell rollback and unquarantine differently.
func (a MitigationAction) StatusAction() string {
	switch a {
	case MitigationRollback:
		return "rollback"
	case MitigationUnquarantine:
		return "unquarantine"
	}
	return string(a)
}

// Mitigate runs action on the threats (POST /threats/mitigate/{action}). Affected counts only
// threats the token may mitigate; acceptance is not completion — poll the threat's
// MitigationEntry for the outcome.
func (c *Client) Mitigate(ctx context.Context, action MitigationAction, threatIDs []string) (MitigateResult, error) {
	op := "mitigate " + string(action)
	if !action.Valid() {
		return MitigateResult{}, invalidArg("mitigate", "unknown action %q", string(action))
	}
	if err := checkIDs(op, "threat", threatIDs); err != nil {
		return MitigateResult{}, err
	}
	path := "/threats/mitigate/" + string(action)
	body := map[string]any{"filter": idFilter{IDs: threatIDs}, "data": struct{}{}}
	var env envelope[struct {
		Affected FlexInt          `json:"affected"`
		Details  []MitigateDetail `json:"details"`
	}]
	if err := c.do(ctx, request{method: http.MethodPost, path: path, tmpl: path, body: body}, &env); err != nil {
		return MitigateResult{}, err // already "s1: POST /threats/mitigate/<action>: …"
	}
	return MitigateResult{Affected: int(env.Data.Affected), Details: env.Data.Details}, nil
}

// Incident statuses and analyst verdicts accepted by SetIncidentStatus / SetAnalystVerdict.
const (
	IncidentUnresolved = "unresolved"
	IncidentInProgress = "in_progress"
	IncidentResolved   = "resolved"

	VerdictUndefined     = "undefined"
	VerdictTruePositive  = "true_positive"
	VerdictFalsePositive = "false_positive"
	VerdictSuspicious    = "suspicious"
)

func validIncidentStatus(s string) bool {
	return s == IncidentUnresolved || s == IncidentInProgress || s == IncidentResolved
}

func validVerdict(v string) bool {
	return v == VerdictUndefined || v == VerdictTruePositive || v == VerdictFalsePositive || v == VerdictSuspicious
}

// SetIncidentStatus sets threatInfo.incidentStatus (and analystVerdict, if non-empty) via
// POST /threats/incident, returning the number of threats affected.
func (c *Client) SetIncidentStatus(ctx context.Context, threatIDs []string, status, analystVerdict string) (int, error) {
	const op = "set incident status"
	if err := checkIDs(op, "threat", threatIDs); err != nil {
		return 0, err
	}
	if !validIncidentStatus(status) {
		return 0, invalidArg(op, "unknown incident status %q", status)
	}
	data := map[string]string{"incidentStatus": status}
	if analystVerdict != "" {
		if !validVerdict(analystVerdict) {
			return 0, invalidArg(op, "unknown analyst verdict %q", analystVerdict)
		}
		data["analystVerdict"] = analystVerdict
	}
	n, err := c.post(ctx, "/threats/incident", "/threats/incident", threatIDs, data)
	if err != nil {
		return 0, err // already "s1: POST <path>: …"
	}
	return n, nil
}

// SetAnalystVerdict sets threatInfo.analystVerdict via POST /threats/analyst-verdict,
// returning the number of threats affected.
func (c *Client) SetAnalystVerdict(ctx context.Context, threatIDs []string, verdict string) (int, error) {
	const op = "set analyst verdict"
	if err := checkIDs(op, "threat", threatIDs); err != nil {
		return 0, err
	}
	if !validVerdict(verdict) {
		return 0, invalidArg(op, "unknown analyst verdict %q", verdict)
	}
	n, err := c.post(ctx, "/threats/analyst-verdict", "/threats/analyst-verdict", threatIDs, map[string]string{"analystVerdict": verdict})
	if err != nil {
		return 0, err // already "s1: POST <path>: …"
	}
	return n, nil
}

// BlocklistScopeSite is the data.targetScope AddToBlocklist sends.
const BlocklistScopeSite = "site"

// AddToBlocklist adds the hashes of the threats' files to the blocklist (POST
// /threats/add-to-blacklist) at site scope and returns the number of threats affected.
//
// Body: {"filter":{"ids":[…]},"data":{"targetScope":"site","note":…}}. filter.ids and
// data.targetScope="site" are what public callers send (Rapid7 InsightConnect plugin and
// other clients). [inference] data.note is not attested anywhere we could read; it is sent
// only when note is non-empty, so a console that rejects it ("Unknown field") can be served
// by passing "" — record the reason in a threat note instead.
func (c *Client) AddToBlocklist(ctx context.Context, threatIDs []string, note string) (int, error) {
	const op = "add to blocklist"
	if err := checkIDs(op, "threat", threatIDs); err != nil {
		return 0, err
	}
	data := map[string]string{"targetScope": BlocklistScopeSite}
	if note = strings.TrimSpace(note); note != "" {
		data["note"] = note
	}
	return c.post(ctx, "/threats/add-to-blacklist", "/threats/add-to-blacklist", threatIDs, data)
}

// SetExternalTicketID links a threat to a ticket in an external (SOAR / ticketing) system:
// POST /threats/external-ticket-id sets threatInfo.externalTicketId, which the console
// shows on the threat and GET /threats filters on (externalTicketIds,
// externalTicketExists). It returns the number of threats affected; 0 means the threat is
// not visible to the token.
//
// Body: {"filter":{"ids":[threatID]},"data":{"externalTicketId":ticketID}}, answer
// {"data":{"affected":N}}. The endpoint and the {filter, data} → {data:{affected}} shape
// are in the reference (§2.4); [inference] the data field's name is not: it is taken from
// the threat field it sets, threatInfo.externalTicketId.
//
// The ticket ID must be non-empty and free of control characters (it is shown in the
// console and in notes); the console's own length limit is not documented.
func (c *Client) SetExternalTicketID(ctx context.Context, threatID, ticketID string) (affected int, err error) {
	const op = "set external ticket id"
	if err := checkIDs(op, "threat", []string{threatID}); err != nil {
		return 0, err
	}
	if strings.TrimSpace(ticketID) == "" {
		return 0, invalidArg(op, "empty ticket ID")
	}
	if strings.IndexFunc(ticketID, unicode.IsControl) >= 0 {
		return 0, invalidArg(op, "ticket ID %q contains control characters", ticketID)
	}
	return c.post(ctx, "/threats/external-ticket-id", "/threats/external-ticket-id", []string{threatID},
		map[string]string{"externalTicketId": ticketID})
}
