// Package messages is an investigation's Slack message: what it shows (Card), how it
// renders as Block Kit and as plain text, and how it is posted, updated and replied to
// without ever posting twice (Poster). The investigation workflow runs the Poster
// through activities; the bot (package slackbot) handles the clicks on its buttons.
package messages

// Action IDs of the message's buttons and the modals they open; their value is the
// threat ID. The bot (package slackbot) dispatches on them.
const (
	ActionApprove     = "s1c_approve"
	ActionApproveSome = "s1c_approve_some"
	ActionReject      = "s1c_reject"

	// ModalApproveSome and ModalReject are the callback IDs of the two modals; their
	// private_metadata is the threat ID, the channel and the message ts (ModalMeta).
	ModalApproveSome = "s1c_approve_some_modal"
	ModalReject      = "s1c_reject_modal"

	// Blocks and inputs of the modals.
	BlockActions  = "s1c_actions"
	InputActions  = "s1c_actions_input"
	BlockReason   = "s1c_reason"
	InputReason   = "s1c_reason_input"
	ActionsBlock  = "s1c_buttons" // the message's buttons block
	MetadataEvent = "s1copilot_investigation"
	// ReplyEvent marks a thread reply (reminder, escalation) so a retry finds it.
	ReplyEvent = "s1copilot_reply"
)
