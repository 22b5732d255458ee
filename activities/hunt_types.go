package activities

import (
	"time"

	"github.com/s1copilot/s1copilot/hunt"
)

// HuntSettings are what a hunt needs to know about the deployment, read once by the
// GetHuntSettings activity so that history records what applied.
type HuntSettings struct {
	// S1TaskQueue carries the Deep Visibility activities (the one process that makes
	// every console call); empty: the hunt's own task queue.
	S1TaskQueue string `json:"s1TaskQueue,omitempty"`
	// GateWorkflowID is the deployment's DV query gate (one per SentinelOne token), on
	// GateTaskQueue.
	GateWorkflowID string `json:"gateWorkflowId"`
	GateTaskQueue  string `json:"gateTaskQueue"`
	// GateSpacing is the least time between two init-queries (61 s: the console allows
	// one a minute per token).
	GateSpacing time.Duration `json:"gateSpacing"`
	// MaxEvents caps the events a hunt reads and writes.
	MaxEvents int `json:"maxEvents"`
	// ModelConfigured: a model translates questions and proposes follow-ups.
	ModelConfigured bool `json:"modelConfigured,omitempty"`
}

// DefaultHuntSpacing is the gate's spacing: a second more than the console's one
// init-query a minute per token, for clock skew.
const DefaultHuntSpacing = 61 * time.Second

// DefaultHuntMaxEvents caps the events one hunt reads.
const DefaultHuntMaxEvents = 10000

// TranslateHuntInput asks for the query that answers a question.
type TranslateHuntInput struct {
	Request hunt.Request `json:"request"`
	// Since, when set, replaces the translation's window by the last Since before Now
	// (the analyst's --since).
	Since time.Duration `json:"since,omitempty"`
}

// CheckHuntResult is the validator's answer: Refusal is empty when the query may run.
type CheckHuntResult struct {
	Refusal string `json:"refusal,omitempty"`
}

// HuntQueryInput asks SentinelOne to run a hunt's query.
type HuntQueryInput struct {
	HuntID string    `json:"huntId"`
	Query  string    `json:"query"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Limit  int       `json:"limit,omitempty"`
}

// AwaitHuntQueryInput asks for a DV query's terminal state. HuntWorkflowID receives
// progress signals.
type AwaitHuntQueryInput struct {
	QueryID        string `json:"queryId"`
	HuntWorkflowID string `json:"huntWorkflowId"`
}

// HuntQueryState is a DV query's terminal state (s1client.DVState) and its error or
// warnings, if any.
type HuntQueryState struct {
	State    string `json:"state"`
	Progress int    `json:"progress"`
	Error    string `json:"error,omitempty"`
}

// FetchHuntInput asks for a finished query's events, summarised and written to files.
type FetchHuntInput struct {
	HuntID    string `json:"huntId"`
	QueryID   string `json:"queryId"`
	MaxEvents int    `json:"maxEvents"`
}

// HuntSummary is what a hunt found: counts and the most frequent values, never the
// events themselves (they stay in the files).
type HuntSummary struct {
	Events int `json:"events"`
	// Capped: there were more events than MaxEvents; only the first were read.
	Capped          bool    `json:"capped,omitempty"`
	Hosts           int     `json:"hosts"`
	EventTypes      []Count `json:"eventTypes,omitempty"`
	TopHosts        []Count `json:"topHosts,omitempty"`
	TopProcesses    []Count `json:"topProcesses,omitempty"`
	TopCommandLines []Count `json:"topCommandLines,omitempty"`
	TopDestinations []Count `json:"topDestinations,omitempty"`
	// JSONPath and CSVPath are the files of the events, named by the hunt ID.
	JSONPath string `json:"jsonPath,omitempty"`
	CSVPath  string `json:"csvPath,omitempty"`
}

// Count is one value and how many events had it.
type Count struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// FollowUpsInput asks for next questions after a hunt.
type FollowUpsInput struct {
	Question    string           `json:"question"`
	Translation hunt.Translation `json:"translation"`
	Summary     HuntSummary      `json:"summary"`
}

// JoinGateInput starts the DV query gate if it is not running and queues a hunt on it.
type JoinGateInput struct {
	GateWorkflowID string        `json:"gateWorkflowId"`
	GateTaskQueue  string        `json:"gateTaskQueue"`
	Spacing        time.Duration `json:"spacing"`
	// SignalName and HuntWorkflowID are the join signal and its argument.
	SignalName     string `json:"signalName"`
	HuntWorkflowID string `json:"huntWorkflowId"`
	// GateWorkflow is the gate's workflow type; GateInput its start argument.
	GateWorkflow string `json:"gateWorkflow"`
	GateInput    any    `json:"gateInput"`
}

// Error types of the hunting activities.
const (
	ErrTypeNoTranslation = "NoTranslation" // neither the model nor the library answers the question
	ErrTypeHuntFiles     = "HuntFiles"     // the results directory is not writable
)
