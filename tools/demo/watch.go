package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/s1copilot/s1copilot/tools/devstack"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/workflows"
)

// expectation is the "expect" block of a scenario threat: the end state the demo checks.
type expectation struct {
	Verdict       string `json:"verdict"`
	Outcome       string `json:"outcome"`
	NeedsApproval bool   `json:"needsApproval"`
}

type seededThreat struct {
	ID, Name, Agent string
	Expect          *expectation
}

// loadScenario reads the ids, names and expectations of the scenario's threats. It
// reads the file itself: the product never depends on the simulator's code.
func loadScenario(name string) ([]seededThreat, error) {
	raw, err := scenarios.FS.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("scenario %q: %w", name, err)
	}
	var sc struct {
		Agents []struct {
			ID           string `json:"id"`
			ComputerName string `json:"computerName"`
		} `json:"agents"`
		Threats []struct {
			ID         string       `json:"id"`
			AgentID    string       `json:"agentId"`
			ThreatName string       `json:"threatName"`
			Expect     *expectation `json:"expect"`
		} `json:"threats"`
	}
	if err := json.Unmarshal(raw, &sc); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", name, err)
	}
	agents := map[string]string{}
	for _, a := range sc.Agents {
		agents[a.ID] = a.ComputerName
	}
	var out []seededThreat
	for _, t := range sc.Threats {
		out = append(out, seededThreat{ID: t.ID, Name: t.ThreatName, Agent: agents[t.AgentID], Expect: t.Expect})
	}
	return out, nil
}

type watcher struct {
	out    io.Writer // standard output, watched for a broken pipe
	c      client.Client
	sc     []seededThreat
	bin    string
	env    []string
	check  bool
	simURL string
	procs  *devstack.Supervisor
	slack  *demoSlack
	soar   *demoSOAR
	// raw reads histories as stored (no key); enc is the demo's encryption.
	raw    client.Client
	enc    *demoCodec
	uiPort int
	// slackThreat is the threat approved from Slack.
	slackThreat string

	start    time.Time
	last     map[string]string
	approved map[string]bool
}

type threatState struct {
	stage, outcome, verdict string
	running, exists         bool
}

func (w *watcher) state(ctx context.Context, id string) (threatState, error) {
	d, err := w.c.DescribeWorkflow(ctx, workflows.WorkflowID(id), "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return threatState{}, nil
	}
	if err != nil {
		return threatState{}, err
	}
	sa := d.TypedSearchAttributes
	st := threatState{exists: true, running: d.Status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING}
	st.stage, _ = sa.GetKeyword(workflows.StageKey)
	st.outcome, _ = sa.GetKeyword(workflows.OutcomeKey)
	st.verdict, _ = sa.GetKeyword(workflows.VerdictKey)
	return st, nil
}

// poll describes every threat's investigation once, prints what changed, and reports
// whether all of them have finished.
func (w *watcher) poll(ctx context.Context) (bool, error) {
	all := true
	for _, t := range w.sc {
		st, err := w.state(ctx, t.ID)
		if err != nil {
			return false, err
		}
		if !st.exists || st.running {
			all = false
		}
		line := "waiting for the poller"
		switch {
		case st.exists && !st.running && st.outcome != "":
			line = fmt.Sprintf("done: verdict %s, outcome %s%s", st.verdict, st.outcome, w.actionSummary(ctx, t.ID))
			if wl := workloadLine(ctx, w.simURL, t.ID); wl != "" {
				line += "\n          note: " + wl
			}
		case st.exists && !st.running:
			line = "ended without an outcome (see the Web UI)"
		case st.exists:
			line = "stage " + st.stage
			if st.verdict != "" {
				line += ", verdict " + st.verdict
			}
		}
		if w.last[t.ID] != line {
			w.last[t.ID] = line
			fmt.Fprintf(w.out, "[%5.1fs] %-24s on %-13s %s\n", time.Since(w.start).Seconds(), t.Name, t.Agent, line)
			if st.stage == string(workflows.StageAwaitingApproval) && st.running && !w.check && t.Agent != slackApprovedAgent {
				sig, _ := workflows.ApproveCommands(t.ID)
				fmt.Fprintf(w.out, "          approve it:  S1C_CODEC_KEYS_FILE=%s %s approve %s --as YOUR-NAME --reason \"WHY\"   (or reject)\n          or with the CLI: %s\n",
					w.enc.keysFile, filepath.Join(w.bin, "starter"), t.ID, sig)
			}
		}
		waiting := st.running && st.stage == string(workflows.StageAwaitingApproval) && !w.approved[t.ID]
		if waiting && t.Agent == slackApprovedAgent {
			clicked, err := w.slack.click(ctx, t.ID)
			if err != nil {
				return false, err
			}
			if clicked {
				w.approved[t.ID], w.slackThreat = true, t.ID
			}
			continue
		}
		if w.check && waiting {
			if err := w.approve(ctx, t); err != nil {
				return false, err
			}
		}
	}
	return all, nil
}

// actionSummary lists what was done, e.g. " (kill success, isolate not_taken)".
func (w *watcher) actionSummary(ctx context.Context, id string) string {
	var res workflows.Result
	if err := w.c.GetWorkflow(ctx, workflows.WorkflowID(id), "").Get(ctx, &res); err != nil || len(res.Actions) == 0 {
		return ""
	}
	var parts []string
	var pkg string
	for _, a := range res.Actions {
		parts = append(parts, fmt.Sprintf("%s %s", a.Action, a.State))
		if f := a.Forensics; f != nil && f.DownloadURL != "" {
			pkg = fmt.Sprintf("\n          forensic package: %s (task %s)", f.FileName, f.TaskID)
		}
	}
	return " (" + strings.Join(parts, ", ") + ")" + pkg
}

// approve uses the operator CLI, so the demo exercises the path a human takes.
func (w *watcher) approve(ctx context.Context, t seededThreat) error {
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, "starter"), "approve", t.ID, "--as", "demo-check", "--reason", "expected by the demo scenario")
	cmd.Env = append(os.Environ(), w.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("approving %s: %v: %s", t.ID, err, out)
	}
	w.approved[t.ID] = true
	fmt.Fprintf(w.out, "          %s", out)
	return nil
}

func (w *watcher) init() {
	w.start, w.last, w.approved = time.Now(), map[string]string{}, map[string]bool{}
}

// follow prints progress until interrupted.
func (w *watcher) follow(ctx context.Context) error {
	w.init()
	announced := false
	for {
		done, err := w.poll(ctx)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "demo: watching:", err)
		}
		if done && !announced {
			announced = true
			w.hunt(ctx)
			for _, p := range w.report(ctx) {
				fmt.Fprintln(os.Stderr, "demo: SOC report:", p)
			}
			fmt.Fprintln(w.out, "\nEvery investigation has finished. The Web UI stays up until you press Ctrl-C.")
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(w.out, "\nStopping…")
			return nil
		case <-time.After(time.Second):
		}
	}
}

// runCheck approves what waits and verifies every expected end state.
func (w *watcher) runCheck(ctx context.Context) error {
	w.init()
	for {
		done, err := w.poll(ctx)
		if err != nil {
			return err
		}
		if done {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not every investigation finished in time: %v", w.last)
		case <-time.After(time.Second):
		}
	}
	var problems []string
	fmt.Fprintf(w.out, "\n%-20s %-24s %-15s %-20s %s\n", "THREAT", "NAME", "VERDICT", "OUTCOME", "APPROVED")
	for _, t := range w.sc {
		var res workflows.Result
		if err := w.c.GetWorkflow(ctx, workflows.WorkflowID(t.ID), "").Get(ctx, &res); err != nil {
			problems = append(problems, fmt.Sprintf("%s: investigation failed: %v", t.ID, err))
			continue
		}
		fmt.Fprintf(w.out, "%-20s %-24s %-15s %-20s %v\n", t.ID, t.Name, res.Verdict, res.Outcome, w.approved[t.ID])
		if e := t.Expect; e != nil {
			if e.Verdict != "" && string(res.Verdict) != e.Verdict {
				problems = append(problems, fmt.Sprintf("%s: verdict %s, expected %s", t.ID, res.Verdict, e.Verdict))
			}
			if e.Outcome != "" && string(res.Outcome) != e.Outcome {
				problems = append(problems, fmt.Sprintf("%s: outcome %s, expected %s", t.ID, res.Outcome, e.Outcome))
			}
			if w.approved[t.ID] != e.NeedsApproval {
				problems = append(problems, fmt.Sprintf("%s: needed approval %v, expected %v", t.ID, w.approved[t.ID], e.NeedsApproval))
			}
		}
	}
	problems = append(problems, w.checkCounters(ctx)...)
	problems = append(problems, w.hunt(ctx)...)
	problems = append(problems, w.slack.check(w.slackThreat)...)
	problems = append(problems, w.soar.check(ctx, w.simURL, w.sc)...)
	problems = append(problems, w.checkWorkloads(ctx)...)
	problems = append(problems, w.enc.check(ctx, w.raw, w.sc)...)
	if len(w.sc) > 0 {
		// The shortest history (a recommendation) renders quickest.
		t := w.sc[0]
		for _, s := range w.sc {
			if s.Expect != nil && s.Expect.Outcome == "recommended" {
				t = s
				break
			}
		}
		problems = append(problems, w.enc.checkWebUI(ctx, w.out, w.c, w.uiPort, t)...)
	}
	problems = append(problems, w.report(ctx)...)
	if len(problems) > 0 {
		return fmt.Errorf("demo check failed:\n  - %s", strings.Join(problems, "\n  - "))
	}
	fmt.Fprintln(w.out, "\ndemo check passed: every threat reached its expected end state; no mitigation, isolation, forensic collection or note was done twice; every case reached the SOAR once per stage and its ticket is on the threat; the Slack approval was authenticated and its message shows the outcome; histories hold no host name in clear text and the codec server decodes them for the Web UI.")
	return nil
}

// checkCounters reads the simulator's counters: each action at most once per threat,
// exactly two notes (triage, outcome) per investigated threat.
func (w *watcher) checkCounters(ctx context.Context) []string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.simURL+"/sim/counters", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return []string{"reading simulator counters: " + err.Error()}
	}
	defer resp.Body.Close()
	var c struct {
		Mitigations      map[string]map[string]int `json:"mitigations"`
		ScriptExecutions map[string]map[string]int `json:"scriptExecutions"`
		Notes            map[string]int            `json:"notes"`
		AgentActions     map[string]map[string]int `json:"agentActions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return []string{"decoding simulator counters: " + err.Error()}
	}
	var problems []string
	for threat, byAction := range c.Mitigations {
		for action, n := range byAction {
			if n > 1 {
				problems = append(problems, fmt.Sprintf("%s: %s requested %d times", threat, action, n))
			}
		}
	}
	for agent, byAction := range c.AgentActions {
		if n := byAction["disconnect"]; n > 1 {
			problems = append(problems, fmt.Sprintf("agent %s: disconnected %d times", agent, n))
		}
	}
	for agent, byScript := range c.ScriptExecutions {
		for script, n := range byScript {
			if n > 1 {
				problems = append(problems, fmt.Sprintf("agent %s: forensic script %s ran %d times", agent, script, n))
			}
		}
	}
	for _, t := range w.sc {
		if n := c.Notes[t.ID]; n != 2 {
			problems = append(problems, fmt.Sprintf("%s: %d notes, expected 2 (triage and outcome)", t.ID, n))
		}
	}
	return problems
}
