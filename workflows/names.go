package workflows

import (
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Names of everything a user or another program addresses from outside: the CLI, the
// Web UI, the Slack bot. Changing one of them breaks running investigations and
// documented commands.
const (
	// InvestigateWorkflow is the workflow type of one investigation.
	InvestigateWorkflow = "InvestigateThreat"

	// ApprovalSignal carries a Decision. Signals are durable even while workers are
	// down, so the temporal CLI uses this.
	ApprovalSignal = "approval"
	// ApproveUpdate carries a Decision and answers at once (validated), for callers
	// that need to know whether their decision was recorded.
	ApproveUpdate = "approve"
	// ThreatUpdatedSignal carries a ConsoleState: the poller saw the threat change in
	// the SentinelOne console (e.g. an analyst resolved it) while it was investigated.
	ThreatUpdatedSignal = "threat-updated"
	// StatusQuery returns the investigation's Status.
	StatusQuery = "status"
)

// workflowIDPrefix marks investigation workflow IDs. The ID is derived only from the
// threat ID, so one threat can never have two investigations.
const workflowIDPrefix = "s1-threat/"

// WorkflowID is the investigation workflow ID of a threat.
func WorkflowID(threatID string) string { return workflowIDPrefix + threatID }

// ThreatIDFromWorkflowID reverses WorkflowID.
func ThreatIDFromWorkflowID(id string) (string, bool) {
	if !strings.HasPrefix(id, workflowIDPrefix) {
		return "", false
	}
	return strings.TrimPrefix(id, workflowIDPrefix), true
}

// Search attributes shown and filterable in the Web UI. They are never encrypted, so
// they hold IDs and enums only (the agent name is a host name, no personal data).
// Register them on a cluster with `temporal operator search-attribute create`.
var (
	ThreatIDKey  = temporal.NewSearchAttributeKeyKeyword("S1ThreatId")
	AgentNameKey = temporal.NewSearchAttributeKeyKeyword("S1AgentName")
	SiteIDKey    = temporal.NewSearchAttributeKeyKeyword("S1SiteId")
	VerdictKey   = temporal.NewSearchAttributeKeyKeyword("S1Verdict")
	PriorityKey  = temporal.NewSearchAttributeKeyKeyword("S1Priority")
	StageKey     = temporal.NewSearchAttributeKeyKeyword("S1Stage")
	OutcomeKey   = temporal.NewSearchAttributeKeyKeyword("S1Outcome")
)

// SearchAttributeKeys lists every custom search attribute (all Keyword), for the dev
// server flags, tests and the README.
func SearchAttributeKeys() []temporal.SearchAttributeKeyKeyword {
	return []temporal.SearchAttributeKeyKeyword{ThreatIDKey, AgentNameKey, SiteIDKey, VerdictKey, PriorityKey, StageKey, OutcomeKey}
}
