package workflows

import (
	"strings"

	"github.com/s1copilot/s1copilot/activities"
)

// Names of the hunting assistant's workflows and messages, addressed by the CLI, the
// Slack bot and each other. Changing one breaks hunts that are running.
const (
	// HuntWorkflow is the workflow type of one hunt (a question run as a Deep
	// Visibility query).
	HuntWorkflow = "Hunt"
	// HuntStatusQuery returns a hunt's HuntStatus.
	HuntStatusQuery = "hunt-status"
	// RunHuntUpdate carries the analyst's HuntConfirmation and answers at once
	// (validated: only a hunt awaiting confirmation accepts one).
	RunHuntUpdate = "run-hunt"
	// RunHuntSignal carries a HuntConfirmation too, for callers that need no answer
	// (durable while workers are down).
	RunHuntSignal = "run-hunt-signal"
	// HuntProgressSignal carries the DV query's progress in percent (from the
	// activity that polls it).
	HuntProgressSignal = activities.HuntProgressSignal
	// HuntQueuePositionSignal carries a hunt's position in the DV gate's queue
	// (1 = next).
	HuntQueuePositionSignal = "dv-queue-position"
	// HuntTurnSignal is the gate granting a hunt its turn at init-query.
	HuntTurnSignal = "dv-turn"

	// DVGateWorkflow is the workflow type of the Deep Visibility init-query gate: one
	// per SentinelOne token, granting turns one at a time, at least a minute apart.
	DVGateWorkflow = "DVQueryGate"
	// DVGateJoinSignal queues a hunt (its workflow ID) on the gate.
	DVGateJoinSignal = "dv-gate-join"
	// DVGateLeaveSignal takes a hunt (its workflow ID) out of the queue: cancelled,
	// timed out, or done with its turn before init-query.
	DVGateLeaveSignal = "dv-gate-leave"
	// DVGateDoneSignal says the hunt holding the turn has made its init-query call
	// (its workflow ID): the next turn comes a spacing later.
	DVGateDoneSignal = "dv-gate-done"
	// DVGateStatusQuery returns the gate's DVGateState.
	DVGateStatusQuery = "dv-gate-status"
)

// huntWorkflowIDPrefix marks hunt workflow IDs.
const huntWorkflowIDPrefix = "s1-hunt/"

// HuntWorkflowID is the workflow ID of hunt id.
func HuntWorkflowID(id string) string { return huntWorkflowIDPrefix + id }

// HuntIDFromWorkflowID reverses HuntWorkflowID.
func HuntIDFromWorkflowID(id string) (string, bool) {
	if !strings.HasPrefix(id, huntWorkflowIDPrefix) {
		return "", false
	}
	return strings.TrimPrefix(id, huntWorkflowIDPrefix), true
}
