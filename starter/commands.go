package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/workflows"
)

// operator is what the operator commands work with: the deployment's investigations and
// its control workflow, on one Temporal connection.
type operator struct {
	c              client.Client
	temporal       config.Temporal
	investigations workflows.Investigations
	control        control.Client
}

func dial() (*operator, error) {
	tc, err := config.LoadTemporal()
	if err != nil {
		return nil, err
	}
	c, err := tc.Dial(context.Background(), client.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, err
	}
	return &operator{
		c: c, temporal: tc,
		investigations: workflows.Investigations{Client: c, TaskQueue: tc.TaskQueue},
		control:        control.Client{C: c, WorkflowID: tc.ControlWorkflowID(), TaskQueue: tc.ControlTaskQueue()},
	}, nil
}

func (o *operator) Close() { o.c.Close() }

func threatArg(fs *flag.FlagSet, args []string) (string, error) {
	// Accept the threat ID before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	if id == "" {
		return "", fmt.Errorf("%s needs a THREAT_ID (the SentinelOne threat ID, e.g. 1910000000000000001)", fs.Name())
	}
	return id, nil
}

func start(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	id, err := threatArg(fs, args)
	if err != nil {
		return err
	}
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	started, err := o.investigations.Start(ctx, id, workflows.StartHint{})
	if err != nil {
		return err
	}
	if !started {
		fmt.Printf("threat %s already has an investigation: %s\n", id, workflows.WorkflowID(id))
		return nil
	}
	fmt.Printf("started %s\n", workflows.WorkflowID(id))
	return nil
}

func decide(ctx context.Context, approve bool, args []string) error {
	name := "reject"
	if approve {
		name = "approve"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	as := fs.String("as", "", "your identity (required), e.g. alice@example.com")
	reason := fs.String("reason", "", "why (required)")
	useSignal := fs.Bool("signal", false, "send a signal (durable even while workers are down) instead of an update (answers at once)")
	only := fs.String("only", "", "approve with changes: comma-separated actions to carry out (e.g. kill,quarantine); the other pending ones are not")
	requestID := fs.String("request-id", "", "idempotency key; the same key is the same decision however often it is sent (default: derived from the threat, approver, reason and actions)")
	key := fs.String("key", os.Getenv(approverKeyEnv), "your ed25519 private key (starter keygen): the decision is signed, and a policy that requires signatures accepts it (default $"+approverKeyEnv+")")
	id, err := threatArg(fs, args)
	if err != nil {
		return err
	}
	var missing []string
	if strings.TrimSpace(*as) == "" {
		missing = append(missing, "--as NAME")
	}
	if strings.TrimSpace(*reason) == "" {
		missing = append(missing, "--reason TEXT")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s needs %s", name, strings.Join(missing, " and "))
	}
	d := workflows.Decision{Approver: *as, Reason: *reason, Channel: "starter", RequestID: *requestID}
	if *only != "" {
		if !approve {
			return fmt.Errorf("--only goes with approve")
		}
		for _, a := range strings.Split(*only, ",") {
			act := investigation.Action(strings.TrimSpace(a))
			if !act.Valid() {
				return fmt.Errorf("--only: unknown action %q (one of %v)", act, investigation.Actions)
			}
			d.Actions = append(d.Actions, act)
		}
	}
	if *key != "" {
		if err := sign(&d, id, approve, *key, time.Now()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	send := o.investigations.Reject
	if approve {
		send = o.investigations.Approve
	}
	out, err := send(ctx, id, d, workflows.DecideOptions{Signal: *useSignal})
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, workflows.WorkflowID(id), err)
	}
	if *useSignal {
		fmt.Printf("%s signal sent to %s (check with: starter status %s)\n", name, workflows.WorkflowID(id), id)
		return nil
	}
	fmt.Printf("%s %s: %s\n", name, workflows.WorkflowID(id), out)
	return nil
}

func status(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	id, err := threatArg(fs, args)
	if err != nil {
		return err
	}
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	st, err := o.investigations.Status(ctx, id)
	if err != nil {
		return err
	}
	return printJSON(os.Stdout, st)
}

func pending(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pending", flag.ContinueOnError)
	var f workflows.PendingFilter
	fs.StringVar(&f.Priority, "priority", "", "only this priority (critical, high, medium or low)")
	fs.StringVar(&f.Verdict, "verdict", "", "only this verdict (true_positive, suspicious, false_positive, undetermined)")
	fs.StringVar(&f.AgentName, "agent", "", "only this host (agent name)")
	fs.StringVar(&f.SiteID, "site", "", "only this SentinelOne site ID")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	list, err := o.investigations.Pending(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(os.Stdout, list)
	}
	return printPending(os.Stdout, list, time.Now())
}

func printPending(w io.Writer, list []workflows.PendingInvestigation, now time.Time) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no investigation is waiting for approval")
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "THREAT\tHOST\tVERDICT\tPRIORITY\tWAITING\tAPPROVE WITH")
	for _, p := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\tstarter approve %s --as NAME --reason TEXT\n", p.ThreatID, orDash(p.AgentName), orDash(p.Verdict),
			orDash(p.Priority), now.Sub(p.StartedAt).Round(time.Second), p.ThreatID)
	}
	return tw.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return errors.New("encoding the answer: " + err.Error())
	}
	return nil
}
