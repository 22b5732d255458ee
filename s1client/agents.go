package s1client

import (
	"context"
	"fmt"
	"net/url"
	"strings"
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

// ListAgentsParams filters GET /agents. Zero values mean "not set".
type ListAgentsParams struct {
	IDs []string
	// ComputerName matches the name exactly (the API's computerName).
	ComputerName string
	// ComputerNameContains matches a substring (computerName__contains; the console wants
	// at least 2 characters).
	ComputerNameContains string
	SiteIDs              []string
	NetworkStatuses      []string // connected | disconnected | connecting | disconnecting
	OSTypes              []string // windows | windows_legacy | macos | linux
	// ThreatContentHashes selects agents that reported a threat with one of these SHA1s
	// (threatContentHash): where else a file was seen.
	ThreatContentHashes []string
	// CountOnly asks only for pagination.totalItems (Page.TotalItems); Items stay empty.
	CountOnly bool
	// Limit is the page size, 1..1000; 0 means DefaultLimit.
	Limit  int
	Cursor string
}

func (p ListAgentsParams) query() (url.Values, error) {
	const op = "list agents"
	q := url.Values{}
	limit, err := pageLimit(op, p.Limit)
	if err != nil {
		return nil, err
	}
	q.Set("limit", limit)
	if err := setCSV(q, op, map[string][]string{
		"ids": p.IDs, "siteIds": p.SiteIDs, "networkStatuses": p.NetworkStatuses, "osTypes": p.OSTypes,
		"threatContentHash": p.ThreatContentHashes,
	}); err != nil {
		return nil, err
	}
	if p.CountOnly {
		q.Set("countOnly", "true")
	}
	// Both name filters are comma-separated lists on the wire: a comma would split the name.
	for key, v := range map[string]string{"computerName": p.ComputerName, "computerName__contains": p.ComputerNameContains} {
		if v == "" {
			continue
		}
		if strings.Contains(v, ",") {
			return nil, invalidArg(op, "%s %q contains a comma", key, v)
		}
		q.Set(key, v)
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q, nil
}

// ListAgents fetches one page of GET /agents.
func (c *Client) ListAgents(ctx context.Context, p ListAgentsParams) (Page[Agent], error) {
	q, err := p.query()
	if err != nil {
		return Page[Agent]{}, err
	}
	return list[Agent](ctx, c, "/agents", "/agents", q)
}

// EachAgent calls fn for every agent matching p, following the cursor from p.Cursor. An
// error from fn stops the iteration and is returned unchanged.
func (c *Client) EachAgent(ctx context.Context, p ListAgentsParams, fn func(Agent) error) error {
	if _, err := p.query(); err != nil {
		return err
	}
	return each(p.Cursor, "agent", func(cursor string) (Page[Agent], error) {
		p.Cursor = cursor
		return c.ListAgents(ctx, p)
	}, fn)
}

// AgentByComputerName returns the one agent whose computerName is exactly name (GET
// /agents?computerName=…; the answer is checked again here, case-sensitively, so a console
// that ignored the filter cannot hand back another host). No match wraps ErrNotFound;
// several (e.g. a re-imaged host registered twice) wrap ErrAmbiguous and list their IDs.
func (c *Client) AgentByComputerName(ctx context.Context, name string) (Agent, error) {
	const op = "agent by computer name"
	if strings.TrimSpace(name) == "" {
		return Agent{}, invalidArg(op, "empty computer name")
	}
	var matches []Agent
	err := c.EachAgent(ctx, ListAgentsParams{ComputerName: name}, func(a Agent) error {
		if a.ComputerName == name {
			matches = append(matches, a)
		}
		return nil
	})
	if err != nil {
		return Agent{}, fmt.Errorf("s1: agent %q: %w", name, err)
	}
	switch len(matches) {
	case 0:
		return Agent{}, fmt.Errorf("s1: agent %q: %w", name, ErrNotFound)
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, a := range matches {
		ids[i] = string(a.ID)
	}
	return Agent{}, fmt.Errorf("s1: agent %q: %d agents have this name (IDs %s): %w", name, len(matches), strings.Join(ids, ", "), ErrAmbiguous)
}
