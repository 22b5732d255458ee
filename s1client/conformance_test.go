package s1client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// Conformance: ONE set of checks, each taking a console base URL, run against every target:
//
//   - "reference": an httptest console answering with the reference's samples
//     (s1-samples/) and small hand-written bodies in the shapes the reference documents;
//   - "simulator": s1sim with the demo scenario.
//
// A check lists the endpoints it needs; a target that does not serve one of them skips the
// check (the simulator is probed, so checks for activities, explore events, blocklist and DV
// start running by themselves the day it serves them). To add a check, append to
// conformanceChecks; to add an endpoint to the reference console, extend referenceConsole.

type conformanceCheck struct {
	name  string
	needs []string // "METHOD /path" below /web/api/v2.1; {id} is a threat ID
	run   func(t *testing.T, baseURL string)
}

type conformanceTarget struct {
	name string
	// start returns the base URL of a fresh console (one per check, so checks never see
	// each other's writes).
	start func(t *testing.T) string
	// serves reports whether the console routes endpoint at all.
	serves func(t *testing.T, baseURL, endpoint string) bool
}

var threatIDPattern = regexp.MustCompile(`^[0-9]{15,19}$`)

// conformanceClient is a client with the default per-class rate limits (they are what a
// rate-enforcing console expects).
func conformanceClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	c, err := New(baseURL, testToken)
	require.NoError(t, err)
	return c
}

// rawGet fetches path (below /web/api/v2.1, with query) and decodes the body generically,
// numbers kept as json.Number so the wire type (string vs number) can be asserted.
func rawGet(t *testing.T, baseURL, pathQuery, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+apiPrefix+pathQuery, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "ApiToken "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, decodeJSON(raw, &body), "GET %s: body %.200s", pathQuery, raw)
	return resp.StatusCode, body
}

func firstThreatID(t *testing.T, c *Client) string {
	t.Helper()
	page, err := c.ListThreats(context.Background(), ListThreatsParams{Limit: 1, SortBy: "createdAt", SortOrder: "asc"})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items, "the console has no threat")
	return string(page.Items[0].ID)
}

// assertWireTime checks a timestamp as sent: an ISO-8601 UTC string ending in Z.
func assertWireTime(t *testing.T, v any, what string) {
	t.Helper()
	s, ok := v.(string)
	if !assert.True(t, ok, "%s is a JSON string, got %T", what, v) {
		return
	}
	assert.True(t, strings.HasSuffix(s, "Z"), "%s %q is UTC with Z", what, s)
	_, err := time.Parse(time.RFC3339Nano, s)
	assert.NoError(t, err, what)
}

func assertWireID(t *testing.T, v any, what string) {
	t.Helper()
	s, ok := v.(string)
	if assert.True(t, ok, "%s is a JSON string (not a number), got %T %v", what, v, v) {
		assert.Regexp(t, threatIDPattern, s, what)
	}
}

var conformanceChecks = []conformanceCheck{
	{name: "threats envelope, pagination fields, ID strings, timestamps", needs: []string{"GET /threats"},
		run: func(t *testing.T, baseURL string) {
			status, body := rawGet(t, baseURL, "/threats?limit=1", testToken)
			require.Equal(t, 200, status)
			data, ok := body["data"].([]any)
			require.True(t, ok, "data is an array")
			require.Len(t, data, 1)
			pag, ok := body["pagination"].(map[string]any)
			require.True(t, ok, "pagination is an object")
			total, ok := pag["totalItems"].(json.Number)
			require.True(t, ok, "totalItems is a number, got %T", pag["totalItems"])
			n, err := total.Int64()
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, int64(2), "the console needs 2+ threats for this check")
			cur, ok := pag["nextCursor"].(string)
			assert.True(t, ok && cur != "", "nextCursor is a non-empty string when more pages follow, got %v", pag["nextCursor"])

			th := data[0].(map[string]any)
			assertWireID(t, th["id"], "threat.id")
			ti := th["threatInfo"].(map[string]any)
			assert.Equal(t, th["id"], ti["threatId"], "threatInfo.threatId = id")
			assertWireTime(t, ti["createdAt"], "threatInfo.createdAt")
			assertWireTime(t, ti["updatedAt"], "threatInfo.updatedAt")
			ari := th["agentRealtimeInfo"].(map[string]any)
			assertWireID(t, ari["agentId"], "agentRealtimeInfo.agentId")
			_, ok = th["mitigationStatus"].([]any)
			assert.True(t, ok, "mitigationStatus is an array")

			// The last page says so with nextCursor null.
			status, body = rawGet(t, baseURL, "/threats?limit=1000", testToken)
			require.Equal(t, 200, status)
			pag = body["pagination"].(map[string]any)
			v, present := pag["nextCursor"]
			assert.True(t, present && v == nil, "last page: nextCursor is null, got %v", v)
			assert.Len(t, body["data"], int(n))
		}},
	{name: "threats paging through the client", needs: []string{"GET /threats"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			ctx := context.Background()
			page, err := c.ListThreats(ctx, ListThreatsParams{Limit: 1})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.NotEmpty(t, page.NextCursor)
			var ids []string
			var created []time.Time
			err = c.EachThreat(ctx, ListThreatsParams{Limit: 1, SortBy: "createdAt", SortOrder: "asc"}, func(th Threat) error {
				ids = append(ids, string(th.ID))
				created = append(created, th.ThreatInfo.CreatedAt.Time)
				assert.Equal(t, th.ID, th.ThreatInfo.ThreatID)
				assert.False(t, th.ThreatInfo.CreatedAt.IsZero())
				return nil
			})
			require.NoError(t, err)
			assert.Len(t, ids, page.TotalItems)
			assert.Len(t, slices.Compact(slices.Sorted(slices.Values(ids))), len(ids), "no threat twice")
			assert.True(t, slices.IsSortedFunc(created, func(a, b time.Time) int { return a.Compare(b) }), "createdAt ascending")

			th, err := c.GetThreat(ctx, ids[len(ids)-1])
			require.NoError(t, err)
			assert.Equal(t, ids[len(ids)-1], string(th.ID))
			_, err = c.GetThreat(ctx, "1999999999999999999")
			assert.ErrorIs(t, err, ErrNotFound)
		}},
	{name: "agents list", needs: []string{"GET /agents"},
		run: func(t *testing.T, baseURL string) {
			status, body := rawGet(t, baseURL, "/agents?limit=1000", testToken)
			require.Equal(t, 200, status)
			data := body["data"].([]any)
			require.NotEmpty(t, data)
			for _, a := range data {
				assertWireID(t, a.(map[string]any)["id"], "agent.id")
			}
			_, ok := body["pagination"].(map[string]any)
			assert.True(t, ok, "pagination object")

			c := conformanceClient(t, baseURL)
			ctx := context.Background()
			var agents []Agent
			require.NoError(t, c.EachAgent(ctx, ListAgentsParams{Limit: 1}, func(a Agent) error { agents = append(agents, a); return nil }))
			require.Len(t, agents, len(data))
			a := agents[0]
			assert.NotEmpty(t, a.ComputerName)
			assert.Contains(t, []string{"connected", "disconnected", "connecting", "disconnecting"}, a.NetworkStatus)
			got, err := c.GetAgent(ctx, string(a.ID))
			require.NoError(t, err)
			assert.Equal(t, a.ComputerName, got.ComputerName)
			byName, err := c.AgentByComputerName(ctx, a.ComputerName)
			same := 0
			for _, b := range agents {
				if b.ComputerName == a.ComputerName {
					same++
				}
			}
			if same == 1 {
				require.NoError(t, err)
				assert.Equal(t, a.ID, byName.ID)
			} else {
				assert.ErrorIs(t, err, ErrAmbiguous)
			}
			_, err = c.AgentByComputerName(ctx, "no-such-host-s1copilot")
			assert.ErrorIs(t, err, ErrNotFound)
		}},
	{name: "notes add and list", needs: []string{"GET /threats", "GET /threats/{id}/notes", "POST /threats/notes"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			ctx := context.Background()
			id := firstThreatID(t, c)
			before, err := c.ThreatNotes(ctx, id)
			require.NoError(t, err)
			n, err := c.AddThreatNote(ctx, []string{id}, "s1copilot conformance note")
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			after, err := c.ThreatNotes(ctx, id)
			require.NoError(t, err)
			require.Len(t, after, len(before)+1)
			var found *Note
			for i := range after {
				if after[i].Text == "s1copilot conformance note" {
					found = &after[i]
				}
			}
			require.NotNil(t, found)
			assert.NotEmpty(t, found.ID)
			assert.False(t, found.CreatedAt.IsZero())
		}},
	{name: "mitigate affected and details", needs: []string{"GET /threats", "POST /threats/mitigate/{action}"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			id := firstThreatID(t, c)
			res, err := c.Mitigate(context.Background(), MitigationKill, []string{id})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Affected)
			for _, d := range res.Details { // details are optional (older consoles)
				assert.Equal(t, id, string(d.ThreatID))
				for _, r := range d.Reports {
					assert.Equal(t, "kill", r.Action)
					assert.Contains(t, []string{"pending", "sent", "success", "failed", "partial", "pending-reboot"}, r.Status)
				}
				for _, s := range d.Skipped {
					assert.Contains(t, []string{"permissions", "not_supported", "precondition", "triggered"}, s.Reason)
				}
			}
			res, err = c.Mitigate(context.Background(), MitigationKill, []string{"1999999999999999999"})
			require.NoError(t, err, "an unknown ID is not an error")
			assert.Equal(t, 0, res.Affected)
		}},
	{name: "401 body", needs: []string{"GET /threats"},
		run: func(t *testing.T, baseURL string) {
			status, body := rawGet(t, baseURL, "/threats", "wrong-token")
			require.Equal(t, 401, status)
			errs := body["errors"].([]any)
			require.Len(t, errs, 1)
			e := errs[0].(map[string]any)
			assert.Equal(t, json.Number("4010010"), e["code"])
			assert.Equal(t, "Authentication Failed", e["title"])
			d, present := e["detail"]
			assert.True(t, present && d == nil, "detail is present and null")

			c, err := New(baseURL, "wrong-token")
			require.NoError(t, err)
			_, err = c.ListThreats(context.Background(), ListThreatsParams{})
			assert.ErrorIs(t, err, ErrUnauthorized)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, []ErrorDetail{{Code: 4010010, Title: "Authentication Failed"}}, apiErr.Errors)
		}},
	{name: "400 body", needs: []string{"GET /threats"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			_, err := c.ListThreats(context.Background(), ListThreatsParams{Cursor: "not-a-cursor"})
			assert.ErrorIs(t, err, ErrValidation)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 400, apiErr.StatusCode)
			require.Len(t, apiErr.Errors, 1)
			assert.Equal(t, 4000010, apiErr.Errors[0].Code)
			assert.Equal(t, "Validation Error", apiErr.Errors[0].Title)
			assert.NotEmpty(t, apiErr.Errors[0].Detail)
		}},
	{name: "activities list", needs: []string{"GET /activities"},
		run: func(t *testing.T, baseURL string) {
			status, body := rawGet(t, baseURL, "/activities?limit=1000", testToken)
			require.Equal(t, 200, status)
			data := body["data"].([]any)
			require.NotEmpty(t, data, "a console with threats has activities")
			for _, a := range data {
				m := a.(map[string]any)
				assert.IsType(t, "", m["id"], "activity.id is a string")
				_, isNum := m["activityType"].(json.Number)
				assert.True(t, isNum, "activityType is a number")
				assertWireTime(t, m["createdAt"], "activity.createdAt")
			}
			c := conformanceClient(t, baseURL)
			var n int
			require.NoError(t, c.EachActivity(context.Background(), ListActivitiesParams{Limit: 1, SortBy: "createdAt", SortOrder: "asc"}, func(a Activity) error {
				n++
				assert.Positive(t, int(a.ActivityType))
				return nil
			}))
			assert.Equal(t, len(data), n)
		}},
	{name: "threat explore events", needs: []string{"GET /threats", "GET /threats/{id}/explore/events"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			id := firstThreatID(t, c)
			status, body := rawGet(t, baseURL, "/threats/"+id+"/explore/events?limit=5", testToken)
			require.Equal(t, 200, status)
			for _, e := range body["data"].([]any) {
				m := e.(map[string]any)
				assert.NotEmpty(t, m["id"])
				if v, ok := m["relatedToThreat"]; ok && v != nil {
					assert.Contains(t, []any{"True", "False", true, false}, v)
				}
			}
			evs, err := c.ThreatExploreEvents(context.Background(), id, ExploreParams{Limit: 5})
			require.NoError(t, err)
			assert.LessOrEqual(t, len(evs), 5)
			for _, e := range evs {
				assert.NotEmpty(t, e.ID)
			}
		}},
	{name: "add to blocklist", needs: []string{"GET /threats", "POST /threats/add-to-blacklist"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			id := firstThreatID(t, c)
			n, err := c.AddToBlocklist(context.Background(), []string{id}, "")
			require.NoError(t, err)
			assert.Equal(t, 1, n)
		}},
	{name: "deep visibility query", needs: []string{"POST /dv/init-query", "GET /dv/query-status", "GET /dv/events", "POST /dv/cancel-query"},
		run: func(t *testing.T, baseURL string) {
			c := conformanceClient(t, baseURL)
			ctx := context.Background()
			to := time.Now().UTC()
			id, err := c.DVInitQuery(ctx, DVQueryParams{Query: `EventType = "Process Creation"`, FromDate: to.Add(-24 * time.Hour), ToDate: to})
			require.NoError(t, err)
			require.NotEmpty(t, id)
			var st DVQueryStatus
			for range 15 { // 1 poll/s by the client's own limit
				st, err = c.DVQueryStatus(ctx, id)
				require.NoError(t, err)
				if st.State().Terminal() {
					break
				}
			}
			require.Contains(t, []DVState{DVFinished, DVFinishedEmpty}, st.State(), "responseState %q", st.ResponseState)
			var n int
			require.NoError(t, c.EachDVEvent(ctx, id, 0, func(e DVEvent) error {
				n++
				assert.NotEmpty(t, e.ID)
				return nil
			}))
			if st.State() == DVFinishedEmpty {
				assert.Zero(t, n)
			}
			assert.NoError(t, c.DVCancel(ctx, id))
		}},
}

func TestConformance(t *testing.T) {
	for _, target := range []conformanceTarget{referenceTarget(), simulatorTarget()} {
		t.Run(target.name, func(t *testing.T) {
			for _, check := range conformanceChecks {
				t.Run(check.name, func(t *testing.T) {
					base := target.start(t)
					for _, ep := range check.needs {
						if !target.serves(t, base, ep) {
							t.Skipf("%s does not serve %s yet", target.name, ep)
						}
					}
					check.run(t, base)
				})
			}
		})
	}
}

// --- simulator target --------------------------------------------------------------------

func simulatorTarget() conformanceTarget {
	return conformanceTarget{
		name: "simulator",
		start: func(t *testing.T) string {
			sc, err := scenario.LoadFS(scenarios.FS, "demo")
			require.NoError(t, err)
			sim, err := simulator.New(sc, simulator.Options{Token: testToken})
			require.NoError(t, err)
			srv := httptest.NewServer(sim.Handler())
			t.Cleanup(srv.Close)
			return srv.URL
		},
		serves: probeRoute,
	}
}

// probeRoute asks the console whether it routes endpoint without calling it: it sends the
// other method, which a router answers with 405 (route exists) or 404 (no such path). No
// state changes and no rate-limited call is spent.
func probeRoute(t *testing.T, baseURL, endpoint string) bool {
	t.Helper()
	method, path, _ := strings.Cut(endpoint, " ")
	if strings.Contains(path, "{id}") {
		c, err := New(baseURL, testToken, WithoutRateLimits())
		require.NoError(t, err)
		path = strings.ReplaceAll(path, "{id}", firstThreatID(t, c))
	}
	path = strings.ReplaceAll(path, "{action}", "kill")
	other := http.MethodPost
	if method == http.MethodPost {
		other = http.MethodGet
	}
	req, err := http.NewRequest(other, baseURL+apiPrefix+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "ApiToken "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusMethodNotAllowed
}

// --- reference target --------------------------------------------------------------------

func referenceTarget() conformanceTarget {
	return conformanceTarget{
		name: "reference",
		start: func(t *testing.T) string {
			srv := httptest.NewServer(newReferenceConsole(t))
			t.Cleanup(srv.Close)
			return srv.URL
		},
		serves: func(*testing.T, string, string) bool { return true },
	}
}

// referenceConsole answers with the reference samples where one exists and with small
// hand-written bodies in the documented shapes (API reference §1.2, §2) elsewhere. It keeps
// just enough state (notes) for the checks.
type referenceConsole struct {
	t       *testing.T
	threats []map[string]any // built from testdata/threats_page.json
	agents  []json.RawMessage
	mu      sync.Mutex
	notes   map[string][]map[string]any
}

func newReferenceConsole(t *testing.T) *referenceConsole {
	t.Helper()
	var page struct {
		Data []map[string]any `json:"data"`
	}
	require.NoError(t, decodeJSON(readFixture(t), &page))
	rc := &referenceConsole{t: t, notes: map[string][]map[string]any{}}
	base, _ := strconv.ParseInt(page.Data[0]["id"].(string), 10, 64)
	for i := range 3 { // three threats, one minute apart, documented shapes
		var th map[string]any
		b, _ := json.Marshal(page.Data[0])
		require.NoError(t, decodeJSON(b, &th))
		id := strconv.FormatInt(base+int64(i), 10)
		th["id"] = id
		ti := th["threatInfo"].(map[string]any)
		ti["threatId"] = id
		at := time.Date(2024, 5, 1, 12, i, 0, 0, time.UTC).Format(wireTime)
		ti["createdAt"], ti["updatedAt"] = at, at
		// The fixture sends agentId as a number to exercise FlexString; documented: a string.
		ari := th["agentRealtimeInfo"].(map[string]any)
		ari["agentId"] = fmt.Sprint(ari["agentId"])
		rc.threats = append(rc.threats, th)
	}
	var agents struct {
		Data []json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(readSample(t, "rapid7_search_agents_single.json"), &agents))
	rc.agents = agents.Data
	return rc
}

func (rc *referenceConsole) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "ApiToken "+testToken {
		writeJSON(w, 401, readSample(rc.t, "alertlogic_paws_error_401_authentication_failed.json"))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	q := r.URL.Query()
	route := r.Method + " " + path
	switch {
	case route == "GET /threats":
		rc.listThreats(w, q)
	case route == "GET /agents":
		var items []json.RawMessage
		for _, a := range rc.agents {
			var v struct {
				ID           string `json:"id"`
				ComputerName string `json:"computerName"`
			}
			_ = json.Unmarshal(a, &v)
			if ids := q.Get("ids"); ids != "" && !slices.Contains(strings.Split(ids, ","), v.ID) {
				continue
			}
			if n := q.Get("computerName"); n != "" && n != v.ComputerName {
				continue
			}
			items = append(items, a)
		}
		writeJSON(w, 200, map[string]any{"data": items, "pagination": map[string]any{"nextCursor": nil, "totalItems": len(items)}})
	case r.Method == "GET" && strings.HasPrefix(path, "/threats/") && strings.HasSuffix(path, "/notes"):
		id := strings.Split(path, "/")[2]
		rc.mu.Lock()
		notes := append([]map[string]any{}, rc.notes[id]...)
		rc.mu.Unlock()
		writeJSON(w, 200, map[string]any{"data": notes, "pagination": map[string]any{"nextCursor": nil, "totalItems": len(notes)}})
	case route == "POST /threats/notes":
		var body struct {
			Filter struct{ IDs []string } `json:"filter"`
			Data   struct{ Text string }  `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		rc.mu.Lock()
		n := 0
		for _, id := range body.Filter.IDs {
			if rc.threat(id) != nil {
				n++
				rc.notes[id] = append(rc.notes[id], map[string]any{
					"id": strconv.Itoa(1000 + len(rc.notes[id])), "text": body.Data.Text, "creator": "s1copilot", "creatorId": "900000000000000001",
					"createdAt": time.Now().UTC().Format(wireTime), "updatedAt": time.Now().UTC().Format(wireTime), "edited": false,
				})
			}
		}
		rc.mu.Unlock()
		writeJSON(w, 200, map[string]any{"data": map[string]any{"affected": n}})
	case r.Method == "POST" && strings.HasPrefix(path, "/threats/mitigate/"):
		var body struct {
			Filter struct{ IDs []string } `json:"filter"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		action := strings.TrimPrefix(path, "/threats/mitigate/")
		details := []any{}
		for _, id := range body.Filter.IDs {
			if rc.threat(id) != nil {
				details = append(details, map[string]any{"threatId": id,
					"reports": []any{map[string]any{"action": action, "status": "pending", "lastUpdate": time.Now().UTC().Format(wireTime)}},
					"skipped": []any{}})
			}
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"affected": len(details), "details": details}})
	case route == "GET /activities":
		writeJSON(w, 200, readSample(rc.t, "rapid7_activities_list.json"))
	case r.Method == "GET" && strings.HasPrefix(path, "/threats/") && strings.HasSuffix(path, "/explore/events"):
		writeJSON(w, 200, `{"data":[`+exploreEvent("500000000000000001")+`,`+exploreEvent("500000000000000002")+`],"pagination":{"nextCursor":null,"totalItems":2}}`)
	case route == "POST /threats/add-to-blacklist":
		writeJSON(w, 200, readSample(rc.t, "rapid7_affected_1.json"))
	case route == "POST /dv/init-query":
		writeJSON(w, 200, readSample(rc.t, "rapid7_create_query.json"))
	case route == "GET /dv/query-status":
		writeJSON(w, 200, readSample(rc.t, "rapid7_get_query_status.json"))
	case route == "GET /dv/events":
		raw := readSample(rc.t, "rapid7_get_events_success_page_1.json")
		if q.Get("cursor") != "" {
			raw = []byte(strings.Replace(string(raw), `"nextCursor": "eyJkZX01234="`, `"nextCursor": null`, 1))
		}
		writeJSON(w, 200, raw)
	case route == "POST /dv/cancel-query":
		writeJSON(w, 200, readSample(rc.t, "rapid7_cancel_running_query.json"))
	default:
		writeJSON(w, 404, `{"errors":[{"code":4040010,"detail":null,"title":"Not Found"}]}`)
	}
}

func (rc *referenceConsole) threat(id string) map[string]any {
	for _, th := range rc.threats {
		if th["id"] == id {
			return th
		}
	}
	return nil
}

func (rc *referenceConsole) listThreats(w http.ResponseWriter, q map[string][]string) {
	get := func(k string) string { return first(q[k]) }
	offset := 0
	if c := get("cursor"); c != "" {
		b, err := base64.StdEncoding.DecodeString(c)
		if off, ok := strings.CutPrefix(string(b), "offset:"); err == nil && ok {
			offset, err = strconv.Atoi(off)
		}
		if err != nil || offset == 0 {
			writeJSON(w, 400, readSample(rc.t, "demisto_error_400_validation_error.json"))
			return
		}
	}
	var items []map[string]any
	for _, th := range rc.threats {
		if ids := get("ids"); ids != "" && !slices.Contains(strings.Split(ids, ","), th["id"].(string)) {
			continue
		}
		items = append(items, th)
	}
	if get("sortOrder") == "desc" {
		slices.Reverse(items)
	}
	limit, _ := strconv.Atoi(get("limit"))
	if limit == 0 {
		limit = 10
	}
	total := len(items)
	items = items[min(offset, total):min(offset+limit, total)]
	var next any
	if offset+limit < total {
		next = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "offset:%d", offset+limit))
	}
	if items == nil {
		items = []map[string]any{}
	}
	writeJSON(w, 200, map[string]any{"data": items, "pagination": map[string]any{"nextCursor": next, "totalItems": total}})
}
