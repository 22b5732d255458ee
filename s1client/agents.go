package s1client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// GetAgent fetches one agent via GET /agents?ids=<id>; no match yields an error wrapping
// ErrNotFound.
func (c *Client) GetAgent(ctx context.Context, agentID string) (Agent, error) {
	if err := checkIDs("get agent", "agent", []string{agentID}); err != nil {
		return Agent{}, err
	}
	page, err := list[Agent](ctx, c, "/agents", "/agents", url.Values{"ids": {agentID}})
	if err != nil {
		return Agent{}, fmt.Errorf("s1: get agent %s: %w", agentID, err)
	}
	for _, a := range page.Items {
		if string(a.ID) == agentID {
			return a, nil
		}
	}
	return Agent{}, fmt.Errorf("s1: get agent %s: %w", agentID, ErrNotFound)
}

// DisconnectAgents isolates agents from the network (POST /agents/actions/disconnect) and
// returns the number affected. The agent keeps talking to the console while isolated.
func (c *Client) DisconnectAgents(ctx context.Context, agentIDs []string) (int, error) {
	const op = "disconnect agents"
	if err := checkIDs(op, "agent", agentIDs); err != nil {
		return 0, err
	}
	n, err := c.post(ctx, "/agents/actions/disconnect", "/agents/actions/disconnect", agentIDs, nil)
	if err != nil {
		return 0, err // already "s1: POST <path>: …"
	}
	return n, nil
}

// ConnectAgents reconnects isolated agents (POST /agents/actions/connect) and returns the
// number affected.
func (c *Client) ConnectAgents(ctx context.Context, agentIDs []string) (int, error) {
	const op = "connect agents"
	if err := checkIDs(op, "agent", agentIDs); err != nil {
		return 0, err
	}
	n, err := c.post(ctx, "/agents/actions/connect", "/agents/actions/connect", agentIDs, nil)
	if err != nil {
		return 0, err // already "s1: POST <path>: …"
	}
	return n, nil
}

// ListActivitiesParams filters GET /activities. Zero values mean "not set".
type ListActivitiesParams struct {
	ThreatIDs     []string
	AgentIDs      []string
	ActivityTypes []int
	CreatedAtGte  time.Time
	SortBy        string // e.g. "createdAt"
	SortOrder     string // "asc" or "desc"
	Limit         int    // 1..1000; 0 means DefaultLimit
	Cursor        string
}

// ListActivities fetches one page of GET /activities: the second witness when verifying
// that a mitigation or isolation really happened.
func (c *Client) ListActivities(ctx context.Context, p ListActivitiesParams) (Page[Activity], error) {
	const op = "list activities"
	q := url.Values{}
	limit := p.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return Page[Activity]{}, invalidArg(op, "limit %d out of range 1..%d", p.Limit, MaxLimit)
	}
	q.Set("limit", strconv.Itoa(limit))
	for key, ids := range map[string][]string{"threatIds": p.ThreatIDs, "agentIds": p.AgentIDs} {
		if v, err := csv(ids); err != nil {
			return Page[Activity]{}, invalidArg(op, "%s: %v", key, err)
		} else if v != "" {
			q.Set(key, v)
		}
	}
	if len(p.ActivityTypes) > 0 {
		s := make([]string, len(p.ActivityTypes))
		for i, t := range p.ActivityTypes {
			s[i] = strconv.Itoa(t)
		}
		v, _ := csv(s)
		q.Set("activityTypes", v)
	}
	if !p.CreatedAtGte.IsZero() {
		q.Set("createdAt__gte", formatTime(p.CreatedAtGte))
	}
	if p.SortBy != "" {
		q.Set("sortBy", p.SortBy)
	}
	switch p.SortOrder {
	case "":
	case "asc", "desc":
		q.Set("sortOrder", p.SortOrder)
	default:
		return Page[Activity]{}, invalidArg(op, "sortOrder %q must be asc or desc", p.SortOrder)
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	page, err := list[Activity](ctx, c, "/activities", "/activities", q)
	if err != nil {
		return Page[Activity]{}, err
	}
	return page, nil
}
