package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/workflows"
)

func dial() (client.Client, config.Temporal, error) {
	tc, err := config.LoadTemporal()
	if err != nil {
		return nil, tc, err
	}
	c, err := client.Dial(tc.ClientOptions(quietLogger{}))
	if err != nil {
		return nil, tc, fmt.Errorf("connecting to Temporal at %s: %w", tc.Address, err)
	}
	return c, tc, nil
}

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
	c, tc, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	started, err := workflows.StartInvestigation(ctx, c, tc.TaskQueue, id, workflows.StartHint{})
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
	d := workflows.Decision{Approved: approve, Approver: *as, Reason: *reason, Channel: "starter"}
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
	c, _, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	wid := workflows.WorkflowID(id)
	if *useSignal {
		if err := c.SignalWorkflow(ctx, wid, "", workflows.ApprovalSignal, d); err != nil {
			return fmt.Errorf("signalling %s: %w", wid, err)
		}
		fmt.Printf("%s signal sent to %s (check with: starter status %s)\n", name, wid, id)
		return nil
	}
	uctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	h, err := c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID: wid, UpdateName: workflows.ApproveUpdate, Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no worker answered for %s within 15s; retry, or use --signal which is delivered when a worker comes back", wid)
		}
		return fmt.Errorf("%s %s: %w", name, wid, err)
	}
	var out string
	if err := h.Get(uctx, &out); err != nil {
		return fmt.Errorf("%s refused by %s: %w", name, wid, err)
	}
	fmt.Printf("%s %s: %s\n", name, wid, out)
	return nil
}

func status(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	id, err := threatArg(fs, args)
	if err != nil {
		return err
	}
	c, _, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := c.QueryWorkflow(ctx, workflows.WorkflowID(id), "", workflows.StatusQuery)
	if err != nil {
		return fmt.Errorf("querying %s: %w", workflows.WorkflowID(id), err)
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil {
		return fmt.Errorf("decoding status: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

func pending(ctx context.Context) error {
	c, _, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	q := fmt.Sprintf(`%s = "%s" AND ExecutionStatus = "Running"`, workflows.StageKey.GetName(), workflows.StageAwaitingApproval)
	resp, err := c.ListWorkflow(ctx, listRequest(q))
	if err != nil {
		return fmt.Errorf("listing investigations awaiting approval: %w", err)
	}
	if len(resp.Executions) == 0 {
		fmt.Println("no investigation is waiting for approval")
	}
	for _, e := range resp.Executions {
		id, _ := workflows.ThreatIDFromWorkflowID(e.Execution.WorkflowId)
		fmt.Printf("%s\tstarter approve %s --as NAME --reason TEXT\n", e.Execution.WorkflowId, id)
	}
	return nil
}
