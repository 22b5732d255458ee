// Command reportshot renders the demo-like sample SOC report (report/reporttest) and
// screenshots it with headless Chromium, for the README: go run ./tools/reportshot
// (or make report-png) rewrites docs/report.png.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/s1copilot/s1copilot/report"
	"github.com/s1copilot/s1copilot/report/reporttest"
)

func main() {
	out := flag.String("out", "docs/report.png", "the screenshot to write")
	html := flag.String("html", "", "also keep the rendered page here")
	height := flag.Int("height", 2200, "page height in pixels")
	flag.Parse()
	if err := run(*out, *html, *height); err != nil {
		fmt.Fprintln(os.Stderr, "reportshot:", err)
		os.Exit(1)
	}
}

func run(out, keep string, height int) error {
	f, s := reporttest.Sample()
	page, err := report.HTML(f, s)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "reportshot-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		return err
	}
	if keep != "" {
		if err := os.WriteFile(keep, page, 0o644); err != nil {
			return err
		}
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("needs chromium on PATH (apt-get install chromium): %w", err)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append(report.BrowserFlags(filepath.Join(dir, "profile")),
		"--hide-scrollbars", fmt.Sprintf("--window-size=1024,%d", height), "--screenshot="+abs, "file://"+file)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chromium: %w\n%s", err, b)
	}
	fmt.Println("wrote", out)
	return nil
}
