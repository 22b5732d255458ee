package simulator_test

import (
	"strings"
	"testing"
	"time"
)

func TestExternalTicketID(t *testing.T) {
	e := newEnv(t, fixture())
	th := e.threat(tWin)
	equal(t, get(th, "threatInfo.externalTicketId"), nil, "no ticket yet")
	equal(t, get(th, "threatInfo.externalTicketExists").(bool), false, "externalTicketExists before")
	updatedBefore := get(th, "threatInfo.updatedAt").(string)

	e.clock.Advance(time.Minute)
	set := func(id string) float64 {
		t.Helper()
		resp := e.json("POST", apiURL+"/threats/external-ticket-id", obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"externalTicketId": id}}, 200)
		return get(resp, "data.affected").(float64)
	}
	equal(t, set("TICKET-1"), 1, "affected")
	th = e.threat(tWin)
	equal(t, get(th, "threatInfo.externalTicketId").(string), "TICKET-1", "externalTicketId")
	equal(t, get(th, "threatInfo.externalTicketExists").(bool), true, "externalTicketExists")
	if get(th, "threatInfo.updatedAt").(string) == updatedBefore {
		t.Fatal("setting a ticket must move updatedAt")
	}
	count := func(codes []int) (n int) {
		for _, c := range codes {
			if c == 2029 {
				n++
			}
		}
		return n
	}
	equal(t, count(e.timelineTypes(tWin)), 1, "activity 2029 Ticket Number Changes")
	acts := e.json("GET", apiURL+"/activities"+q("activityTypes", "2029", "threatIds", tWin), nil, 200)["data"].([]any)
	equal(t, len(acts), 1, "2029 in /activities")
	equal(t, get(acts[0], "data.newExternalTicketId").(string), "TICKET-1", "activity data")
	if d := get(acts[0], "primaryDescription").(string); !strings.Contains(d, "TICKET-1") {
		t.Fatalf("primaryDescription %q does not name the ticket", d)
	}

	// The same ticket again (a retry) affects the threat but records nothing new.
	equal(t, set("TICKET-1"), 1, "affected on retry")
	equal(t, count(e.timelineTypes(tWin)), 1, "no second 2029 for the same ticket")

	// List filters.
	ids := func(query string) []string {
		t.Helper()
		var out []string
		for _, it := range e.json("GET", apiURL+"/threats"+query, nil, 200)["data"].([]any) {
			out = append(out, it.(obj)["id"].(string))
		}
		return out
	}
	got := ids(q("externalTicketIds", "TICKET-1"))
	equal(t, strings.Join(got, ","), tWin, "externalTicketIds")
	equal(t, len(ids(q("externalTicketIds", "TICKET-2,TICKET-9"))), 0, "other tickets")
	equal(t, strings.Join(ids(q("externalTicketExists", "true")), ","), tWin, "externalTicketExists=true")
	all := ids("?limit=100")
	without := ids(q("externalTicketExists", "false", "limit", "100"))
	equal(t, len(without), len(all)-1, "externalTicketExists=false")
	for _, id := range without {
		if id == tWin {
			t.Fatal("externalTicketExists=false lists the ticketed threat")
		}
	}
	resp := e.json("GET", apiURL+"/threats?externalTicketExists=maybe", nil, 400)
	if d := get(resp["errors"].([]any)[0], "detail").(string); !strings.Contains(d, "externalTicketExists") {
		t.Fatalf("detail %q", d)
	}

	// Changing and clearing are recorded; a cleared threat has no ticket again.
	equal(t, set("TICKET-2"), 1, "change")
	equal(t, set(""), 1, "clear")
	equal(t, count(e.timelineTypes(tWin)), 3, "one 2029 per change")
	th = e.threat(tWin)
	equal(t, get(th, "threatInfo.externalTicketId"), nil, "cleared")
	equal(t, get(th, "threatInfo.externalTicketExists").(bool), false, "cleared exists")

	// An unknown threat is affected 0; bad bodies are validation errors.
	resp = e.json("POST", apiURL+"/threats/external-ticket-id", obj{"filter": obj{"ids": []string{"1999999999999999999"}}, "data": obj{"externalTicketId": "X"}}, 200)
	equal(t, get(resp, "data.affected").(float64), 0, "unknown threat")
	for _, body := range []any{
		obj{"filter": obj{"ids": []string{tWin}}, "data": obj{}},
		obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"externalTicketId": "A\nB"}},
		obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"externalTicketId": strings.Repeat("x", 257)}},
		obj{"filter": obj{"ids": []string{tWin}}, "data": obj{"ticketId": "X"}},
		obj{"filter": obj{}, "data": obj{"externalTicketId": "X"}},
	} {
		status, raw := e.do("POST", apiURL+"/threats/external-ticket-id", body)
		if status != 400 || !strings.Contains(string(raw), `"code":4000010`) {
			t.Errorf("%v: status %d body %s, want 400 validation error", body, status, raw)
		}
	}
	equal(t, e.sim.Counters().Requests["POST /web/api/v2.1/threats/external-ticket-id"], 10, "requests counted")
}
