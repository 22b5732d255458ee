// Command starter is s1copilot's poller and operator CLI.
//
//	starter poll                                   run the poller (starts or configures its workflow, hosts its worker)
//	starter start THREAT_ID                        investigate one threat now
//	starter approve THREAT_ID --as NAME --reason R approve the actions an investigation waits for
//	starter reject  THREAT_ID --as NAME --reason R reject them (no action is taken)
//	starter status  THREAT_ID                      print the investigation's status
//	starter pending [--priority P] [--verdict V]   list investigations waiting for approval
//	starter poller                                 print the poller's cursors and totals
//	starter kill-switch on|off --as NAME --reason R every automatic action waits for a human (or not)
//	starter control                                print the kill switch and the counted actions
//	starter export-case --threat ID [--out F]      write an analyst-judged threat as a labeled eval scenario
//	starter feedback [--all]                       list analysts' disagreements from the audit log
//	starter report [--since 7d] [--out DIR]        make the SOC report now and print where it is
//	starter slackbot                               run the Slack bot: approvals from Slack, /s1copilot
//	starter codec-server [--addr ADDR]             serve the Web UI's codec endpoint (decrypts payloads for authorised users)
//	starter hunt "QUESTION" [--as NAME] [--yes]     hunt with Deep Visibility: the question becomes a query, confirmed, queued, run and summarised
//
// Settings come from S1C_* environment variables (see the README).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/s1copilot/s1copilot/lifecycle"
)

const usage = `usage:
  starter poll
  starter start   THREAT_ID
  starter approve THREAT_ID --as NAME --reason TEXT [--only ACTIONS] [--signal] [--request-id KEY] [--key FILE]
  starter reject  THREAT_ID --as NAME --reason TEXT [--signal] [--request-id KEY] [--key FILE]
  starter keygen  --out FILE [--as NAME | --slack-bot]
  starter status  THREAT_ID
  starter pending [--priority P] [--verdict V] [--agent HOST] [--site ID] [--json]
  starter poller
  starter kill-switch on|off --as NAME --reason TEXT
  starter control
  starter export-case --threat THREAT_ID [--out FILE] [--verdict VERDICT] [--actions A,B|none]
  starter feedback [--file AUDIT_FILE] [--all]
  starter report [--since 7d] [--out DIR]
  starter slackbot
  starter codec-server [--addr HOST:PORT]
  starter hunt "QUESTION" [--as NAME] [--yes] [--since 24h]`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		var fatal *lifecycle.Fatal
		if !errors.As(err, &fatal) { // a fatal error has been logged already
			fmt.Fprintln(os.Stderr, "starter:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return flag.ErrHelp
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "poll":
		return poll(ctx)
	case "start":
		return start(ctx, rest)
	case "approve", "reject":
		return decide(ctx, cmd == "approve", rest)
	case "keygen":
		return keygen(rest, os.Stdout)
	case "status":
		return status(ctx, rest)
	case "pending":
		return pending(ctx, rest)
	case "poller":
		return showPoller(ctx)
	case "kill-switch":
		return killSwitch(ctx, rest)
	case "control":
		return showControl(ctx)
	case "export-case":
		return exportCase(ctx, rest, s1FromEnv, os.Stdout)
	case "feedback":
		return listFeedback(rest, os.Getenv, os.Stdout)
	case "report":
		return runReport(ctx, rest, os.Stdout)
	case "slackbot":
		if len(rest) > 0 {
			return fmt.Errorf("slackbot takes no arguments (its settings are S1C_SLACK_* variables)\n%s", usage)
		}
		return runSlackBot(ctx)
	case "codec-server":
		return runCodecServer(ctx, rest)
	case "hunt":
		return huntCmd(ctx, rest)
	case "-h", "--help", "help":
		return flag.ErrHelp
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}
