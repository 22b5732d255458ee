package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/workflows"
)

// huntAPI is what `starter hunt` does with a hunt (workflows.Hunts; faked in tests).
type huntAPI interface {
	Start(ctx context.Context, in workflows.HuntInput) error
	Status(ctx context.Context, id string) (workflows.HuntStatus, error)
	Confirm(ctx context.Context, id string, c workflows.HuntConfirmation) (string, error)
	Result(ctx context.Context, id string) (workflows.HuntStatus, error)
}

// huntPoll is how often `starter hunt` reads the hunt's status.
var huntPoll = time.Second

func huntCmd(ctx context.Context, args []string) error {
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	return runHunt(ctx, workflows.Hunts{Client: o.c, TaskQueue: o.temporal.TaskQueue}, args, os.Stdin, os.Stdout, time.Now)
}

// huntArgs reads `hunt "<question>" [--as NAME] [--yes] [--since 24h]`, the question
// before or after the flags.
func huntArgs(args []string) (workflows.HuntInput, error) {
	fs := flag.NewFlagSet("hunt", flag.ContinueOnError)
	as := fs.String("as", os.Getenv("USER"), "who asks (recorded in the audit log)")
	yes := fs.Bool("yes", false, "run the proposed query without asking")
	since := fs.String("since", "", "search the last DURATION (e.g. 24h, 7d), whatever the question says")
	var words []string
	for len(args) > 0 {
		if !strings.HasPrefix(args[0], "-") {
			words, args = append(words, args[0]), args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			return workflows.HuntInput{}, err
		}
		args = fs.Args()
	}
	in := workflows.HuntInput{Question: strings.TrimSpace(strings.Join(words, " ")), Actor: strings.TrimSpace(*as), Channel: "cli", Confirmed: *yes}
	if in.Question == "" {
		return in, errors.New(`hunt needs a question, e.g. starter hunt "endpoints with suspicious PowerShell in the last 24 hours"`)
	}
	if in.Actor == "" {
		return in, errors.New("hunt needs who asks: --as NAME")
	}
	if *since != "" {
		d, err := llm.ParseLookback(*since)
		if err != nil {
			return in, fmt.Errorf("--since: %w", err)
		}
		in.Since = d
	}
	return in, nil
}

func runHunt(ctx context.Context, hunts huntAPI, args []string, stdin io.Reader, out io.Writer, now func() time.Time) error {
	in, err := huntArgs(args)
	if err != nil {
		return err
	}
	in.ID = workflows.NewHuntID(now())
	if err := hunts.Start(ctx, in); err != nil {
		return err
	}
	fmt.Fprintf(out, "hunt %s (%s)\n", in.ID, workflows.HuntWorkflowID(in.ID))
	st, err := waitHunt(ctx, hunts, in.ID, func(st workflows.HuntStatus) bool {
		return st.Stage != workflows.HuntTranslating && st.Stage != workflows.HuntChecking
	})
	if err != nil {
		return err
	}
	printProposal(out, st)
	if st.Stage == workflows.HuntAwaitingRun {
		run := askYes(stdin, out, "Run this query? [y/N] ")
		if _, err := hunts.Confirm(ctx, in.ID, workflows.HuntConfirmation{Run: run, By: in.Actor}); err != nil {
			return err
		}
	}
	last := ""
	if _, err := waitHunt(ctx, hunts, in.ID, func(st workflows.HuntStatus) bool {
		if line := progressLine(st); line != "" && line != last {
			fmt.Fprintln(out, line)
			last = line
		}
		return st.Stage == workflows.HuntDone
	}); err != nil {
		return err
	}
	final, err := hunts.Result(ctx, in.ID)
	if err != nil {
		return err
	}
	printHuntResult(out, final)
	if final.Outcome != workflows.HuntFinished {
		return fmt.Errorf("hunt %s ended %s", in.ID, final.Outcome)
	}
	return nil
}

// waitHunt polls the status until done says so (or the hunt has ended).
func waitHunt(ctx context.Context, hunts huntAPI, id string, done func(workflows.HuntStatus) bool) (workflows.HuntStatus, error) {
	for {
		st, err := hunts.Status(ctx, id)
		if err == nil && (done(st) || st.Stage == workflows.HuntDone) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("hunt %s goes on without this command (see the Web UI): %w", id, ctx.Err())
		case <-time.After(huntPoll):
		}
	}
}

func printProposal(out io.Writer, st workflows.HuntStatus) {
	t := st.Translation
	if t.Query == "" {
		return
	}
	fmt.Fprintf(out, "\nquery (%s, by %s):\n  %s\n", t.Language, t.Translator, t.Query)
	fmt.Fprintf(out, "window: %s to %s\n", t.From.UTC().Format(time.RFC3339), t.To.UTC().Format(time.RFC3339))
	fmt.Fprintf(out, "explanation: %s\n", t.Explanation)
	if t.Notice != "" {
		fmt.Fprintf(out, "notice: %s\n", t.Notice)
	}
	fmt.Fprintln(out)
}

func askYes(stdin io.Reader, out io.Writer, prompt string) bool {
	fmt.Fprint(out, prompt)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func progressLine(st workflows.HuntStatus) string {
	switch st.Stage {
	case workflows.HuntQueued:
		if st.QueuePosition > 0 {
			return fmt.Sprintf("queued for Deep Visibility (one query a minute): position %d", st.QueuePosition)
		}
		return "queued for Deep Visibility (one query a minute)"
	case workflows.HuntRunning:
		return fmt.Sprintf("running: %d%%", st.Progress)
	case workflows.HuntFetching:
		return "fetching the events"
	case workflows.HuntFollowingUp:
		return "proposing follow-ups"
	}
	return ""
}

func printHuntResult(out io.Writer, st workflows.HuntStatus) {
	fmt.Fprintf(out, "\nhunt %s: %s", st.ID, st.Outcome)
	if st.Reason != "" {
		fmt.Fprintf(out, ": %s", st.Reason)
	}
	fmt.Fprintln(out)
	if st.Summary != nil {
		printSummary(out, *st.Summary)
	}
	if len(st.FollowUps) > 0 {
		fmt.Fprintln(out, "\nfollow-ups:")
		for _, q := range st.FollowUps {
			fmt.Fprintf(out, "  starter hunt %s\n", strconv.Quote(q))
		}
	}
}

func printSummary(out io.Writer, s activities.HuntSummary) {
	fmt.Fprintln(out, s.Text())
	if s.JSONPath != "" {
		fmt.Fprintf(out, "events: %s\n        %s\n", s.JSONPath, s.CSVPath)
	}
}
