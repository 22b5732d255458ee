package slackbot

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slack-go/slack"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/slackbot/messages"
	"github.com/s1copilot/s1copilot/workflows"
)

// MaxReason bounds a reason typed in a modal.
const MaxReason = 500

// openApproveSome opens the "approve some" modal: a checkbox per action the
// investigation waits on (read from its status) and a required reason. The status is
// read within triggerBudget, as the trigger_id expires 3 seconds after the click.
func (b *Bot) openApproveSome(ctx context.Context, c click) {
	sctx, cancel := context.WithTimeout(ctx, triggerBudget)
	st, err := b.o.Investigations.Status(sctx, c.threatID)
	cancel()
	if err != nil {
		b.o.Logger.Warn("Status not read for the approve-some form.", zap.String("threat", c.threatID), zap.Error(err))
		b.record(ctx, entry{key: c.key, threatID: c.threatID, actor: c.user, action: ActApproveSome, reason: "form not opened: status not read"})
		b.ephemeral(ctx, c.channel, c.user, fmt.Sprintf("I could not read what waits on threat %s in time; click again.", esc(c.threatID)))
		return
	}
	if st.Stage != workflows.StageAwaitingApproval || len(st.AwaitingApproval) == 0 {
		text, why := b.nothingToChoose(st)
		b.record(ctx, entry{key: c.key, threatID: c.threatID, actor: c.user, action: ActApproveSome, reason: "form not opened: " + why})
		b.ephemeral(ctx, c.channel, c.user, text)
		return
	}
	b.openModal(ctx, c, ActApproveSome, approveSomeModal(c.meta(), st))
}

// openReject opens the reject modal (a required reason) at once.
func (b *Bot) openReject(ctx context.Context, c click) {
	b.openModal(ctx, c, ActReject, rejectModal(c.meta()))
}

func (b *Bot) openModal(ctx context.Context, c click, what string, view slack.ModalViewRequest) {
	if _, err := b.o.Slack.OpenViewContext(ctx, c.triggerID, view); err != nil {
		b.o.Logger.Warn("Modal not opened.", zap.String("threat", c.threatID), zap.String("what", what), zap.Error(err))
		b.record(ctx, entry{key: c.key, threatID: c.threatID, actor: c.user, action: what, reason: "form not opened: " + err.Error()})
		b.ephemeral(ctx, c.channel, c.user, "Slack did not open the form in time; click the button again.")
		return
	}
	b.record(ctx, entry{key: c.key, threatID: c.threatID, actor: c.user, action: what, accepted: true, reason: "form opened"})
}

// nothingToChoose explains why an investigation has no action to choose from.
func (b *Bot) nothingToChoose(st workflows.Status) (text, why string) {
	id := esc(st.ThreatID)
	switch {
	case st.Decision != nil:
		return fmt.Sprintf("Threat %s was already decided:%s", id, decidedBy(st.Decision)), "already decided"
	case st.Stage == workflows.StageAwaitingApproval:
		return fmt.Sprintf("Threat %s waits for a decision on no action (%s): use Approve or Reject.", id, esc(st.Review)), "no action to choose"
	case !st.ApprovalDeadline.IsZero() && b.o.Now().After(st.ApprovalDeadline):
		return fmt.Sprintf("The approval deadline of threat %s has passed: no action was taken.", id), "deadline passed"
	case st.Outcome != "":
		return fmt.Sprintf("The investigation of threat %s has finished (outcome: %s).", id, esc(string(st.Outcome))), "investigation finished"
	}
	return fmt.Sprintf("Nothing waits for approval on threat %s (stage: %s).", id, esc(string(st.Stage))), "not awaiting approval"
}

func (c click) meta() ModalMeta {
	return ModalMeta{ThreatID: c.threatID, Channel: c.channel, MessageTS: c.messageTS}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func reasonInput() *slack.InputBlock {
	in := slack.NewPlainTextInputBlockElement(plain("Why? It goes to the audit log."), messages.InputReason)
	in.Multiline, in.MaxLength = true, MaxReason
	return slack.NewInputBlock(messages.BlockReason, plain("Reason"), nil, in)
}

// approveSomeModal lists the pending actions as checkboxes, none ticked: the approver
// picks what runs.
func approveSomeModal(m ModalMeta, st workflows.Status) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	for _, a := range st.AwaitingApproval {
		var desc *slack.TextBlockObject
		if r := stepReason(st, a); r != "" {
			desc = plain(truncate(r, 75))
		}
		opts = append(opts, slack.NewOptionBlockObject(string(a), plain(string(a)), desc))
	}
	intro := fmt.Sprintf("Threat *%s*: tick the actions to carry out. Those you leave out are not taken.", esc(m.ThreatID))
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: messages.ModalApproveSome, PrivateMetadata: m.encode(),
		Title: plain("Approve some actions"), Submit: plain("Approve"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, intro, false, false), nil, nil),
			slack.NewInputBlock(messages.BlockActions, plain("Actions"), nil, slack.NewCheckboxGroupsBlockElement(messages.InputActions, opts...)),
			reasonInput(),
		}},
	}
}

func rejectModal(m ModalMeta) slack.ModalViewRequest {
	intro := fmt.Sprintf("Reject threat *%s*: none of the pending actions will be taken.", esc(m.ThreatID))
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: messages.ModalReject, PrivateMetadata: m.encode(),
		Title: plain("Reject"), Submit: plain("Reject"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, intro, false, false), nil, nil),
			reasonInput(),
		}},
	}
}

func stepReason(st workflows.Status, a investigation.Action) string {
	if st.Plan == nil {
		return ""
	}
	for _, s := range st.Plan.Steps {
		if s.Action == a {
			return s.Reason
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// handleSubmission validates a submitted modal: when invalid it answers
// response_action errors (the modal stays open, the fields marked); else it closes the
// modal and the decision runs afterwards.
func (b *Bot) handleSubmission(ctx context.Context, ic slack.InteractionCallback) any {
	what := map[string]string{messages.ModalApproveSome: ActApproveSome, messages.ModalReject: ActReject}[ic.View.CallbackID]
	// A corrected submission of the same modal is another request than the refused one.
	key := digest("view", ic.Team.ID, ic.User.ID, ic.View.ID, stateDigest(ic.View.State))
	if what == "" {
		b.record(ctx, entry{key: key, actor: ic.User.ID, action: ActUnsupported, reason: "unknown form " + ic.View.CallbackID})
		return nil
	}
	meta, err := parseModalMeta(ic.View.PrivateMetadata)
	if err != nil {
		b.record(ctx, entry{key: key, actor: ic.User.ID, action: what, reason: err.Error()})
		return slack.NewErrorsViewSubmissionResponse(map[string]string{messages.BlockReason: "This form is damaged; close it and click the button again."})
	}
	actions, reason, problems := readSubmission(ic.View.State, what == ActApproveSome)
	if len(problems) > 0 {
		why := slices.Sorted(maps.Values(problems))
		b.record(ctx, entry{key: key, threatID: meta.ThreatID, actor: ic.User.ID, action: what, reason: "invalid form: " + strings.Join(why, "; ")})
		return slack.NewErrorsViewSubmissionResponse(problems)
	}
	r := decisionRequest{
		click: click{threatID: meta.ThreatID, channel: meta.Channel, messageTS: meta.MessageTS, user: ic.User.ID,
			requestID: viewRequestID(ic), key: key},
		what: what, approve: what == ActApproveSome, actions: actions, reason: reason,
	}
	b.spawn(ctx, what, func(ctx context.Context) { b.decide(ctx, r) })
	return slack.NewClearViewSubmissionResponse()
}

// readSubmission reads the modal's fields; problems maps an input block to what is
// wrong with it.
func readSubmission(state *slack.ViewState, chooseActions bool) (actions []investigation.Action, reason string, problems map[string]string) {
	problems = map[string]string{}
	var values map[string]map[string]slack.BlockAction
	if state != nil {
		values = state.Values
	}
	reason = strings.TrimSpace(values[messages.BlockReason][messages.InputReason].Value)
	switch {
	case reason == "":
		problems[messages.BlockReason] = "Say why: the reason goes to the audit log."
	case len([]rune(reason)) > MaxReason:
		problems[messages.BlockReason] = fmt.Sprintf("At most %d characters.", MaxReason)
	}
	if chooseActions {
		for _, o := range values[messages.BlockActions][messages.InputActions].SelectedOptions {
			a := investigation.Action(o.Value)
			if !a.Valid() {
				problems[messages.BlockActions] = fmt.Sprintf("Unknown action %q.", o.Value)
				break
			}
			actions = append(actions, a)
		}
		if len(actions) == 0 && problems[messages.BlockActions] == "" {
			problems[messages.BlockActions] = "Tick at least one action (or use Reject)."
		}
	}
	if len(problems) == 0 {
		problems = nil
	}
	return actions, reason, problems
}

// stateDigest identifies what a modal's submission said.
func stateDigest(state *slack.ViewState) string {
	if state == nil {
		return ""
	}
	var parts []string
	for block, inputs := range state.Values {
		for input, v := range inputs {
			sel := make([]string, len(v.SelectedOptions))
			for i, o := range v.SelectedOptions {
				sel[i] = o.Value
			}
			parts = append(parts, block+"/"+input+"="+v.Value+"|"+strings.Join(sel, ","))
		}
	}
	slices.Sort(parts)
	return digest(parts...)
}
