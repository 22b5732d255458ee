package s1client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxIDsPerRead is the most IDs GetThreats and GetAgents put in one request: a page
// (limit) holds them all, and the URL stays short (about 2 KB of 19-digit IDs).
const MaxIDsPerRead = 100

// GetThreats reads many threats by ID: GET /threats?ids=a,b,…&limit=n, one request per
// MaxIDsPerRead IDs. A threat the console does not return (deleted, out of the
// token's scope) is absent from the map; the caller decides what that means.
func (c *Client) GetThreats(ctx context.Context, threatIDs []string) (map[string]Threat, error) {
	if err := checkIDs("get threats", "threat", threatIDs); err != nil {
		return nil, err
	}
	out := make(map[string]Threat, len(threatIDs))
	for _, ids := range chunks(dedup(threatIDs), MaxIDsPerRead) {
		q := url.Values{"ids": {strings.Join(ids, ",")}, "limit": {strconv.Itoa(len(ids))}}
		page, err := list[Threat](ctx, c, "/threats", "/threats", q)
		if err != nil {
			return nil, fmt.Errorf("s1: get %d threats: %w", len(ids), err)
		}
		for _, t := range page.Items {
			out[string(t.ID)] = t
		}
	}
	return out, nil
}

// GetAgents reads many agents by ID (GET /agents?ids=…), like GetThreats.
func (c *Client) GetAgents(ctx context.Context, agentIDs []string) (map[string]Agent, error) {
	if err := checkIDs("get agents", "agent", agentIDs); err != nil {
		return nil, err
	}
	out := make(map[string]Agent, len(agentIDs))
	for _, ids := range chunks(dedup(agentIDs), MaxIDsPerRead) {
		q := url.Values{"ids": {strings.Join(ids, ",")}, "limit": {strconv.Itoa(len(ids))}}
		page, err := list[Agent](ctx, c, "/agents", "/agents", q)
		if err != nil {
			return nil, fmt.Errorf("s1: get %d agents: %w", len(ids), err)
		}
		for _, a := range page.Items {
			out[string(a.ID)] = a
		}
	}
	return out, nil
}

func dedup(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return append(out, ids)
}
