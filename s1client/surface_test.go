package s1client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListThreatsAllFilters(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":[]}`) })
	resolved := true
	_, err := c.ListThreats(context.Background(), ListThreatsParams{
		SiteIDs:            []string{"1"},
		AccountIDs:         []string{"2", "3"},
		GroupIDs:           []string{"4"},
		ConfidenceLevels:   []string{"malicious", "suspicious"},
		AgentMachineTypes:  []string{"server", "kubernetes node"},
		OSTypes:            []string{"windows"},
		IncidentStatuses:   []string{IncidentUnresolved, IncidentInProgress},
		AnalystVerdicts:    []string{VerdictUndefined},
		MitigationStatuses: []string{"not_mitigated"},
		Resolved:           &resolved,
		CreatedAtLte:       time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		UpdatedAtGte:       time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		SortBy:             "updatedAt",
		SortOrder:          "desc",
		Limit:              1,
	})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{
		"siteIds":            {"1"},
		"accountIds":         {"2,3"},
		"groupIds":           {"4"},
		"confidenceLevels":   {"malicious,suspicious"},
		"agentMachineTypes":  {"server,kubernetes node"},
		"osTypes":            {"windows"},
		"incidentStatuses":   {"unresolved,in_progress"},
		"analystVerdicts":    {"undefined"},
		"mitigationStatuses": {"not_mitigated"},
		"resolved":           {"true"},
		"createdAt__lte":     {"2024-05-01T00:00:00.000000Z"},
		"updatedAt__gte":     {"2024-04-01T00:00:00.000000Z"},
		"sortBy":             {"updatedAt"},
		"sortOrder":          {"desc"},
		"limit":              {"1"},
	}, rec.all()[0].Query)

	for _, p := range []ListThreatsParams{
		{ConfidenceLevels: []string{""}}, {OSTypes: []string{"windows,linux"}}, {GroupIDs: []string{" "}}, {Limit: MaxLimit + 1},
	} {
		_, err := c.ListThreats(context.Background(), p)
		assert.ErrorIs(t, err, ErrValidation, "%+v", p)
	}
	assert.Len(t, rec.all(), 1, "rejected params send nothing")
}

func exploreEvent(id string) string {
	return fmt.Sprintf(`{"id":%q,"objectType":"process","eventType":"Process Creation","createdAt":"2024-01-01T00:00:00.000000Z",`+
		`"agentId":"9","processName":"powershell.exe","pid":4242,"parentPid":"1","processCmd":"powershell -enc AAA",`+
		`"dstPort":443,"relatedToThreat":"True","agentIsActive":"False","processStartTime":null,"storyline":"ABCD"}`, id)
}

func TestThreatExploreEvents(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("cursor") {
		case "":
			writeJSON(w, 200, `{"data":[`+exploreEvent("1")+`,`+exploreEvent("2")+`],"pagination":{"nextCursor":"c2","totalItems":5}}`)
		case "c2":
			writeJSON(w, 200, `{"data":[`+exploreEvent("3")+`,`+exploreEvent("4")+`],"pagination":{"nextCursor":"c3","totalItems":5}}`)
		default:
			writeJSON(w, 200, `{"data":[`+exploreEvent("5")+`],"pagination":{"nextCursor":null,"totalItems":5}}`)
		}
	})
	ctx := context.Background()
	evs, err := c.ThreatExploreEvents(ctx, "T1", ExploreParams{EventTypes: []string{"events"}, Limit: 3})
	require.NoError(t, err)
	require.Len(t, evs, 3, "stops at Limit")
	e := evs[0]
	assert.Equal(t, FlexString("1"), e.ID)
	assert.Equal(t, FlexString("4242"), e.PID, "number PID kept as text")
	assert.Equal(t, FlexString("443"), e.DstPort)
	assert.True(t, bool(e.RelatedToThreat), `"True"`)
	assert.False(t, bool(e.AgentIsActive), `"False"`)
	assert.True(t, e.ProcessStartTime.IsZero())
	assert.Equal(t, "powershell -enc AAA", e.ProcessCmd)
	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/web/api/v2.1/threats/T1/explore/events", reqs[0].Path)
	assert.Equal(t, map[string][]string{"limit": {"3"}, "eventTypes": {"events"}}, reqs[0].Query)
	assert.Equal(t, map[string][]string{"limit": {"1"}, "eventTypes": {"events"}, "cursor": {"c2"}}, reqs[1].Query)

	// Limit 0: everything, following the cursor to the end.
	all, err := c.ThreatExploreEvents(ctx, "T1", ExploreParams{})
	require.NoError(t, err)
	assert.Len(t, all, 5)
	assert.Equal(t, strconv.Itoa(DefaultExploreLimit), first(rec.all()[2].Query["limit"]))

	for _, bad := range []func() error{
		func() error { _, err := c.ThreatExploreEvents(ctx, "", ExploreParams{}); return err },
		func() error { _, err := c.ThreatExploreEvents(ctx, "T1", ExploreParams{Limit: -1}); return err },
		func() error {
			_, err := c.ThreatExploreEvents(ctx, "T1", ExploreParams{EventTypes: []string{"a,b"}})
			return err
		},
	} {
		assert.ErrorIs(t, bad(), ErrValidation)
	}
}

func agentJSON(id, name string) string {
	return fmt.Sprintf(`{"id":%q,"computerName":%q,"networkStatus":"connected","osType":"windows"}`, id, name)
}

func TestListAgentsAndEach(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") != "n" {
			writeJSON(w, 200, `{"data":[`+agentJSON("1", "a")+`,`+agentJSON("2", "b")+`],"pagination":{"nextCursor":"n","totalItems":3}}`)
			return
		}
		writeJSON(w, 200, `{"data":[`+agentJSON("3", "c")+`],"pagination":{"nextCursor":null,"totalItems":3}}`)
	})
	ctx := context.Background()
	page, err := c.ListAgents(ctx, ListAgentsParams{
		IDs: []string{"1", "2"}, ComputerName: "WS-01", ComputerNameContains: "ws", SiteIDs: []string{"7"},
		NetworkStatuses: []string{"connected", "disconnected"}, OSTypes: []string{"windows", "linux"}, Limit: 2, Cursor: "x",
	})
	require.NoError(t, err)
	assert.Len(t, page.Items, 2)
	assert.Equal(t, "n", page.NextCursor)
	assert.Equal(t, map[string][]string{
		"ids": {"1,2"}, "computerName": {"WS-01"}, "computerName__contains": {"ws"}, "siteIds": {"7"},
		"networkStatuses": {"connected,disconnected"}, "osTypes": {"windows,linux"}, "limit": {"2"}, "cursor": {"x"},
	}, rec.all()[0].Query)

	var names []string
	require.NoError(t, c.EachAgent(ctx, ListAgentsParams{}, func(a Agent) error { names = append(names, a.ComputerName); return nil }))
	assert.Equal(t, []string{"a", "b", "c"}, names)

	n := len(rec.all())
	for _, p := range []ListAgentsParams{{ComputerName: "a,b"}, {Limit: 5000}, {IDs: []string{""}}} {
		_, err := c.ListAgents(ctx, p)
		assert.ErrorIs(t, err, ErrValidation)
		assert.ErrorIs(t, c.EachAgent(ctx, p, func(Agent) error { return nil }), ErrValidation)
	}
	assert.Len(t, rec.all(), n)
}

func TestAgentByComputerName(t *testing.T) {
	// The fake console ignores the filter for "IGNORED" (returns everyone), matches
	// case-insensitively, and has two agents named "DUP".
	fleet := []struct{ id, name string }{{"1", "WS-01"}, {"2", "ws-01x"}, {"3", "DUP"}, {"4", "DUP"}, {"5", "Ws-01"}}
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		want := r.URL.Query().Get("computerName")
		var items []string
		for _, a := range fleet {
			if want == "IGNORED" || strings.EqualFold(a.name, want) {
				items = append(items, agentJSON(a.id, a.name))
			}
		}
		writeJSON(w, 200, `{"data":[`+strings.Join(items, ",")+`],"pagination":{"nextCursor":null}}`)
	})
	ctx := context.Background()
	a, err := c.AgentByComputerName(ctx, "WS-01")
	require.NoError(t, err, "Ws-01 differs in case: not an exact match")
	assert.Equal(t, FlexString("1"), a.ID)
	assert.Equal(t, "WS-01", first(rec.all()[0].Query["computerName"]))

	_, err = c.AgentByComputerName(ctx, "nohost")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.AgentByComputerName(ctx, "IGNORED")
	assert.ErrorIs(t, err, ErrNotFound, "agents with other names never count")
	_, err = c.AgentByComputerName(ctx, "DUP")
	assert.ErrorIs(t, err, ErrAmbiguous)
	assert.NotErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "IDs 3, 4")
	_, err = c.AgentByComputerName(ctx, " ")
	assert.ErrorIs(t, err, ErrValidation)
}

func TestAddToBlocklist(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":{"affected":2}}`) })
	ctx := context.Background()
	n, err := c.AddToBlocklist(ctx, []string{"11", "12"}, "s1copilot [inv-1] true positive")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = c.AddToBlocklist(ctx, []string{"11"}, "  ")
	require.NoError(t, err)
	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.Equal(t, "/web/api/v2.1/threats/add-to-blacklist", reqs[0].Path)
	assert.JSONEq(t, `{"filter":{"ids":["11","12"]},"data":{"targetScope":"site","note":"s1copilot [inv-1] true positive"}}`, string(reqs[0].Body))
	assert.JSONEq(t, `{"filter":{"ids":["11"]},"data":{"targetScope":"site"}}`, string(reqs[1].Body), "empty note omitted")

	_, err = c.AddToBlocklist(ctx, nil, "x")
	assert.ErrorIs(t, err, ErrValidation)
	assert.Len(t, rec.all(), 2)
}

func TestListActivitiesQueryAndEach(t *testing.T) {
	act := func(id string, typ int) string {
		return fmt.Sprintf(`{"id":%q,"activityType":%d,"threatId":"T1","createdAt":"2024-01-01T00:00:00Z"}`, id, typ)
	}
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			writeJSON(w, 200, `{"data":[`+act("1", 2011)+`],"pagination":{"nextCursor":"p2","totalItems":2}}`)
			return
		}
		writeJSON(w, 200, `{"data":[`+act("2", 2001)+`],"pagination":{"nextCursor":null,"totalItems":2}}`)
	})
	ctx := context.Background()
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := ListActivitiesParams{
		ThreatIDs: []string{"T1"}, AgentIDs: []string{"A1", "A2"},
		ActivityTypes: []int{int(ActivityKillSuccess), int(ActivityKillFailed), int(ActivityKillPendingReboot)},
		CreatedAtGt:   since, SortBy: "createdAt", SortOrder: "asc", Limit: 1,
	}
	var types []int
	require.NoError(t, c.EachActivity(ctx, p, func(a Activity) error { types = append(types, int(a.ActivityType)); return nil }))
	assert.Equal(t, []int{2011, 2001}, types)
	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, map[string][]string{
		"threatIds": {"T1"}, "agentIds": {"A1,A2"}, "activityTypes": {"2001,2006,2031"},
		"createdAt__gt": {"2024-01-01T00:00:00.000000Z"}, "sortBy": {"createdAt"}, "sortOrder": {"asc"}, "limit": {"1"},
	}, reqs[0].Query)
	assert.Equal(t, "p2", first(reqs[1].Query["cursor"]))
	assert.Equal(t, "2024-01-01T00:00:00.000000Z", first(reqs[1].Query["createdAt__gt"]), "filters kept on every page")

	for _, bad := range []ListActivitiesParams{{ActivityTypes: []int{0}}, {SortOrder: "up"}, {Limit: -2}, {ThreatIDs: []string{""}}} {
		assert.ErrorIs(t, c.EachActivity(ctx, bad, func(Activity) error { return nil }), ErrValidation)
	}
	assert.Len(t, rec.all(), 2)
}

func TestActivityTypeCodes(t *testing.T) {
	for code, want := range map[ActivityType]int{
		ActivityNewThreatMitigated: 18, ActivityNewMaliciousThreatNotMitigated: 19,
		ActivityUserDisconnectedAgent: 61, ActivityUserReconnectedAgent: 62,
		ActivityAgentDisconnected: 1001, ActivityAgentReconnected: 1002,
		ActivityKillSuccess: 2001, ActivityRemediateSuccess: 2002, ActivityRollbackSuccess: 2003, ActivityQuarantineSuccess: 2004,
		ActivityKillFailed: 2006, ActivityRemediateFailed: 2007, ActivityRollbackFailed: 2008, ActivityQuarantineFailed: 2009,
		ActivityUserKillCommand: 2011, ActivityUserRemediateCommand: 2012, ActivityUserRollbackCommand: 2013,
		ActivityUserQuarantineCommand: 2014, ActivityUserUnquarantineCommand: 2015,
		ActivityUnquarantineSuccess: 2026, ActivityUnquarantineFailed: 2027,
		ActivityIncidentStatusChanged: 2028, ActivityAnalystVerdictChanged: 2030,
		ActivityKillPendingReboot: 2031, ActivityRemediatePendingReboot: 2032, ActivityRollbackPendingReboot: 2033,
		ActivityQuarantinePendingReboot: 2034, ActivityUnquarantinePendingReboot: 2035,
	} {
		assert.Equal(t, want, int(code))
	}
}

func TestDVQueryStatusState(t *testing.T) {
	for state, want := range map[string]DVState{
		"PROCESS_RUNNING": DVRunning, "EVENTS_RUNNING": DVRunning, "RUNNING": DVRunning, "PLANNING": DVRunning,
		"QUERY_RUNNING": DVRunning,
		"FINISHED":      DVFinished, "finished": DVFinished, " FINISHED ": DVFinished,
		"EMPTY_RESULTS": DVFinishedEmpty,
		"FAILED":        DVFailed, "FAILED_CLIENT": DVFailed, "ERROR": DVFailed,
		"TIMED_OUT": DVExpired, "QUERY_EXPIRED": DVExpired,
		"QUERY_CANCELLED": DVCancelled, "QUERY_CANCEL": DVCancelled,
		"QUERY_NOT_FOUND": DVNotFound,
		"":                DVUnknown, "PAUSED": DVUnknown, "FINISHED_PARTIAL": DVUnknown,
	} {
		got := DVQueryStatus{ResponseState: state}.State()
		assert.Equal(t, want, got, "%q", state)
		assert.Equal(t, want != DVRunning && want != DVUnknown, got.Terminal(), "%q", state)
	}
}

func TestDVRequests(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/web/api/v2.1/dv/init-query":
			writeJSON(w, 200, `{"data":{"queryId":"q1"}}`)
		case "/web/api/v2.1/dv/query-status":
			writeJSON(w, 200, `{"data":{"responseState":"FAILED","responseError":"bad syntax","progressStatus":"40"}}`)
		case "/web/api/v2.1/dv/cancel-query":
			writeJSON(w, 200, `{"data":{"success":"QUERY_CANCELLED"}}`)
		default:
			writeJSON(w, 200, `{"data":[]}`)
		}
	})
	ctx := context.Background()
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	id, err := c.DVInitQuery(ctx, DVQueryParams{
		Query: `EventType = "Process Creation"`, FromDate: from, ToDate: from.Add(time.Hour),
		QueryType: []string{"events"}, Limit: 20000, SiteIDs: []string{"5"},
	})
	require.NoError(t, err)
	assert.Equal(t, "q1", id)
	st, err := c.DVQueryStatus(ctx, "q1")
	require.NoError(t, err)
	assert.Equal(t, DVFailed, st.State())
	assert.Equal(t, "bad syntax", st.ResponseError)
	assert.Equal(t, FlexInt(40), st.ProgressStatus)
	require.NoError(t, c.DVCancel(ctx, "q1"))
	_, err = c.DVEvents(ctx, "q1", "cur", 0)
	require.NoError(t, err)

	reqs := rec.all()
	require.Len(t, reqs, 4)
	assert.Equal(t, http.MethodPost, reqs[0].Method)
	assert.JSONEq(t, `{"query":"EventType = \"Process Creation\"","fromDate":"2024-01-01T00:00:00.000000Z","toDate":"2024-01-01T01:00:00.000000Z","queryType":["events"],"limit":20000,"siteIds":["5"]}`, string(reqs[0].Body))
	assert.Equal(t, map[string][]string{"queryId": {"q1"}}, reqs[1].Query)
	assert.Equal(t, "/web/api/v2.1/dv/cancel-query", reqs[2].Path)
	assert.JSONEq(t, `{"queryId":"q1"}`, string(reqs[2].Body))
	assert.Equal(t, map[string][]string{"queryId": {"q1"}, "cursor": {"cur"}, "limit": {"100"}}, reqs[3].Query)

	// Minimal body: optional keys omitted.
	_, err = c.DVInitQuery(ctx, DVQueryParams{Query: "x", FromDate: from, ToDate: from.Add(time.Minute)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"query":"x","fromDate":"2024-01-01T00:00:00.000000Z","toDate":"2024-01-01T00:01:00.000000Z"}`, string(rec.all()[4].Body))

	n := len(rec.all())
	for name, p := range map[string]DVQueryParams{
		"empty query": {FromDate: from, ToDate: from.Add(time.Hour)},
		"no dates":    {Query: "x"},
		"reversed":    {Query: "x", FromDate: from, ToDate: from.Add(-time.Hour)},
		"limit":       {Query: "x", FromDate: from, ToDate: from.Add(time.Hour), Limit: MaxDVQueryLimit + 1},
		"query type":  {Query: "x", FromDate: from, ToDate: from.Add(time.Hour), QueryType: []string{"threats"}},
		"site":        {Query: "x", FromDate: from, ToDate: from.Add(time.Hour), SiteIDs: []string{""}},
	} {
		_, err := c.DVInitQuery(ctx, p)
		assert.ErrorIs(t, err, ErrValidation, name)
	}
	_, err = c.DVQueryStatus(ctx, "")
	assert.ErrorIs(t, err, ErrValidation)
	assert.ErrorIs(t, c.DVCancel(ctx, ""), ErrValidation)
	_, err = c.DVEvents(ctx, "q", "", 1001)
	assert.ErrorIs(t, err, ErrValidation)
	assert.ErrorIs(t, c.EachDVEvent(ctx, "q", -1, func(DVEvent) error { return nil }), ErrValidation)
	assert.Len(t, rec.all(), n)
}

func TestDVInitQueryWithoutQueryID(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":{}}`) })
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := c.DVInitQuery(context.Background(), DVQueryParams{Query: "x", FromDate: from, ToDate: from.Add(time.Hour)})
	assert.ErrorIs(t, err, ErrBadResponse)
}

func TestRetryDelay(t *testing.T) {
	assert.Equal(t, 5*time.Second, DefaultRetryAfter)
	for _, tc := range []struct {
		header string
		status int
		want   time.Duration
	}{
		{"7", 429, 7 * time.Second},
		{"", 429, DefaultRetryAfter},
		{"garbage", 429, DefaultRetryAfter},
		{"", 503, 0},
		{"3", 503, 3 * time.Second},
		{"", 400, 0},
	} {
		c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			writeJSON(w, tc.status, `{"errors":[{"code":1,"title":"x","detail":null}]}`)
		})
		_, err := c.ListThreats(context.Background(), ListThreatsParams{})
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, tc.want, apiErr.RetryDelay(), "%d %q", tc.status, tc.header)
	}
}

func TestBadResponseBodies(t *testing.T) {
	ctx := context.Background()
	for name, h := range map[string]http.HandlerFunc{
		"truncated JSON": func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, `{"data":[{"id":"1","threatInfo":{"threatId":"1"}},{"id":"2","thr`)
		},
		"invalid JSON": func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":[}`) },
		"empty JSON":   func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, ``) },
		"wrong shape":  func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":{"id":1}}`) },
		"body cut by the connection": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "5000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"data":[{"id":"1"`))
			// The handler returns with 4982 bytes missing: the server closes the connection.
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newServer(t, h)
			_, err := c.ListThreats(ctx, ListThreatsParams{})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadResponse)
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr), "not an API error")
			assert.Contains(t, err.Error(), "GET /threats", "names the endpoint")
		})
	}
	// A non-2xx with a broken body is still an APIError, not a bad response.
	c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 502, `{"errors":[`) })
	_, err := c.ListThreats(ctx, ListThreatsParams{})
	assert.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrBadResponse)
}
