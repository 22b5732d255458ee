package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// demoHuntQuestion is the demo's hunt: no model, so the library's named hunt answers.
const demoHuntQuestion = "show me endpoints with suspicious PowerShell in the last 24 hours"

var huntEventsRE = regexp.MustCompile(`(?m)^(\d+) events on (\d+) hosts`)

// hunt runs one hunt after the investigations, as an analyst would (`starter hunt
// --yes`), and prints its query, summary and result files. It returns the problems
// -check reports: the hunt must finish with at least one event.
func (w *watcher) hunt(ctx context.Context) []string {
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
