package slackbot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// What a request asked for, as its audit record's Action says.
const (
	ActApprove       = "approve"
	ActApproveSome   = "approve_some"
	ActReject        = "reject"
	ActCommand       = "command"
	ActUnverified    = "unverified_request"
	ActUnsupported   = "unsupported_request"
	auditDecisionOK  = "accepted"
	auditDecisionNot = "refused"
	// botInvestigation is the InvestigationID of records that concern no investigation.
	botInvestigation = "slackbot"
)

// ModalMeta is a modal's private_metadata: the message whose button opened it.
type ModalMeta struct {
	ThreatID  string `json:"threat"`
	Channel   string `json:"channel"`
	MessageTS string `json:"ts"`
}

func (m ModalMeta) encode() string {
	b, _ := json.Marshal(m) // three strings always encode
	return string(b)
}

func parseModalMeta(s string) (ModalMeta, error) {
	var m ModalMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return ModalMeta{}, fmt.Errorf("reading the form's metadata: %w", err)
	}
	if !validThreatID(m.ThreatID) {
		return ModalMeta{}, fmt.Errorf("the form's metadata names no valid threat")
	}
	return m, nil
}

// digest is a short, stable hash of parts (unambiguous: parts are NUL-separated).
func digest(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// buttonRequestID is the decision's request ID (the workflow Update's ID) for a click:
// Slack sends the same team, user, action_ts and message ts again when it retries, so a
// retry is the same decision; a second click has another action_ts and is told what
// was decided.
func buttonRequestID(ic slack.InteractionCallback, a *slack.BlockAction) string {
	return "slack-" + digest("button", ic.Team.ID, ic.User.ID, a.ActionID, a.Value, actionTS(ic, a), messageTS(ic))
}

// viewRequestID is the decision's request ID for a submitted modal: one modal (view
// ID) is one decision however often its submission arrives.
func viewRequestID(ic slack.InteractionCallback) string {
	return "slack-" + digest("view", ic.Team.ID, ic.User.ID, ic.View.ID)
}

func actionTS(ic slack.InteractionCallback, a *slack.BlockAction) string {
	if a.ActionTs != "" {
		return a.ActionTs
	}
	return ic.ActionTs
}

func messageTS(ic slack.InteractionCallback) string {
	if ic.Container.MessageTs != "" {
		return ic.Container.MessageTs
	}
	return ic.Message.Timestamp
}

func channelOf(ic slack.InteractionCallback) string {
	if ic.Channel.ID != "" {
		return ic.Channel.ID
	}
	return ic.Container.ChannelID
}

// validThreatID accepts SentinelOne threat IDs (digits) and other plain IDs; anything
// else never reaches a workflow ID or a message.
func validThreatID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
