package s1client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeEnvelope decodes a sample exactly as the client decodes responses.
func decodeEnvelope[T any](t *testing.T, raw []byte) envelope[T] {
	t.Helper()
	var env envelope[T]
	require.NoError(t, decodeJSON(raw, &env))
	return env
}

// TestSamplesDecode checks that every file in s1-samples decodes, through the client where
// the sample is a response of an endpoint the client calls. A new sample without a check
// fails the test, so it cannot be forgotten.
func TestSamplesDecode(t *testing.T) {
	dir := samplesDir(t)
	ctx := context.Background()

	checks := map[string]func(t *testing.T, raw []byte){
		"alertlogic_paws_error_401_authentication_failed.json": func(t *testing.T, raw []byte) {
			c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 401, raw) })
			_, err := c.ListThreats(ctx, ListThreatsParams{})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnauthorized)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 401, apiErr.StatusCode)
			assert.Equal(t, []ErrorDetail{{Code: 4010010, Title: "Authentication Failed"}}, apiErr.Errors)
			assert.False(t, apiErr.Temporary())
			assert.Equal(t, "s1: GET /threats: 401 Authentication Failed (4010010); the console at "+c.BaseURL()+
				" refuses the API token (expired, revoked, or issued by another console): generate a new API token for the service user and restart with it", err.Error())
		},
		"demisto_error_400_validation_error.json": func(t *testing.T, raw []byte) {
			c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 400, raw) })
			_, err := c.Mitigate(ctx, MitigationKill, []string{"1"})
			assert.ErrorIs(t, err, ErrValidation)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "/threats/mitigate/kill", apiErr.Path)
			assert.Equal(t, http.MethodPost, apiErr.Method)
			require.Len(t, apiErr.Errors, 1)
			assert.Equal(t, 4000010, apiErr.Errors[0].Code)
			assert.Equal(t, "s1: POST /threats/mitigate/kill: 400 Validation Error (4000010): siteIds: 0: Must be greater than or equal to 100000000000000000.", err.Error())
		},
		"demisto_agents_raw_response.json": func(t *testing.T, raw []byte) {
			var agents []Agent
			require.NoError(t, decodeJSON(raw, &agents))
			require.Len(t, agents, 1)
			a := agents[0]
			assert.Equal(t, FlexString("657613730168123595"), a.ID)
			assert.Equal(t, "EC2AMAZ-AJ0KANC", a.ComputerName)
			assert.True(t, bool(a.FirewallEnabled), `"True" string`)
			assert.True(t, bool(a.IsUpToDate))
			assert.True(t, bool(a.IsDecommissioned))
			assert.Equal(t, "connecting", a.NetworkStatus)
			assert.Equal(t, FlexInt(4035), a.TotalMemory)
			require.Len(t, a.NetworkInterfaces, 1)
			assert.Equal(t, []string{"172.31.43.13"}, a.NetworkInterfaces[0].Inet)
			assert.True(t, a.ScanAbortedAt.IsZero())
			assert.Equal(t, time.Date(2019, 6, 30, 15, 34, 52, 505374000, time.UTC), a.ScanFinishedAt.Time)
			require.NotNil(t, a.ActiveDirectory)
		},
		"rapid7_search_agents_single.json": func(t *testing.T, raw []byte) {
			c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			a, err := c.GetAgent(ctx, "0000000000000000001")
			require.NoError(t, err)
			assert.Equal(t, "/web/api/v2.1/agents", rec.all()[0].Path)
			assert.Equal(t, "Hostname0", a.ComputerName)
			assert.True(t, a.OperationalStateExpiration.IsZero(), `"None" time`)
			assert.True(t, a.ScanAbortedAt.IsZero())
			assert.Equal(t, "None", a.OsUsername) // plain strings keep the fixture's text
			assert.True(t, bool(a.IsUpToDate))
			require.Len(t, a.Locations, 1)
			assert.Equal(t, "Fallback", a.Locations[0].Name)
			env := decodeEnvelope[[]Agent](t, raw)
			require.NotNil(t, env.Pagination.TotalItems)
			assert.Equal(t, FlexInt(1), *env.Pagination.TotalItems)
			assert.Empty(t, env.Pagination.NextCursor)
		},
		"rapid7_activities_list.json": func(t *testing.T, raw []byte) {
			c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			page, err := c.ListActivities(ctx, ListActivitiesParams{ThreatIDs: []string{"1048709918179231544"}})
			require.NoError(t, err)
			require.Len(t, page.Items, 2)
			assert.Equal(t, 2, page.TotalItems)
			assert.Empty(t, page.NextCursor)
			assert.Equal(t, FlexInt(19), page.Items[0].ActivityType)
			assert.Equal(t, FlexInt(2001), page.Items[1].ActivityType)
			assert.Equal(t, FlexString("1048709918179231544"), page.Items[1].ThreatID)
			assert.Equal(t, "success", page.Items[1].Data["globalStatus"])
			assert.Empty(t, page.Items[0].UserID)
		},
		"rapid7_affected_1.json": func(t *testing.T, raw []byte) {
			c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			n, err := c.AddThreatNote(ctx, []string{"1"}, "hello")
			require.NoError(t, err, `"errors":[{}] next to data must not fail a 2xx`)
			assert.Equal(t, 1, n)
			res, err := c.Mitigate(ctx, MitigationKill, []string{"1"})
			require.NoError(t, err)
			assert.Equal(t, MitigateResult{Affected: 1}, res)
			n, err = c.DisconnectAgents(ctx, []string{"2"})
			require.NoError(t, err)
			assert.Equal(t, 1, n)
		},
		"rapid7_threats_not_found.json": func(t *testing.T, raw []byte) {
			c, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			_, err := c.GetThreat(ctx, "1234")
			assert.ErrorIs(t, err, ErrNotFound)
			assert.Contains(t, err.Error(), "1234")
			page, err := c.ListThreats(ctx, ListThreatsParams{})
			require.NoError(t, err)
			assert.Empty(t, page.Items)
			assert.Equal(t, 1, page.TotalItems)
		},
		"rapid7_create_query.json": func(t *testing.T, raw []byte) {
			c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			from := time.Date(2023, 10, 22, 0, 0, 0, 0, time.UTC)
			id, err := c.DVInitQuery(ctx, DVQueryParams{Query: `EventType = "Task Update"`, FromDate: from, ToDate: from.Add(24 * time.Hour)})
			require.NoError(t, err)
			assert.Equal(t, "q9679169d5a4607cc41a9100123456789", id)
			assert.Equal(t, "/web/api/v2.1/dv/init-query", rec.all()[0].Path)
		},
		"rapid7_get_query_status.json": func(t *testing.T, raw []byte) {
			c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			st, err := c.DVQueryStatus(ctx, "q9679169d5a4607cc41a9100123456789")
			require.NoError(t, err)
			assert.Equal(t, "FINISHED", st.ResponseState)
			assert.Equal(t, DVFinished, st.State())
			assert.True(t, st.State().Terminal())
			assert.Equal(t, FlexInt(100), st.ProgressStatus)
			assert.Nil(t, st.Warnings)
			require.NotNil(t, st.QueryModeInfo)
			assert.Equal(t, "scalyr", st.QueryModeInfo.Mode)
			assert.Equal(t, time.Date(2022, 7, 31, 8, 11, 1, 0, time.UTC), st.QueryModeInfo.LastActivatedAt.UTC())
			assert.Equal(t, "q9679169d5a4607cc41a9100123456789", first(rec.all()[0].Query["queryId"]))
		},
		"rapid7_cancel_running_query.json": func(t *testing.T, raw []byte) {
			c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, raw) })
			require.NoError(t, c.DVCancel(ctx, "q1"))
			assert.JSONEq(t, `{"queryId":"q1"}`, string(rec.all()[0].Body))
			env := decodeEnvelope[DVCancel](t, raw)
			assert.Equal(t, FlexString("FINISHED"), env.Data.Success)
		},
		"rapid7_get_events_success_page_1.json": func(t *testing.T, raw []byte) {
			// Page 1 is the sample; page 2 (its nextCursor) is the same events on a last page.
			last := strings.Replace(string(raw), `"nextCursor": "eyJkZX01234="`, `"nextCursor": null`, 1)
			require.NotEqual(t, string(raw), last)
			c, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("cursor") == "eyJkZX01234=" {
					writeJSON(w, 200, last)
					return
				}
				writeJSON(w, 200, raw)
			})
			page, err := c.DVEvents(ctx, "q1", "", 3)
			require.NoError(t, err)
			require.Len(t, page.Items, 3)
			assert.Equal(t, "eyJkZX01234=", page.NextCursor)
			assert.Equal(t, 5, page.TotalItems)
			e := page.Items[0]
			assert.Equal(t, "Task Update", e.EventType)
			assert.Equal(t, "scheduled_task", e.ObjectType)
			assert.Equal(t, FlexString("000000000000000001"), e.ID)
			assert.Equal(t, FlexString("1234"), e.PID)
			assert.False(t, bool(e.RelatedToThreat), `"False"`)
			assert.True(t, bool(e.AgentInfected))
			assert.Equal(t, "ExampleName1", e.AgentName)
			assert.Equal(t, "ExampleName1", e.EndpointName)
			assert.Equal(t, "Example Name", e.TaskName)
			assert.Equal(t, time.Date(2023, 10, 23, 0, 0, 0, 0, time.UTC), e.EventTime.UTC())
			assert.Empty(t, e.ProcessName, "null")
			assert.Equal(t, "ABCD1234", page.Items[2].Storyline)
			assert.Empty(t, page.Items[2].AgentName)

			var ids []string
			require.NoError(t, c.EachDVEvent(ctx, "q1", 0, func(e DVEvent) error { ids = append(ids, string(e.ID)); return nil }))
			assert.Len(t, ids, 6)
			reqs := rec.all()
			require.Len(t, reqs, 3)
			assert.Equal(t, map[string][]string{"queryId": {"q1"}, "limit": {"1000"}}, reqs[1].Query)
			assert.Equal(t, "eyJkZX01234=", first(reqs[2].Query["cursor"]))
		},
		"demisto_get_power_query_response.json": func(t *testing.T, raw []byte) {
			env := decodeEnvelope[PowerQueryResult](t, raw)
			assert.Equal(t, "FINISHED", env.Data.Status)
			assert.Equal(t, FlexInt(100), env.Data.Progress)
			require.Len(t, env.Data.Columns, 3)
			require.Len(t, env.Data.Data, 10)
			assert.Equal(t, json.Number("1724151854609"), env.Data.Data[0][0])
		},
		"demisto_get_remote_script_task_status.json": func(t *testing.T, raw []byte) {
			var tasks []RemoteScriptTask
			require.NoError(t, decodeJSON(raw, &tasks))
			require.Len(t, tasks, 1)
			want := RemoteScriptTask{
				ID: "123456", ParentTaskID: "123456789", Status: RemoteScriptStatusCompleted, StatusCode: "",
				StatusDescription: "Completed", DetailedStatus: "Execution completed successfully",
				Description: "A test get cloud services", AgentID: "0987654321", AgentComputerName: "MSEDGEWIN10",
				AgentOSType: "windows", AgentIsActive: true,
				Type: "script_execution", InitiatedBy: "user", InitiatedByID: "099999", AgentUUID: "25682583752987932878722323",
				AgentMachineType: "desktop", SiteID: "99999999", GroupID: "12334654321",
				CreatedAt: time.Date(2024, 7, 30, 6, 43, 22, 938877000, time.UTC),
				UpdatedAt: time.Date(2024, 7, 30, 6, 44, 50, 881432000, time.UTC),
			}
			assert.Equal(t, want, tasks[0])
			assert.True(t, tasks[0].Done())

			// Through the client, as the items of a status page.
			page := `{"data":` + string(raw) + `,"pagination":{"nextCursor":null,"totalItems":1}}`
			c, rec := newServer(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, page) })
			got, err := c.RemoteScriptTasks(ctx, "123456789")
			require.NoError(t, err)
			assert.Equal(t, []RemoteScriptTask{want}, got)
			assert.Equal(t, "/web/api/v2.1/remote-scripts/status", rec.all()[0].Path)
			assert.Equal(t, []string{"123456789"}, rec.all()[0].Query["parentTaskId"])

			// A JSON round trip (Temporal payloads) keeps every field.
			b, err := json.Marshal(want)
			require.NoError(t, err)
			var back RemoteScriptTask
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, want, back)
		},
	}

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var seen int
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		seen++
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			check, ok := checks[name]
			if !ok {
				t.Fatalf("no decode check for sample %s: add one", name)
			}
			raw, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			check(t, raw)
		})
	}
	assert.Equal(t, len(checks), seen, "every check must have its sample file")
}

func TestThreatFixtureDecodes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "threats_page.json"))
	require.NoError(t, err)
	env := decodeEnvelope[[]Threat](t, raw)
	require.Len(t, env.Data, 1)
	require.NotNil(t, env.Pagination.TotalItems)
	assert.Equal(t, FlexInt(3), *env.Pagination.TotalItems, `"3" as a string`)
	th := env.Data[0]
	ti := th.ThreatInfo
	assert.Equal(t, FlexString("1048709918179231544"), th.ID)
	assert.Equal(t, th.ID, ti.ThreatID)
	assert.Equal(t, "malicious", ti.ConfidenceLevel)
	assert.Equal(t, FlexInt(1034), ti.FileSize)
	assert.False(t, bool(ti.IsValidCertificate))
	assert.Equal(t, FlexString("1048709918162454327"), ti.CollectionID, "number ID keeps its digits")
	assert.Equal(t, []DetectionEngine{{Key: "sentinelone_cloud", Title: "Reputation"}}, ti.DetectionEngines)
	assert.Equal(t, FlexString("901345720792880606"), th.AgentRealtimeInfo.AgentID)
	assert.True(t, th.AgentRealtimeInfo.ScanAbortedAt.IsZero())
	assert.Equal(t, "windows", th.AgentRealtimeInfo.AgentOsType)
	require.Len(t, th.Indicators, 1)
	assert.Equal(t, []FlexInt{109, 232}, th.Indicators[0].IDs)
	assert.Equal(t, "T1053", th.Indicators[0].Tactics[0].Techniques[0].Name)
	require.NotNil(t, th.ContainerInfo)
	assert.Nil(t, th.KubernetesInfo)

	kill, ok := th.MitigationEntry(MitigationKill.StatusAction())
	require.True(t, ok)
	assert.Equal(t, MitigationStatusSuccess, kill.Status)
	assert.True(t, kill.Done())
	require.NotNil(t, kill.ActionsCounters)
	assert.Equal(t, FlexInt(1), kill.ActionsCounters.Success)
	q, ok := th.MitigationEntry("quarantine")
	require.True(t, ok)
	assert.Equal(t, MitigationStatusSuccess, q.Status, "latest entry wins")
	_, ok = th.MitigationEntry(MitigationRollback.StatusAction())
	assert.False(t, ok)
}

func TestMitigationAction(t *testing.T) {
	assert.Equal(t, "rollback", MitigationRollback.StatusAction())
	assert.Equal(t, "unquarantine", MitigationUnquarantine.StatusAction())
	assert.Equal(t, "kill", MitigationKill.StatusAction())
	assert.Equal(t, "quarantine", MitigationQuarantine.StatusAction())
	assert.Equal(t, "remediate", MitigationRemediate.StatusAction())
	assert.False(t, MitigationAction("rollback").Valid())
	assert.False(t, MitigationStatusEntry{Status: MitigationStatusPending}.Done())
	assert.False(t, MitigationStatusEntry{Status: MitigationStatusSent}.Done())
	assert.True(t, MitigationStatusEntry{Status: MitigationStatusPendingReboot}.Done())
	_, err := (&Client{}).Mitigate(context.Background(), "rollback", []string{"1"})
	assert.True(t, errors.Is(err, ErrValidation))
}
