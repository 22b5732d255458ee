package simulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// maxTicketID bounds a ticket ID. The console's limit is undocumented; this one is the
// simulator's choice, generous enough for any ticketing system.
const maxTicketID = 256

// postExternalTicket serves POST /threats/external-ticket-id (reference §2.4):
// {"filter":{…},"data":{"externalTicketId":"…"}} → {"data":{"affected":N}}. It sets
// threatInfo.externalTicketId ("" clears it) and, when that changes it, records activity
// 2029 "Ticket Number Changes". Affected counts every matched threat, changed or not, so
// a client's retry is not mistaken for "not found" (the console's own counting is
// undocumented). The data field's name is inferred from the threat field it sets.
func (s *Simulator) postExternalTicket(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var data struct {
		ExternalTicketID *string `json:"externalTicketId"`
	}
	f, ok := readAction(w, r, threatFilterKeys, &data)
	if !ok {
		return
	}
	if data.ExternalTicketID == nil {
		writeErrors(w, http.StatusBadRequest, validationError("data.externalTicketId: Missing data for required field."))
		return
	}
	id := *data.ExternalTicketID
	if len(id) > maxTicketID || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		writeErrors(w, http.StatusBadRequest, validationError("data.externalTicketId: Must be at most %d characters, without control characters.", maxTicketID))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	s.advance(now)
	ts := s.matchThreats(f)
	s.setExternalTicket(ts, id, now, apiUser)
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"affected": len(ts)}})
}

// setExternalTicket sets the threats' ticket; callers hold mu.
func (s *Simulator) setExternalTicket(ts []*threat, id string, now time.Time, user *consoleUser) {
	for _, t := range ts {
		if t.externalTicketID == id {
			continue
		}
		old := t.externalTicketID
		t.externalTicketID, t.updatedAt = id, maxTime(t.updatedAt, now)
		s.emit(t, 2029,
			fmt.Sprintf("The management user %s changed the ticket number of threat %s to %q.", user.name, t.sc.ThreatName, id),
			t.sc.FilePath, now, user, map[string]any{"oldExternalTicketId": nilIfEmpty(old), "newExternalTicketId": nilIfEmpty(id)})
	}
}

// ticketFilter reads GET /threats' externalTicketIds (exact IDs, comma-separated) and
// externalTicketExists (bool) into a predicate.
func ticketFilter(q *query) func(*threat) bool {
	ids := q.csv("externalTicketIds")
	exists := q.boolean("externalTicketExists")
	var set map[string]bool
	if ids != nil {
		set = map[string]bool{}
		for _, id := range ids {
			if id != "" {
				set[id] = true
			}
		}
	}
	return func(t *threat) bool {
		if set != nil && !set[t.externalTicketID] {
			return false
		}
		return exists == nil || *exists == (t.externalTicketID != "")
	}
}
