package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/s1copilot/s1copilot/control"
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
	c, _, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := control.SetKillSwitch(ctx, c, control.KillSwitchRequest{On: on, Actor: *as, Reason: *reason})
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
	c, _, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	st, err := control.Current(ctx, c)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}
