package slackbot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/workflows"
)

// Command is the bot's slash command (the app manifest declares it).
const Command = "/s1copilot"

// CommandUsage is what help and an unknown subcommand answer.
const CommandUsage = "Usage:\n" +
	"• `/s1copilot pending`: what waits for a decision\n" +
	"• `/s1copilot status THREAT_ID`: where an investigation stands\n" +
	"• `/s1copilot kill-switch on|off REASON`: every automatic action waits for a human (or not again); the policy's killSwitchRoles only\n" +
	"• `/s1copilot hunt QUESTION`: hunt with Deep Visibility, e.g. `/s1copilot hunt suspicious PowerShell in the last 24 hours`\n" +
	"• `/s1copilot help`: this"

// maxPendingListed bounds the pending list in one message.
const maxPendingListed = 20

// HandleCommand handles /s1copilot, from HTTP or Socket Mode, and returns the
// acknowledgement: usage at once, else nothing, the answer following through the
// command's response_url once Temporal has answered. Every answer is ephemeral.
func (b *Bot) HandleCommand(ctx context.Context, cmd slack.SlashCommand) any {
	args := strings.Fields(cmd.Text)
	sub := "help"
	if len(args) > 0 {
		sub = strings.ToLower(args[0])
	}
	e := entry{key: digest("command", cmd.TeamID, cmd.UserID, cmd.TriggerID, cmd.Command, cmd.Text), actor: cmd.UserID, action: ActCommand + " " + sub}
	refuse := func(text, why string) any {
		e.reason = why
		b.record(ctx, e)
		return ephemeralReply(text)
	}
	switch sub {
	case "help":
		e.accepted, e.reason = true, "usage"
		b.record(ctx, e)
		return ephemeralReply(CommandUsage)
	case "pending":
		b.spawn(ctx, "pending", func(ctx context.Context) { b.pending(ctx, cmd, e) })
		return nil
	case "status":
		if len(args) != 2 || !validThreatID(args[1]) {
			return refuse("Say which threat: `/s1copilot status THREAT_ID`.\n"+CommandUsage, "no valid threat ID")
		}
		e.threatID = args[1]
		b.spawn(ctx, "status", func(ctx context.Context) { b.status(ctx, cmd, e) })
		return nil
	case "hunt":
		question := strings.TrimSpace(strings.Join(args[1:], " "))
		if question == "" {
			return refuse("Say what to hunt for: `/s1copilot hunt suspicious PowerShell in the last 24 hours`.", "no question")
		}
		b.spawn(ctx, "hunt", func(ctx context.Context) { b.hunt(ctx, cmd, e, question) })
		return nil
	case "kill-switch":
		if len(args) < 3 || (args[1] != "on" && args[1] != "off") {
			return refuse("Say on or off, and why: `/s1copilot kill-switch on|off REASON`.", "usage: kill-switch on|off REASON")
		}
		e.action = ActCommand + " kill-switch " + args[1]
		reason := strings.TrimSpace(strings.Join(args[2:], " "))
		b.spawn(ctx, "kill-switch", func(ctx context.Context) { b.killSwitch(ctx, cmd, e, args[1] == "on", reason) })
		return nil
	}
	return refuse(fmt.Sprintf("I do not know `%s`.\n%s", esc(truncate(sub, 40)), CommandUsage), "unknown subcommand")
}

// member is the approver a command's user is, when they hold a role of the policy
// (anyone mapped, under a policy without roles): investigations are the SOC's business.
func (b *Bot) member(ctx context.Context, cmd slack.SlashCommand, e *entry, roles []string, what string) (string, bool) {
	approver, err := b.approverOf(ctx, cmd.UserID)
	if err != nil {
		e.reason = err.Error()
		b.record(ctx, *e)
		b.answer(ctx, cmd, unmappedText(err))
		return "", false
	}
	e.actor = approver
	pol, err := b.policy()
	if err == nil {
		err = pol.AuthorizeRoles(approver, roles, what)
	}
	if err != nil {
		e.reason = err.Error()
		b.record(ctx, *e)
		b.answer(ctx, cmd, "Refused: "+esc(err.Error()))
		return "", false
	}
	return approver, true
}

func (b *Bot) pending(ctx context.Context, cmd slack.SlashCommand, e entry) {
	if _, ok := b.member(ctx, cmd, &e, nil, "reading investigations"); !ok {
		return
	}
	list, err := b.o.Investigations.Pending(ctx, workflows.PendingFilter{})
	if err != nil {
		b.failed(ctx, cmd, e, "listing pending investigations", err)
		return
	}
	e.accepted, e.reason = true, fmt.Sprintf("%d pending", len(list))
	b.record(ctx, e)
	b.answer(ctx, cmd, pendingText(list, b.o.Now()))
}

func pendingText(list []workflows.PendingInvestigation, now time.Time) string {
	if len(list) == 0 {
		return "No investigation waits for a decision."
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%d investigation(s) wait for a decision, oldest first:\n", len(list))
	for i, p := range list {
		if i == maxPendingListed {
			fmt.Fprintf(&s, "… and %d more (`starter pending` lists them all).\n", len(list)-i)
			break
		}
		fmt.Fprintf(&s, "• threat `%s` on %s: verdict %s, priority %s, age %s\n", esc(p.ThreatID), esc(orDash(p.AgentName)),
			esc(orDash(p.Verdict)), esc(orDash(p.Priority)), age(now.Sub(p.StartedAt)))
	}
	return strings.TrimSuffix(s.String(), "\n")
}

func (b *Bot) status(ctx context.Context, cmd slack.SlashCommand, e entry) {
	if _, ok := b.member(ctx, cmd, &e, nil, "reading investigations"); !ok {
		return
	}
	st, err := b.o.Investigations.Status(ctx, e.threatID)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		e.reason = "no investigation"
		b.record(ctx, e)
		b.answer(ctx, cmd, fmt.Sprintf("Threat `%s` has no investigation here.", esc(e.threatID)))
		return
	}
	if err != nil {
		b.failed(ctx, cmd, e, "reading the investigation of threat "+e.threatID, err)
		return
	}
	e.accepted, e.reason = true, "stage "+string(st.Stage)
	b.record(ctx, e)
	b.answer(ctx, cmd, statusText(e.threatID, st, b.o.Now()))
}

func statusText(threatID string, st workflows.Status, now time.Time) string {
	var s strings.Builder
	fmt.Fprintf(&s, "Threat `%s` (%s): stage %s", esc(threatID), esc(workflows.WorkflowID(threatID)), esc(string(st.Stage)))
	if a := st.Analysis; a != nil {
		fmt.Fprintf(&s, "\nVerdict %s (confidence %.2f), priority %s", esc(string(a.Verdict)), a.Confidence, esc(string(a.Priority)))
	}
	if len(st.AwaitingApproval) > 0 {
		fmt.Fprintf(&s, "\nWaiting for approval: %s, deadline %s (in %s)", actionList(st.AwaitingApproval),
			st.ApprovalDeadline.UTC().Format(time.RFC3339), age(st.ApprovalDeadline.Sub(now)))
	}
	if st.Review != "" {
		fmt.Fprintf(&s, "\nTo review: %s", esc(st.Review))
	}
	if st.Decision != nil {
		fmt.Fprintf(&s, "\nDecision:%s", decidedBy(st.Decision))
	}
	for _, a := range st.Actions {
		fmt.Fprintf(&s, "\n• %s: %s", esc(string(a.Action)), esc(string(a.State)))
	}
	if st.Outcome != "" {
		fmt.Fprintf(&s, "\nOutcome: %s", esc(string(st.Outcome)))
	}
	return s.String()
}

func (b *Bot) killSwitch(ctx context.Context, cmd slack.SlashCommand, e entry, on bool, reason string) {
	if b.o.KillSwitch == nil {
		e.reason = "no kill switch configured"
		b.record(ctx, e)
		b.answer(ctx, cmd, "The kill switch cannot be set from here; use `starter kill-switch`.")
		return
	}
	pol, err := b.policy()
	if err != nil {
		b.failed(ctx, cmd, e, "reading the policy", err)
		return
	}
	approver, ok := b.member(ctx, cmd, &e, pol.KillSwitchRoles, "the kill switch")
	if !ok {
		return
	}
	st, err := b.o.KillSwitch.SetKillSwitch(ctx, control.KillSwitchRequest{On: on, Actor: approver, Reason: reason})
	if err != nil {
		b.failed(ctx, cmd, e, "setting the kill switch", err)
		return
	}
	e.accepted, e.reason = true, reason
	b.record(ctx, e)
	b.o.Logger.Warn("Kill switch set from Slack.", zap.Bool("on", st.KillSwitch), zap.String("by", approver))
	state := "OFF: automatic actions run as the policy allows"
	if st.KillSwitch {
		state = "ON: every automatic action now waits for a human"
	}
	b.answer(ctx, cmd, fmt.Sprintf("Kill switch %s (set by %s: %s).", state, esc(st.KillSwitchBy), esc(st.KillSwitchReason)))
}

// failed answers a command that could not be carried out; the error is logged, not shown.
func (b *Bot) failed(ctx context.Context, cmd slack.SlashCommand, e entry, what string, err error) {
	b.o.Logger.Error("Slash command failed.", zap.String("what", what), zap.Error(err))
	e.reason = what + " failed"
	b.record(ctx, e)
	text := fmt.Sprintf("Failed: %s (the error is logged). Try again.", esc(what))
	if errors.Is(err, context.DeadlineExceeded) {
		text = fmt.Sprintf("Failed: %s took too long. Try again.", esc(what))
	}
	b.answer(ctx, cmd, text)
}

// age writes a duration to the minute, the way people read it: 45m, 2h5m, 3d4h.
func age(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
