package s1client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// DefaultExploreLimit is used by ThreatExploreEvents when ExploreParams.Limit is 0.
const DefaultExploreLimit = 1000

// ExploreParams selects the events of GET /threats/{id}/explore/events.
type ExploreParams struct {
	// EventTypes filters on event types (the API's eventTypes, sent comma-separated), e.g.
	// "events"; nil means all.
	EventTypes []string
	// Limit is the total number of events wanted, across pages; 0 means DefaultExploreLimit.
	Limit int
}

// ThreatExploreEvents returns up to p.Limit events of the threat's storyline (GET
// /threats/{id}/explore/events), following the cursor. Fewer come back when the console has
// no more.
func (c *Client) ThreatExploreEvents(ctx context.Context, threatID string, p ExploreParams) ([]ExploreEvent, error) {
	const op = "threat explore events"
	if err := checkIDs(op, "threat", []string{threatID}); err != nil {
		return nil, err
	}
	limit := p.Limit
	switch {
	case limit == 0:
		limit = DefaultExploreLimit
	case limit < 0:
		return nil, invalidArg(op, "limit %d must not be negative", p.Limit)
	}
	types, err := csv(p.EventTypes)
	if err != nil {
		return nil, invalidArg(op, "eventTypes: %v", err)
	}
	path := "/threats/" + url.PathEscape(threatID) + "/explore/events"
	var (
		out    []ExploreEvent
		cursor string
		seen   = map[string]bool{}
	)
	for len(out) < limit {
		q := url.Values{"limit": {strconv.Itoa(min(limit-len(out), MaxLimit))}}
		if types != "" {
			q.Set("eventTypes", types)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page, err := list[ExploreEvent](ctx, c, path, "/threats/{threatId}/explore/events", q)
		if err != nil {
			return nil, fmt.Errorf("s1: threat %s explore events: %w", threatID, err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" || len(page.Items) == 0 {
			break
		}
		if seen[page.NextCursor] {
			return nil, fmt.Errorf("s1: threat %s explore events: console returned cursor %.40q twice", threatID, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ExploreEvent is one item of GET /threats/{id}/explore/events (API reference §2.5; field
// names from the vendor spec's ThreatEvent, "legacy" DV names). Values are loosely typed on
// the wire, so IDs, PIDs and ports are FlexString, booleans FlexBool (relatedToThreat comes
// as "True"/"False"), and times Time.
type ExploreEvent struct {
	ID         FlexString `json:"id"`
	ObjectType string     `json:"objectType"`
	EventType  string     `json:"eventType"`
	CreatedAt  Time       `json:"createdAt"`

	EventAgent
	SiteID   FlexString `json:"siteId"`
	SiteName string     `json:"siteName"`

	ProcessName            string     `json:"processName"`
	PID                    FlexString `json:"pid"`
	ParentPID              FlexString `json:"parentPid"`
	ParentProcessName      string     `json:"parentProcessName"`
	ParentProcessUniqueKey string     `json:"parentProcessUniqueKey"`
	ProcessCmd             string     `json:"processCmd"`
	ProcessImagePath       string     `json:"processImagePath"`
	ProcessUserName        string     `json:"processUserName"`
	ProcessUniqueKey       string     `json:"processUniqueKey"`
	ProcessGroupID         string     `json:"processGroupId"`
	ProcessStartTime       Time       `json:"processStartTime"`
	ProcessIntegrityLevel  string     `json:"processIntegrityLevel"`
	ProcessIsMalicious     FlexBool   `json:"processIsMalicious"`

	SrcIP         string     `json:"srcIp"`
	SrcPort       FlexString `json:"srcPort"`
	DstIP         string     `json:"dstIp"`
	DstPort       FlexString `json:"dstPort"`
	DNSRequest    string     `json:"dnsRequest"`
	DNSResponse   string     `json:"dnsResponse"`
	NetworkURL    string     `json:"networkUrl"`
	NetworkMethod string     `json:"networkMethod"`
	Direction     string     `json:"direction"`

	FileFullName  string `json:"fileFullName"`
	FileSha1      string `json:"fileSha1"`
	FileSha256    string `json:"fileSha256"`
	FileMd5       string `json:"fileMd5"`
	OldFileName   string `json:"oldFileName"`
	OldFileSha1   string `json:"oldFileSha1"`
	OldFileSha256 string `json:"oldFileSha256"`
	OldFileMd5    string `json:"oldFileMd5"`

	RegistryPath string     `json:"registryPath"`
	RegistryID   FlexString `json:"registryId"`
	TaskName     string     `json:"taskName"`
	TaskPath     string     `json:"taskPath"`

	IndicatorCategory    string `json:"indicatorCategory"`
	IndicatorName        string `json:"indicatorName"`
	IndicatorDescription string `json:"indicatorDescription"`
	IndicatorMetadata    string `json:"indicatorMetadata"`
	LoginsUserName       string `json:"loginsUserName"`

	Storyline       string   `json:"storyline"`
	TrueContext     string   `json:"trueContext"`
	RelatedToThreat FlexBool `json:"relatedToThreat"`
	ThreatStatus    string   `json:"threatStatus"`
}

// EventAgent is the agent block that Deep Visibility and explore events share, with the
// legacy field names.
type EventAgent struct {
	AgentID               FlexString `json:"agentId"`
	AgentName             string     `json:"agentName"`
	AgentUUID             string     `json:"agentUuid"`
	AgentGroupID          FlexString `json:"agentGroupId"`
	AgentIP               string     `json:"agentIp"`
	AgentDomain           string     `json:"agentDomain"`
	AgentOS               string     `json:"agentOs"`
	AgentVersion          string     `json:"agentVersion"`
	AgentMachineType      string     `json:"agentMachineType"`
	AgentNetworkStatus    string     `json:"agentNetworkStatus"`
	AgentIsActive         FlexBool   `json:"agentIsActive"`
	AgentIsDecommissioned FlexBool   `json:"agentIsDecommissioned"`
	AgentInfected         FlexBool   `json:"agentInfected"`
}
