package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/s1copilot/s1copilot/control"
	"github.com/s1copilot/s1copilot/ingest"
)

// killSwitch turns the fleet-wide kill switch on or off: every automatic action of every
// investigation, running ones included, then waits for a human.
func killSwitch(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "on" && args[0] != "off") {
		return fmt.Errorf("usage: starter kill-switch on|off --as NAME --reason TEXT")
	}
	on := args[0] == "on"
	fs := flag.NewFlagSet("kill-switch", flag.ContinueOnError)
	as := fs.String("as", "", "your identity (required)")
	reason := fs.String("reason", "", "why (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*as) == "" || strings.TrimSpace(*reason) == "" {
		return fmt.Errorf("kill-switch needs --as NAME and --reason TEXT")
	}
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	st, err := o.control.SetKillSwitch(ctx, control.KillSwitchRequest{On: on, Actor: *as, Reason: *reason})
	if err != nil {
		return err
	}
	state := "OFF: automatic actions run as the policy allows"
	if st.KillSwitch {
		state = "ON: every automatic action now waits for a human"
	}
	fmt.Printf("kill switch %s (set by %s: %s)\n", state, st.KillSwitchBy, st.KillSwitchReason)
	return nil
}

// showControl prints the control state: kill switch and the actions counted for caps.
func showControl(ctx context.Context) error {
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	st, err := o.control.Current(ctx)
	if err != nil {
		return err
	}
	return printJSON(os.Stdout, st)
}

// showPoller prints the poller's settings, cursors and totals.
func showPoller(ctx context.Context) error {
	o, err := dial()
	if err != nil {
		return err
	}
	defer o.Close()
	st, err := ingest.Status(ctx, o.c, o.temporal)
	if err != nil {
		return err
	}
	return printJSON(os.Stdout, st)
}
