package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/s1copilot/s1copilot/audit"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
)

// s1FromEnv is the SentinelOne client of the CLI (S1C_S1_URL, S1C_S1_TOKEN).
func s1FromEnv() (*s1client.Client, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	c, err := s1client.New(cfg.S1URL, cfg.S1Token.Reveal())
	if err != nil {
		return nil, fmt.Errorf("SentinelOne client: %w", err)
	}
	return c, nil
}

// exportCase writes a threat the analyst judged as a labeled eval scenario.
func exportCase(ctx context.Context, args []string, s1 func() (*s1client.Client, error), stdout io.Writer) error {
	fs := flag.NewFlagSet("export-case", flag.ContinueOnError)
	threat := fs.String("threat", "", "SentinelOne threat ID (required)")
	out := fs.String("out", "", "file to write (e.g. tools/eval/scenarios/case-<id>.json; must not exist); empty = standard output")
	verdict := fs.String("verdict", "", "label verdict (true_positive | suspicious | false_positive | undetermined); empty = the analyst's verdict in the console")
	actions := fs.String("actions", "", "comma-separated actions the case requires (kill,quarantine,remediate,rollback,isolate), or none; empty = derived from the verdict")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("export-case: unexpected arguments %v (use --threat ID)", fs.Args())
	}
	if *threat == "" {
		return errors.New("export-case needs --threat THREAT_ID")
	}
	o := feedback.ExportOptions{Verdict: investigation.Verdict(*verdict)}
	if *actions != "" {
		o.Actions = strings.Split(*actions, ",")
	}
	c, err := s1()
	if err != nil {
		return err
	}
	sc, err := feedback.ExportCase(ctx, c, *threat, o)
	if err != nil {
		return err
	}
	data, err := feedback.MarshalCase(sc)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(data)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("export-case: %w (choose another --out; existing cases are never overwritten)", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("export-case: writing %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export-case: writing %s: %w", *out, err)
	}
	fmt.Fprintf(stdout, "wrote %s; run it with: go run ./tools/eval -scenarios %s\n", *out, dirOf(*out))
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return "."
}

// listFeedback prints the analyst feedback records of the audit log: the disagreements
// (or, with --all, every record), once each, with the command that exports the case.
func listFeedback(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("feedback", flag.ContinueOnError)
	file := fs.String("file", getenv("S1C_AUDIT_FILE"), "audit log (JSON lines); default S1C_AUDIT_FILE")
	all := fs.Bool("all", false, "list agreements and n_a records too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("feedback needs the audit log: set S1C_AUDIT_FILE or pass --file")
	}
	f, err := os.Open(*file)
	if err != nil {
		return fmt.Errorf("feedback: %w", err)
	}
	defer f.Close()
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTHREAT\tSOURCE\tAGREEMENT\tCOPILOT\tANALYST\tBY\tEXPORT")
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("feedback: %s line %d is not an audit record: %w", *file, line, err)
		}
		if r.Kind != audit.KindAnalystFeedback || seen[r.ID] || (!*all && r.Decision != string(feedback.Disagree)) {
			continue
		}
		seen[r.ID] = true
		analyst := strings.Trim(r.AnalystVerdict+" "+r.IncidentStatus, " ")
		export := fmt.Sprintf("starter export-case --threat %s", r.ThreatID)
		if r.Channel == feedback.SourceApproval {
			analyst, export = "rejected "+r.Action, export+" --verdict VERDICT"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (%s)\t%s\t%s\t%s\n", r.Time.UTC().Format("2006-01-02 15:04:05"), r.ThreatID, r.Channel,
			r.Decision, orDash(r.Verdict), orDash(r.Analyzer), orDash(analyst), r.Actor, export)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("feedback: reading %s: %w", *file, err)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
