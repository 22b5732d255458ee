package s1client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://usea1.sentinelone.net":               "https://usea1.sentinelone.net",
		"https://usea1.sentinelone.net/":              "https://usea1.sentinelone.net",
		"https://usea1.sentinelone.net/web/api/v2.1":  "https://usea1.sentinelone.net",
		"https://usea1.sentinelone.net/web/api/v2.1/": "https://usea1.sentinelone.net",
		"usea1.sentinelone.net":                       "https://usea1.sentinelone.net",
		"http://127.0.0.1:8080/prefix/web/api/v2.1":   "http://127.0.0.1:8080/prefix",
		" https://euce1-100.sentinelone.net//  ":      "https://euce1-100.sentinelone.net",
	} {
		c, err := New(in, "t")
		require.NoError(t, err, in)
		assert.Equal(t, want, c.BaseURL(), in)
	}
	for _, bad := range []string{"", "ftp://x", "https://", "https://user:pw@host"} {
		_, err := New(bad, "t")
		assert.Error(t, err, bad)
	}
	_, err := New("https://usea1.sentinelone.net", "  ")
	assert.ErrorContains(t, err, "empty API token")
}

func TestRequestHeadersAndPrefix(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"data":[]}`)
			return
		}
		writeJSON(w, 200, `{"data":{"affected":2}}`)
	})
	// A pasted header value is tolerated: the scheme word is not sent twice.
	c2, err := New(c.BaseURL()+"/web/api/v2.1/", "ApiToken "+testToken, WithRateLimiter(nil), WithUserAgent("soc-test/9"))
	require.NoError(t, err)

	_, err = c.ListThreats(context.Background(), ListThreatsParams{})
	require.NoError(t, err)
	n, err := c2.ConnectAgents(context.Background(), []string{"5"})
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	reqs := rec.all()
	require.Len(t, reqs, 2)
	get, post := reqs[0], reqs[1]
	assert.Equal(t, "/web/api/v2.1/threats", get.Path)
	assert.Equal(t, "ApiToken "+testToken, get.Header.Get("Authorization"))
	assert.Equal(t, "application/json", get.Header.Get("Accept"))
	assert.Empty(t, get.Header.Get("Content-Type"), "no body, no content type")
	assert.Equal(t, DefaultUserAgent, get.Header.Get("User-Agent"))

	assert.Equal(t, "/web/api/v2.1/agents/actions/connect", post.Path)
	assert.Equal(t, "ApiToken "+testToken, post.Header.Get("Authorization"))
	assert.Equal(t, "application/json", post.Header.Get("Content-Type"))
	assert.Equal(t, "soc-test/9", post.Header.Get("User-Agent"))
	assert.JSONEq(t, `{"filter":{"ids":["5"]}}`, string(post.Body))
}

func TestListThreatsQuery(t *testing.T) {
	raw := readFixture(t)
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
	resolved := false
	page, err := c.ListThreats(context.Background(), ListThreatsParams{
		IDs:          []string{"1", "2"},
		AgentIDs:     []string{"9"},
		SiteIDs:      []string{"7", "8"},
		CreatedAtGte: time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		UpdatedAtLte: time.Date(2024, 5, 2, 0, 0, 0, 123456789, time.UTC),
		Resolved:     &resolved,
		SortBy:       "createdAt",
		SortOrder:    "asc",
		Limit:        1000,
		Cursor:       "YWJj",
	})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, "YWdlbnRfaWQ6NTgwMjkzODE=", page.NextCursor)
	assert.Equal(t, 3, page.TotalItems)

	q := rec.all()[0].Query
	assert.Equal(t, map[string][]string{
		"ids":            {"1,2"},
		"agentIds":       {"9"},
		"siteIds":        {"7,8"},
		"createdAt__gte": {"2024-05-01T10:00:00.000000Z"},
		"updatedAt__lte": {"2024-05-02T00:00:00.123456Z"},
		"resolved":       {"false"},
		"sortBy":         {"createdAt"},
		"sortOrder":      {"asc"},
		"limit":          {"1000"},
		"cursor":         {"YWJj"},
	}, q)

	// Defaults: only limit=100.
	_, err = c.ListThreats(context.Background(), ListThreatsParams{})
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"limit": {"100"}}, rec.all()[1].Query)
}

func TestListThreatsRejectsBadParamsBeforeRequest(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":[]}`) })
	for _, p := range []ListThreatsParams{
		{Limit: 1001}, {Limit: -1}, {SortOrder: "up"}, {IDs: []string{""}}, {IDs: []string{"1,2"}},
	} {
		_, err := c.ListThreats(context.Background(), p)
		assert.ErrorIs(t, err, ErrValidation, "%+v", p)
		err = c.EachThreat(context.Background(), p, func(Threat) error { return nil })
		assert.ErrorIs(t, err, ErrValidation, "%+v", p)
	}
	assert.Empty(t, rec.all(), "no request may be sent")
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	raw, err := readTestdata("threats_page.json")
	require.NoError(t, err)
	return raw
}

// threatsPage builds a page of minimal threats.
func threatsPage(ids []string, next string, total int) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = fmt.Sprintf(`{"id":%q,"threatInfo":{"threatId":%q}}`, id, id)
	}
	cur := "null"
	if next != "" {
		cur = fmt.Sprintf("%q", next)
	}
	return fmt.Sprintf(`{"data":[%s],"pagination":{"nextCursor":%s,"totalItems":%d}}`, strings.Join(items, ","), cur, total)
}

func TestEachThreatFollowsCursor(t *testing.T) {
	pages := map[string]string{
		"":   threatsPage([]string{"1", "2"}, "c2", 5),
		"c2": threatsPage([]string{"3", "4"}, "c3", 5),
		"c3": threatsPage([]string{"5"}, "", 5),
	}
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, pages[r.URL.Query().Get("cursor")])
	})
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	err := c.EachThreat(context.Background(), ListThreatsParams{CreatedAtGte: since, Limit: 2}, func(th Threat) error {
		got = append(got, string(th.ID))
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3", "4", "5"}, got)
	reqs := rec.all()
	require.Len(t, reqs, 3)
	for i, cursor := range []string{"", "c2", "c3"} {
		assert.Equal(t, cursor, first(reqs[i].Query["cursor"]), "request %d", i)
		assert.Equal(t, "2024-01-01T00:00:00.000000Z", first(reqs[i].Query["createdAt__gte"]), "filters kept on every page")
		assert.Equal(t, "2", first(reqs[i].Query["limit"]))
	}

	// fn's error stops the iteration and is returned as is.
	stop := errors.New("stop")
	calls := 0
	err = c.EachThreat(context.Background(), ListThreatsParams{}, func(Threat) error { calls++; return stop })
	assert.Same(t, stop, err)
	assert.Equal(t, 1, calls)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func TestEachThreatDetectsCursorLoop(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, threatsPage([]string{"1"}, "same", 9))
	})
	err := c.EachThreat(context.Background(), ListThreatsParams{}, func(Threat) error { return nil })
	assert.ErrorContains(t, err, "twice")
}

func TestGetThreat(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ids") == "1048709918179231544" {
			writeJSON(w, 200, readFixture(t))
			return
		}
		// A console ignoring an unknown filter would return other threats: never take them.
		writeJSON(w, 200, threatsPage([]string{"999"}, "", 1))
	})
	th, err := c.GetThreat(context.Background(), "1048709918179231544")
	require.NoError(t, err)
	assert.Equal(t, "Trojan", th.ThreatInfo.Classification)
	assert.Equal(t, "/web/api/v2.1/threats", rec.all()[0].Path)

	_, err = c.GetThreat(context.Background(), "42")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.GetThreat(context.Background(), "")
	assert.ErrorIs(t, err, ErrValidation)
}

func TestGetAgentNotFound(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`)
	})
	_, err := c.GetAgent(context.Background(), "77")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "77", first(rec.all()[0].Query["ids"]))
}

func TestThreatTimeline(t *testing.T) {
	entry := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"activityType":2001,"primaryDescription":"p%s","createdAt":"2024-01-01T00:00:00Z","data":{"accountId":111111111111111111},"threatId":"T1","agentId":5}`, id, id)
	}
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("cursor") {
		case "":
			writeJSON(w, 200, `{"data":[`+entry("1")+`,`+entry("2")+`],"pagination":{"nextCursor":"n2","totalItems":6}}`)
		case "n2":
			writeJSON(w, 200, `{"data":[`+entry("3")+`,`+entry("4")+`],"pagination":{"nextCursor":"n3","totalItems":6}}`)
		default:
			t.Errorf("unexpected cursor %q", r.URL.Query().Get("cursor"))
		}
	})
	got, err := c.ThreatTimeline(context.Background(), "T1", 3)
	require.NoError(t, err)
	require.Len(t, got, 3, "truncated to limit")
	assert.Equal(t, FlexString("3"), got[2].ID)
	assert.Equal(t, FlexString("5"), got[0].AgentID)
	assert.Equal(t, "111111111111111111", fmt.Sprint(got[0].Data["accountId"]), "numeric IDs in data keep all digits")
	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/web/api/v2.1/threats/T1/timeline", reqs[0].Path)
	assert.Equal(t, map[string][]string{"limit": {"3"}, "sortBy": {"createdAt"}, "sortOrder": {"asc"}}, reqs[0].Query)
	assert.Equal(t, map[string][]string{"limit": {"1"}, "sortBy": {"createdAt"}, "sortOrder": {"asc"}, "cursor": {"n2"}}, reqs[1].Query)
}

func TestThreatNotesAllPages(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			writeJSON(w, 200, `{"data":[{"id":1,"text":"a","creator":"bot","creatorId":"9","createdAt":"2024-01-01T00:00:00.5Z","edited":"False"}],"pagination":{"nextCursor":"x","totalItems":2}}`)
			return
		}
		writeJSON(w, 200, `{"data":[{"id":"2","text":"b","edited":true}],"pagination":{"nextCursor":null,"totalItems":2}}`)
	})
	notes, err := c.ThreatNotes(context.Background(), "55")
	require.NoError(t, err)
	require.Len(t, notes, 2)
	assert.Equal(t, Note{ID: "1", Text: "a", Creator: "bot", CreatorID: "9", CreatedAt: Time{time.Date(2024, 1, 1, 0, 0, 0, 5e8, time.UTC)}}, notes[0])
	assert.True(t, bool(notes[1].Edited))
	reqs := rec.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/web/api/v2.1/threats/55/notes", reqs[0].Path)
	assert.Equal(t, "x", first(reqs[1].Query["cursor"]))
}

func TestPostBodies(t *testing.T) {
	mitigateResp := `{"data":{"affected":1,"details":[{"threatId":"11","reports":[{"action":"kill","status":"pending"}],"skipped":[{"action":"rollback","reason":"not_supported","description":"Rollback is supported on Windows only"}]}]}}`
	c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/mitigate/") {
			writeJSON(w, 200, mitigateResp)
			return
		}
		writeJSON(w, 200, `{"data":{"affected":"1"}}`)
	})
	ctx := context.Background()
	ids := []string{"11", "12"}

	res, err := c.Mitigate(ctx, MitigationRollback, ids)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Affected)
	require.Len(t, res.Details, 1)
	assert.Equal(t, FlexString("11"), res.Details[0].ThreatID)
	assert.Equal(t, MitigationStatusPending, res.Details[0].Reports[0].Status)
	assert.Equal(t, SkippedAction{Action: "rollback", Reason: "not_supported", Description: "Rollback is supported on Windows only"}, res.Details[0].Skipped[0])

	_, err = c.AddThreatNote(ctx, ids, "s1copilot [inv-1/analyse] verdict: true_positive")
	require.NoError(t, err)
	_, err = c.DisconnectAgents(ctx, []string{"a1"})
	require.NoError(t, err)
	_, err = c.ConnectAgents(ctx, []string{"a1"})
	require.NoError(t, err)
	n, err := c.SetIncidentStatus(ctx, ids, IncidentInProgress, VerdictTruePositive)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = c.SetIncidentStatus(ctx, ids, IncidentResolved, "")
	require.NoError(t, err)
	_, err = c.SetAnalystVerdict(ctx, ids, VerdictFalsePositive)
	require.NoError(t, err)

	want := []struct{ path, body string }{
		{"/web/api/v2.1/threats/mitigate/rollback-remediation", `{"filter":{"ids":["11","12"]},"data":{}}`},
		{"/web/api/v2.1/threats/notes", `{"filter":{"ids":["11","12"]},"data":{"text":"s1copilot [inv-1/analyse] verdict: true_positive"}}`},
		{"/web/api/v2.1/agents/actions/disconnect", `{"filter":{"ids":["a1"]}}`},
		{"/web/api/v2.1/agents/actions/connect", `{"filter":{"ids":["a1"]}}`},
		{"/web/api/v2.1/threats/incident", `{"filter":{"ids":["11","12"]},"data":{"incidentStatus":"in_progress","analystVerdict":"true_positive"}}`},
		{"/web/api/v2.1/threats/incident", `{"filter":{"ids":["11","12"]},"data":{"incidentStatus":"resolved"}}`},
		{"/web/api/v2.1/threats/analyst-verdict", `{"filter":{"ids":["11","12"]},"data":{"analystVerdict":"false_positive"}}`},
	}
	reqs := rec.all()
	require.Len(t, reqs, len(want))
	for i, w := range want {
		assert.Equal(t, http.MethodPost, reqs[i].Method)
		assert.Equal(t, w.path, reqs[i].Path)
		assert.JSONEq(t, w.body, string(reqs[i].Body), w.path)
		assert.Empty(t, reqs[i].Query)
	}
}

func TestPostArgumentChecks(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":{"affected":1}}`) })
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["mitigate no ids"] = c.Mitigate(ctx, MitigationKill, nil)
	_, checks["mitigate bad action"] = c.Mitigate(ctx, "network-quarantine", []string{"1"})
	_, checks["note empty"] = c.AddThreatNote(ctx, []string{"1"}, " ")
	_, checks["note no ids"] = c.AddThreatNote(ctx, nil, "x")
	_, checks["disconnect empty id"] = c.DisconnectAgents(ctx, []string{""})
	_, checks["connect none"] = c.ConnectAgents(ctx, []string{})
	_, checks["incident bad"] = c.SetIncidentStatus(ctx, []string{"1"}, "closed", "")
	_, checks["incident bad verdict"] = c.SetIncidentStatus(ctx, []string{"1"}, IncidentResolved, "benign")
	_, checks["verdict bad"] = c.SetAnalystVerdict(ctx, []string{"1"}, "")
	_, checks["timeline no id"] = c.ThreatTimeline(ctx, "", 10)
	_, checks["notes no id"] = c.ThreatNotes(ctx, "")
	for name, err := range checks {
		assert.ErrorIs(t, err, ErrValidation, name)
	}
	assert.Empty(t, rec.all(), "an empty filter must never reach the console")
}

func TestAPIErrorStatuses(t *testing.T) {
	for status, sentinel := range map[int]error{
		400: ErrValidation, 401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound,
		429: ErrRateLimited, 500: ErrServer, 502: ErrServer, 503: ErrServer,
	} {
		c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, status, `{"errors":[{"code":`+fmt.Sprint(status*10000+10)+`,"title":"T","detail":null}]}`)
		})
		_, err := c.ListThreats(context.Background(), ListThreatsParams{})
		assert.ErrorIs(t, err, sentinel, status)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, status, apiErr.StatusCode)
		assert.Equal(t, status == 429 || status >= 500, apiErr.Temporary(), status)
		for _, other := range []error{ErrValidation, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited, ErrServer} {
			if other != sentinel {
				assert.NotErrorIs(t, err, other, status)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		writeJSON(w, 429, `{"errors":[{"code":4290010,"title":"Too Many Requests","detail":null}]}`)
	})
	_, err := c.GetAgent(context.Background(), "1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, 7*time.Second, apiErr.RetryAfter)
	assert.True(t, apiErr.Temporary())
	assert.Contains(t, err.Error(), "retry after 7s")

	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("soon", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-3", now))
}

func TestNonJSONErrorBodyTruncated(t *testing.T) {
	c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(502)
		_, _ = w.Write([]byte("upstream exploded " + strings.Repeat("x", 2000)))
	})
	_, err := c.ListThreats(context.Background(), ListThreatsParams{})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrServer)
	assert.True(t, strings.HasPrefix(apiErr.Body, "upstream exploded"))
	assert.LessOrEqual(t, len(apiErr.Body), maxErrBody+len("…"))
	assert.Contains(t, err.Error(), "502 Bad Gateway: upstream exploded")
}

func TestConsoleURLHint(t *testing.T) {
	// Nothing listens here: connection refused on the very first call.
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close()
	c, err := New(dead, testToken, WithRateLimiter(nil))
	require.NoError(t, err)
	_, err = c.ListThreats(context.Background(), ListThreatsParams{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "region-specific (e.g. https://usea1.sentinelone.net)")

	// An HTML 404 (wrong host or path) before the console ever answered JSON.
	html := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		_, _ = w.Write([]byte("<html><body>Not Found</body></html>"))
	}
	c, _ = newServer(t, html)
	_, err = c.GetThreat(context.Background(), "1")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "region-specific")

	// Once the console answered JSON, a later HTML 404 is not blamed on the URL.
	jsonThenHTML := 0
	c, _ = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		jsonThenHTML++
		if jsonThenHTML == 1 {
			writeJSON(w, 200, `{"data":[]}`)
			return
		}
		html(w, r)
	})
	_, err = c.ListThreats(context.Background(), ListThreatsParams{})
	require.NoError(t, err)
	_, err = c.ListThreats(context.Background(), ListThreatsParams{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "region-specific")

	// An HTML 200 (e.g. a login page) is not decoded as data.
	c, _ = newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>Login</title>"))
	})
	_, err = c.ListThreats(context.Background(), ListThreatsParams{})
	assert.ErrorContains(t, err, "not JSON")
	assert.ErrorContains(t, err, "region-specific")
}

func TestNoRedirectToOtherHost(t *testing.T) {
	var leaked string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization")
		writeJSON(w, 200, `{"data":[]}`)
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) // different host name
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+r.URL.RequestURI(), http.StatusFound)
	})
	_, err := c.ListThreats(context.Background(), ListThreatsParams{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "refusing to follow a redirect")
	assert.Empty(t, leaked, "the other host must not be contacted with the token")
	assert.NotContains(t, err.Error(), testToken)
}

func TestWithHTTPClientNotMutated(t *testing.T) {
	hc := &http.Client{Timeout: 3 * time.Second}
	c, err := New("https://usea1.sentinelone.net", "t", WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is left as it was")
	assert.NotSame(t, hc, c.hc)
	assert.Equal(t, 3*time.Second, c.hc.Timeout)
}

func TestTokenNeverLeaks(t *testing.T) {
	// The server echoes the Authorization header back in an error, as a badly written proxy
	// might; the token must still not reach the error text.
	c, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(401)
		_, _ = w.Write([]byte("bad header: " + r.Header.Get("Authorization")))
	})
	_, err := c.ListThreats(context.Background(), ListThreatsParams{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
	assert.NotContains(t, fmt.Sprintf("%+v", err), testToken)

	c2, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 400, `{"errors":[{"code":4000010,"title":"Validation Error","detail":"token `+testToken+` invalid"}]}`)
	})
	_, err = c2.GetThreat(context.Background(), "1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)

	// Argument and transport errors.
	_, err = c.Mitigate(context.Background(), MitigationKill, nil)
	assert.NotContains(t, err.Error(), testToken)
	dead, err := New("http://127.0.0.1:1", testToken, WithRateLimiter(nil))
	require.NoError(t, err)
	_, err = dead.GetAgent(context.Background(), "1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)

	// fmt of the client, by pointer and by value, with every verb.
	for _, s := range []string{
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c), fmt.Sprintf("%q", c),
		fmt.Sprint(c), fmt.Sprintf("%+v", []*Client{c}), fmt.Sprintf("%+v", struct{ C *Client }{c}),
		fmt.Sprintf("%+v", *c.auth), fmt.Sprintf("%#v", c.auth),
	} {
		assert.NotContains(t, s, testToken, s)
	}
	assert.Contains(t, fmt.Sprintf("%v", c), "[REDACTED]")
	assert.Contains(t, fmt.Sprintf("%v", c), c.BaseURL())
	// slog, text and JSON.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("client", "s1", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("client", "s1", c, "auth", c.auth)
	assert.NotContains(t, buf.String(), testToken)
	assert.Contains(t, buf.String(), "[REDACTED]")
}

func TestContextCancelled(t *testing.T) {
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"data":[]}`) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.ListThreats(ctx, ListThreatsParams{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "region-specific", "a cancelled call says nothing about the URL")
	assert.Empty(t, rec.all())
}

// countOnly and the exclusive __lt bounds reach the console; a page says whether the
// console counted, since a missing or null totalItems is not a count of zero.
func TestListThreatsCountOnlyAndLt(t *testing.T) {
	body := `{"data":[],"pagination":{"nextCursor":null,"totalItems":42}}`
	c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, body) })
	page, err := c.ListThreats(context.Background(), ListThreatsParams{
		SiteIDs:      []string{"7"},
		CreatedAtGte: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
		CreatedAtLt:  time.Date(2024, 5, 1, 12, 5, 0, 1500, time.UTC),
		UpdatedAtLt:  time.Date(2024, 5, 2, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		CountOnly:    true,
		Limit:        1,
	})
	require.NoError(t, err)
	assert.Equal(t, 42, page.TotalItems)
	assert.True(t, page.Counted)
	assert.Empty(t, page.Items)
	assert.Equal(t, map[string][]string{
		"siteIds":        {"7"},
		"createdAt__gte": {"2024-05-01T12:00:00.000000Z"},
		"createdAt__lt":  {"2024-05-01T12:05:00.000001Z"},
		"updatedAt__lt":  {"2024-05-01T22:00:00.000000Z"},
		"countOnly":      {"true"},
		"limit":          {"1"},
	}, rec.all()[0].Query)

	for b, counted := range map[string]bool{
		`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`:    true,
		`{"data":[],"pagination":{"nextCursor":null,"totalItems":null}}`: false,
		`{"data":[],"pagination":{"nextCursor":null}}`:                   false,
		`{"data":[]}`: false,
	} {
		body = b
		page, err := c.ListThreats(context.Background(), ListThreatsParams{})
		require.NoError(t, err, b)
		assert.Equal(t, counted, page.Counted, b)
		assert.Zero(t, page.TotalItems, b)
	}
}
