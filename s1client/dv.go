package s1client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Deep Visibility (DV). Mind the console's limits: init-query is 1 call per minute per API
// token and query-status 1 per second, so the per-threat context normally comes from
// ThreatTimeline / ThreatExploreEvents; DV is for hunting across agents.

// DVQueryParams is the body of POST /dv/init-query.
type DVQueryParams struct {
	// Query is an S1QL v1 query, e.g. `EventType = "Process Creation" AND SrcProcName ContainsCIS "powershell"`.
	Query            string
	FromDate, ToDate time.Time
	// QueryType is "events" and/or "processState"; nil lets the console choose.
	QueryType []string
	// Limit caps the events the query collects (1..100000); 0 lets the console choose.
	Limit               int
	SiteIDs, AccountIDs []string
}

// MaxDVQueryLimit is the largest DVQueryParams.Limit the console accepts.
const MaxDVQueryLimit = 100000

type dvInitBody struct {
	Query      string   `json:"query"`
	FromDate   string   `json:"fromDate"`
	ToDate     string   `json:"toDate"`
	QueryType  []string `json:"queryType,omitempty"`
	Limit      int      `json:"limit,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty"`
	AccountIDs []string `json:"accountIds,omitempty"`
}

// DVInitQuery starts a Deep Visibility query (POST /dv/init-query) and returns its queryId.
// Poll DVQueryStatus until State() is terminal, then read DVEvents.
func (c *Client) DVInitQuery(ctx context.Context, p DVQueryParams) (string, error) {
	const op = "dv init query"
	if strings.TrimSpace(p.Query) == "" {
		return "", invalidArg(op, "empty query")
	}
	if p.FromDate.IsZero() || p.ToDate.IsZero() {
		return "", invalidArg(op, "fromDate and toDate are required")
	}
	if !p.FromDate.Before(p.ToDate) {
		return "", invalidArg(op, "fromDate %s is not before toDate %s", formatTime(p.FromDate), formatTime(p.ToDate))
	}
	if p.Limit < 0 || p.Limit > MaxDVQueryLimit {
		return "", invalidArg(op, "limit %d out of range 1..%d", p.Limit, MaxDVQueryLimit)
	}
	for _, t := range p.QueryType {
		if t != "events" && t != "processState" {
			return "", invalidArg(op, "queryType %q must be events or processState", t)
		}
	}
	for key, ids := range map[string][]string{"siteIds": p.SiteIDs, "accountIds": p.AccountIDs} {
		if slices.ContainsFunc(ids, func(s string) bool { return strings.TrimSpace(s) == "" }) {
			return "", invalidArg(op, "%s: empty ID", key)
		}
	}
	body := dvInitBody{
		Query: p.Query, FromDate: formatTime(p.FromDate), ToDate: formatTime(p.ToDate),
		QueryType: p.QueryType, Limit: p.Limit, SiteIDs: p.SiteIDs, AccountIDs: p.AccountIDs,
	}
	var env envelope[DVQuery]
	if err := c.do(ctx, request{method: http.MethodPost, path: "/dv/init-query", tmpl: "/dv/init-query", body: body}, &env); err != nil {
		return "", err
	}
	if env.Data.QueryID == "" {
		return "", fmt.Errorf("s1: POST /dv/init-query: answer has no data.queryId: %w", ErrBadResponse)
	}
	return env.Data.QueryID, nil
}

// DVQueryStatus fetches the state of a DV query (GET /dv/query-status?queryId=…).
func (c *Client) DVQueryStatus(ctx context.Context, queryID string) (DVQueryStatus, error) {
	if strings.TrimSpace(queryID) == "" {
		return DVQueryStatus{}, invalidArg("dv query status", "empty queryId")
	}
	var env envelope[DVQueryStatus]
	r := request{method: http.MethodGet, path: "/dv/query-status", tmpl: "/dv/query-status", query: url.Values{"queryId": {queryID}}}
	if err := c.do(ctx, r, &env); err != nil {
		return DVQueryStatus{}, err
	}
	return env.Data, nil
}

// DVEvents fetches one page of a finished DV query's events (GET /dv/events). limit is the
// page size, 1..1000, 0 meaning DefaultLimit; cursor "" is the first page.
func (c *Client) DVEvents(ctx context.Context, queryID, cursor string, limit int) (Page[DVEvent], error) {
	const op = "dv events"
	if strings.TrimSpace(queryID) == "" {
		return Page[DVEvent]{}, invalidArg(op, "empty queryId")
	}
	l, err := pageLimit(op, limit)
	if err != nil {
		return Page[DVEvent]{}, err
	}
	q := url.Values{"queryId": {queryID}, "limit": {l}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return list[DVEvent](ctx, c, "/dv/events", "/dv/events", q)
}

// EachDVEvent calls fn for every event of a DV query, pageSize at a time (0 = MaxLimit), in
// the console's order. An error from fn stops the iteration and is returned unchanged.
func (c *Client) EachDVEvent(ctx context.Context, queryID string, pageSize int, fn func(DVEvent) error) error {
	if pageSize == 0 {
		pageSize = MaxLimit
	}
	if _, err := pageLimit("dv events", pageSize); err != nil {
		return err
	}
	return each("", "dv event", func(cursor string) (Page[DVEvent], error) {
		return c.DVEvents(ctx, queryID, cursor, pageSize)
	}, fn)
}

// DVCancel cancels a running DV query (POST /dv/cancel-query {"queryId":…}). The console
// answers {"data":{"success":<string>}} (e.g. "FINISHED" for a query already done); any 2xx
// counts as accepted.
func (c *Client) DVCancel(ctx context.Context, queryID string) error {
	if strings.TrimSpace(queryID) == "" {
		return invalidArg("dv cancel query", "empty queryId")
	}
	var env envelope[DVCancel]
	r := request{method: http.MethodPost, path: "/dv/cancel-query", tmpl: "/dv/cancel-query", body: map[string]string{"queryId": queryID}}
	return c.do(ctx, r, &env)
}

// DVQuery is the data of POST /dv/init-query and POST /dv/events/pq.
type DVQuery struct {
	QueryID string `json:"queryId"`
}

// DVQueryStatus is the data of GET /dv/query-status.
type DVQueryStatus struct {
	ResponseState  string   `json:"responseState"` // see State
	ProgressStatus FlexInt  `json:"progressStatus"`
	ResponseError  string   `json:"responseError"`
	Warnings       []string `json:"warnings"`
	QueryModeInfo  *struct {
		Mode            string `json:"mode"`
		LastActivatedAt Time   `json:"lastActivatedAt"`
	} `json:"queryModeInfo"`
}

// DVState classifies a DV responseState.
type DVState string

// DV query states. Every responseState the spec documents maps to one (API reference §4.2;
// the schema enum and the endpoint text disagree, so both sets are covered).
const (
	DVRunning       DVState = "running"        // PROCESS_RUNNING, EVENTS_RUNNING, RUNNING, PLANNING, QUERY_RUNNING
	DVFinished      DVState = "finished"       // FINISHED: read DVEvents
	DVFinishedEmpty DVState = "finished-empty" // EMPTY_RESULTS: done, nothing to read
	DVFailed        DVState = "failed"         // FAILED, FAILED_CLIENT, ERROR (see ResponseError)
	DVExpired       DVState = "expired"        // TIMED_OUT, QUERY_EXPIRED: start a new query
	DVCancelled     DVState = "cancelled"      // QUERY_CANCELLED, QUERY_CANCEL
	DVNotFound      DVState = "not-found"      // QUERY_NOT_FOUND
	DVUnknown       DVState = "unknown"        // anything else (a newer console): keep polling, bounded
)

// State classifies ResponseState (case-insensitively).
func (s DVQueryStatus) State() DVState {
	switch strings.ToUpper(strings.TrimSpace(s.ResponseState)) {
	case "PROCESS_RUNNING", "EVENTS_RUNNING", "RUNNING", "PLANNING", "QUERY_RUNNING":
		return DVRunning
	case "FINISHED":
		return DVFinished
	case "EMPTY_RESULTS":
		return DVFinishedEmpty
	case "FAILED", "FAILED_CLIENT", "ERROR":
		return DVFailed
	case "TIMED_OUT", "QUERY_EXPIRED":
		return DVExpired
	case "QUERY_CANCELLED", "QUERY_CANCEL":
		return DVCancelled
	case "QUERY_NOT_FOUND":
		return DVNotFound
	}
	return DVUnknown
}

// Terminal reports whether the query will not change state any more.
func (s DVState) Terminal() bool { return s != DVRunning && s != DVUnknown }

// DVCancel is the data of POST /dv/cancel-query (success is a string, e.g. "FINISHED").
type DVCancel struct {
	Success FlexString `json:"success"`
}

// DVEvent is one item of GET /dv/events: the spec's "legacy" names plus the newer flat
// fields real consoles add (API reference §4.3). Values arrive loosely typed (PIDs as
// strings, booleans as "True"/"False"), hence the Flex types.
type DVEvent struct {
	ID             FlexString `json:"id"`
	EventType      string     `json:"eventType"`
	ObjectType     string     `json:"objectType"`
	CreatedAt      Time       `json:"createdAt"`
	EventTime      Time       `json:"eventTime"`
	AgentTimestamp Time       `json:"agentTimestamp"`
	AccountID      FlexString `json:"accountId"`
	SiteID         FlexString `json:"siteId"`
	SiteName       string     `json:"siteName"`
	EventAgent
	EndpointName        string `json:"endpointName"`
	EndpointOS          string `json:"endpointOs"`
	EndpointMachineType string `json:"endpointMachineType"`
	MetaEventName       string `json:"metaEventName"`
	User                string `json:"user"`

	ProcessName            string     `json:"processName"`
	ProcessCmd             string     `json:"processCmd"`
	ProcessImagePath       string     `json:"processImagePath"`
	ProcessImageSha1Hash   string     `json:"processImageSha1Hash"`
	ProcessUserName        string     `json:"processUserName"`
	ProcessUniqueKey       string     `json:"processUniqueKey"`
	ProcessGroupID         string     `json:"processGroupId"`
	ProcessStartTime       Time       `json:"processStartTime"`
	ProcessIntegrityLevel  string     `json:"processIntegrityLevel"`
	PID                    FlexString `json:"pid"`
	TID                    FlexString `json:"tid"`
	ParentPID              FlexString `json:"parentPid"`
	ParentProcessName      string     `json:"parentProcessName"`
	ParentProcessUniqueKey string     `json:"parentProcessUniqueKey"`

	SrcProcName        string     `json:"srcProcName"`
	SrcProcCmdLine     string     `json:"srcProcCmdLine"`
	SrcProcImagePath   string     `json:"srcProcImagePath"`
	SrcProcPid         FlexString `json:"srcProcPid"`
	SrcProcUser        string     `json:"srcProcUser"`
	SrcProcStorylineID string     `json:"srcProcStorylineId"`
	SrcProcParentName  string     `json:"srcProcParentName"`

	SrcIP        string     `json:"srcIp"`
	SrcPort      FlexString `json:"srcPort"`
	DstIP        string     `json:"dstIp"`
	DstPort      FlexString `json:"dstPort"`
	DNSRequest   string     `json:"dnsRequest"`
	DNSResponse  string     `json:"dnsResponse"`
	NetworkURL   string     `json:"networkUrl"`
	FileFullName string     `json:"fileFullName"`
	FileSha1     string     `json:"fileSha1"`
	FileSha256   string     `json:"fileSha256"`
	FileMd5      string     `json:"fileMd5"`
	RegistryPath string     `json:"registryPath"`
	TaskName     string     `json:"taskName"`
	TaskPath     string     `json:"taskPath"`

	IndicatorName     string `json:"indicatorName"`
	IndicatorCategory string `json:"indicatorCategory"`

	Storyline       string   `json:"storyline"`
	TrueContext     string   `json:"trueContext"`
	RelatedToThreat FlexBool `json:"relatedToThreat"`
	ThreatStatus    string   `json:"threatStatus"`
}

// PowerQueryResult is the data of POST /dv/events/pq and GET /dv/events/pq-ping.
type PowerQueryResult struct {
	QueryID         string          `json:"queryId"`
	Status          string          `json:"status"`
	Progress        FlexInt         `json:"progress"`
	Columns         []PowerQueryCol `json:"columns"`
	Data            [][]any         `json:"data"`
	Recommendations []string        `json:"recommendations"`
}

// PowerQueryCol is a Power Query result column.
type PowerQueryCol struct {
	Name string `json:"name"`
	Type string `json:"type"`
}
