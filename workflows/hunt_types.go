package workflows

import (
	"time"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/hunt"
)

// HuntInput starts a hunt.
type HuntInput struct {
	// ID names the hunt (workflow ID s1-hunt/<ID>, result files <ID>.json and .csv):
	// letters, digits, '.', '_' and '-'.
	ID string `json:"id"`
	// Question is the analyst's words.
	Question string `json:"question"`
	// Actor is who asked (the CLI's --as, the Slack user); Channel where (cli, slack).
	Actor   string `json:"actor"`
	Channel string `json:"channel,omitempty"`
	// Since, when set, searches the last Since, whatever the question says.
	Since time.Duration `json:"since,omitempty"`
	// Confirmed runs the proposed query without waiting for the analyst (--yes).
	Confirmed bool `json:"confirmed,omitempty"`
	// ConfirmTimeout bounds the wait for the analyst's confirmation; 0 means
	// DefaultHuntConfirmTimeout.
	ConfirmTimeout time.Duration `json:"confirmTimeout,omitempty"`
	// QueueTimeout bounds the wait for a turn at init-query; 0 means
	// DefaultHuntQueueTimeout.
	QueueTimeout time.Duration `json:"queueTimeout,omitempty"`
}

// Defaults of HuntInput's timeouts, and the longest a hunt may run in all.
const (
	DefaultHuntConfirmTimeout = time.Hour
	DefaultHuntQueueTimeout   = 6 * time.Hour
	MaxHunt                   = 24 * time.Hour
)

// HuntStage is where a hunt is.
type HuntStage string

// Hunt stages, in the order of the runbook.
const (
	HuntTranslating HuntStage = "translating"
	HuntChecking    HuntStage = "checking"
	HuntAwaitingRun HuntStage = "awaiting-confirmation"
	HuntQueued      HuntStage = "queued"
	HuntRunning     HuntStage = "running"
	HuntFetching    HuntStage = "fetching"
	HuntFollowingUp HuntStage = "following-up"
	HuntDone        HuntStage = "done"
)

// HuntOutcome is how a hunt ended.
type HuntOutcome string

// Hunt outcomes. Everything but Finished says why no summary exists.
const (
	HuntFinished      HuntOutcome = "finished"
	HuntNoTranslation HuntOutcome = "no_translation" // nothing could translate the question
	HuntRefused       HuntOutcome = "refused"        // the validator refused the query
	HuntNotConfirmed  HuntOutcome = "not_confirmed"  // nobody confirmed in time
	HuntDeclined      HuntOutcome = "declined"       // the analyst said no
	HuntQueueTimedOut HuntOutcome = "queue_timed_out"
	HuntQueryFailed   HuntOutcome = "query_failed"    // SentinelOne: FAILED, ERROR, not found
	HuntQueryExpired  HuntOutcome = "query_expired"   // SentinelOne: TIMED_OUT, QUERY_EXPIRED
	HuntQueryCanceled HuntOutcome = "query_cancelled" // SentinelOne cancelled the query
	HuntCancelled     HuntOutcome = "cancelled"       // the hunt itself was cancelled
	HuntFailed        HuntOutcome = "failed"          // an activity failed for good
)

// HuntConfirmation is the analyst's answer to a proposed query.
type HuntConfirmation struct {
	Run bool   `json:"run"`
	By  string `json:"by,omitempty"`
}

// HuntStatus is what the hunt-status query and the workflow's result show.
type HuntStatus struct {
	ID       string      `json:"id"`
	Question string      `json:"question"`
	Actor    string      `json:"actor"`
	Stage    HuntStage   `json:"stage"`
	Outcome  HuntOutcome `json:"outcome,omitempty"`
	// Reason says why the hunt ended as it did (a refusal, a failure), for people.
	Reason string `json:"reason,omitempty"`
	// QueuePosition is the place in the DV gate's queue while queued (1 = next).
	QueuePosition int `json:"queuePosition,omitempty"`
	// JoinedAt is the position the hunt was first told in the queue.
	JoinedAt int `json:"joinedAt,omitempty"`
	// Progress is the DV query's progress in percent while it runs.
	Progress    int              `json:"progress,omitempty"`
	Translation hunt.Translation `json:"translation"`
	// QueryState is SentinelOne's terminal state of the query (s1client.DVState).
	QueryState string `json:"queryState,omitempty"`
	// Summary holds the counts and the result files.
	Summary   *activities.HuntSummary `json:"summary,omitempty"`
	FollowUps []string                `json:"followUps,omitempty"`
	// ConfirmedBy is who confirmed the query ("" with --yes: the asker).
	ConfirmedBy string `json:"confirmedBy,omitempty"`
}
