package simulator

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/s1copilot/s1copilot/scenario"
)

// listActivities serves GET /activities over the single activity log that
// threat timelines index into.
func (s *Simulator) listActivities(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := newQuery(r.URL.Query())
	lp := parseListParams(q, "activities", []string{"createdAt", "id", "activityType"}, "createdAt")
	ids, threatIDs, agentIDs := q.ids("ids"), q.ids("threatIds"), q.ids("agentIds")
	siteIDs, accountIDs, groupIDs, userIDs := q.ids("siteIds"), q.ids("accountIds"), q.ids("groupIds"), q.ids("userIds")
	created := q.timeRange("createdAt")
	var types map[string]bool
	if parts := q.csv("activityTypes"); parts != nil {
		types = map[string]bool{}
		for i, p := range parts {
			if n, err := strconv.Atoi(p); err != nil || n <= 0 {
				q.errs = append(q.errs, validationError("activityTypes: %d: Not a valid integer.", i))
			} else {
				types[strconv.Itoa(n)] = true
			}
		}
	}
	q.boolean("includeHidden") // no hidden activities are simulated
	q.boolean("tenant")
	if errs := q.finish(); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(s.clock())
	var rows []row
	for _, act := range s.activities {
		var threatID, userID string
		var a scenario.Agent
		if act.threat != nil {
			threatID = act.threat.sc.ID
		}
		if act.agent != nil {
			a = act.agent.sc
		}
		if act.user != nil {
			userID = act.user.id
		}
		if !in(ids, act.id) || !in(threatIDs, threatID) || !in(agentIDs, a.ID) || !in(siteIDs, a.SiteID) ||
			!in(accountIDs, a.AccountID) || !in(groupIDs, a.GroupID) || !in(userIDs, userID) ||
			!in(types, strconv.Itoa(act.code)) || !created(act.createdAt) {
			continue
		}
		key := timeKey(act.createdAt)
		switch lp.sortBy {
		case "id":
			key = idKey(act.id)
		case "activityType":
			key = fmt.Sprintf("%010d", act.code)
		}
		rows = append(rows, row{key: key, id: idKey(act.id), seq: act.seq, obj: act})
	}
	s.writePage(w, rows, lp, func(o any) any { return s.renderActivity(o.(*activity)) })
}
