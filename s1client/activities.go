package s1client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// ActivityType is an activity code (activity.activityType, the activityTypes filter).
// Names follow the SEKOIA intake-format dictionary (API reference §2.3, §5).
type ActivityType int

// Activity codes the product reads.
const (
	ActivityNewThreatMitigated             ActivityType = 18   // New Threat Mitigated
	ActivityNewMaliciousThreatNotMitigated ActivityType = 19   // New Malicious Threat Not Mitigated
	ActivityUserDisconnectedAgent          ActivityType = 61   // User Disconnected Agent From Network
	ActivityUserReconnectedAgent           ActivityType = 62   // User Reconnected Agent to Network
	ActivityAgentDisconnected              ActivityType = 1001 // Agent Disconnected From Network
	ActivityAgentReconnected               ActivityType = 1002 // Agent ReConnected To Network

	ActivityKillSuccess       ActivityType = 2001 // Threat Mitigation Report Kill Success
	ActivityRemediateSuccess  ActivityType = 2002 // Threat Mitigation Report Remediate Success
	ActivityRollbackSuccess   ActivityType = 2003 // Threat Mitigation Report Rollback Success
	ActivityQuarantineSuccess ActivityType = 2004 // Threat Mitigation Report Quarantine Success
	ActivityKillFailed        ActivityType = 2006 // Threat Mitigation Report Kill Failed
	ActivityRemediateFailed   ActivityType = 2007 // Threat Mitigation Report Remediate Failed
	ActivityRollbackFailed    ActivityType = 2008 // Threat Mitigation Report Rollback Failed
	ActivityQuarantineFailed  ActivityType = 2009 // Threat Mitigation Report Quarantine Failed

	ActivityUserKillCommand         ActivityType = 2011 // User Issued Kill Command
	ActivityUserRemediateCommand    ActivityType = 2012 // User Issued Remediate Command
	ActivityUserRollbackCommand     ActivityType = 2013 // User Issued Rollback Command
	ActivityUserQuarantineCommand   ActivityType = 2014 // User Issued Quarantine Command
	ActivityUserUnquarantineCommand ActivityType = 2015 // User Issued Unquarantine Command

	ActivityUnquarantineSuccess   ActivityType = 2026 // Threat Mitigation Report Unquarantine Success
	ActivityUnquarantineFailed    ActivityType = 2027 // Threat Mitigation Report Unquarantine Failed
	ActivityIncidentStatusChanged ActivityType = 2028 // Threat Incident Status Changed
	ActivityAnalystVerdictChanged ActivityType = 2030 // Analyst Verdict Changes

	ActivityKillPendingReboot         ActivityType = 2031 // Threat Mitigation Report Kill Pending Reboot
	ActivityRemediatePendingReboot    ActivityType = 2032 // Threat Mitigation Report Remediate Pending Reboot
	ActivityRollbackPendingReboot     ActivityType = 2033 // Threat Mitigation Report Rollback Pending Reboot
	ActivityQuarantinePendingReboot   ActivityType = 2034 // Threat Mitigation Report Quarantine Pending Reboot
	ActivityUnquarantinePendingReboot ActivityType = 2035 // Threat Mitigation Report Unquarantine Pending Reboot
)

// ListActivitiesParams filters GET /activities. Zero values mean "not set".
type ListActivitiesParams struct {
	ThreatIDs     []string
	AgentIDs      []string
	ActivityTypes []int // codes, e.g. int(ActivityKillSuccess)
	CreatedAtGt   time.Time
	CreatedAtGte  time.Time
	SortBy        string // id | activityType | createdAt
	SortOrder     string // "asc" or "desc"
	Limit         int    // 1..1000; 0 means DefaultLimit
	Cursor        string
}

func (p ListActivitiesParams) query() (url.Values, error) {
	const op = "list activities"
	q := url.Values{}
	limit, err := pageLimit(op, p.Limit)
	if err != nil {
		return nil, err
	}
	q.Set("limit", limit)
	if err := setCSV(q, op, map[string][]string{"threatIds": p.ThreatIDs, "agentIds": p.AgentIDs}); err != nil {
		return nil, err
	}
	if len(p.ActivityTypes) > 0 {
		s := make([]string, len(p.ActivityTypes))
		for i, t := range p.ActivityTypes {
			if t <= 0 {
				return nil, invalidArg(op, "activity type %d must be positive", t)
			}
			s[i] = strconv.Itoa(t)
		}
		v, _ := csv(s)
		q.Set("activityTypes", v)
	}
	if !p.CreatedAtGt.IsZero() {
		q.Set("createdAt__gt", formatTime(p.CreatedAtGt))
	}
	if !p.CreatedAtGte.IsZero() {
		q.Set("createdAt__gte", formatTime(p.CreatedAtGte))
	}
	if err := setSort(q, op, p.SortBy, p.SortOrder); err != nil {
		return nil, err
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q, nil
}

// ListActivities fetches one page of GET /activities: the second witness when verifying
// that a mitigation or isolation really happened.
func (c *Client) ListActivities(ctx context.Context, p ListActivitiesParams) (Page[Activity], error) {
	q, err := p.query()
	if err != nil {
		return Page[Activity]{}, err
	}
	return list[Activity](ctx, c, "/activities", "/activities", q)
}

// EachActivity calls fn for every activity matching p, following the cursor from p.Cursor.
// An error from fn stops the iteration and is returned unchanged.
func (c *Client) EachActivity(ctx context.Context, p ListActivitiesParams, fn func(Activity) error) error {
	if _, err := p.query(); err != nil {
		return err
	}
	return each(p.Cursor, "activity", func(cursor string) (Page[Activity], error) {
		p.Cursor = cursor
		return c.ListActivities(ctx, p)
	}, fn)
}
