package report_test

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/report"
	"github.com/s1copilot/s1copilot/report/reporttest"
)

// chromiumOrSkip finds headless Chromium; without it the test is skipped, unless
// S1C_REQUIRE_BROWSER=1 (CI), which makes its absence a failure.
func chromiumOrSkip(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("S1C_REQUIRE_BROWSER") == "1" {
			t.Fatal("S1C_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
		}
		t.Skip("no chromium on PATH; set S1C_REQUIRE_BROWSER=1 to fail instead")
	}
	return p
}

// browse loads file in headless Chromium with extra flags and returns its stdout and
// its log (console messages are logged as INFO:CONSOLE lines with --enable-logging).
func browse(t *testing.T, chromium, file string, extra ...string) (stdout []byte, log string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(report.BrowserFlags(t.TempDir()), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000")
	args = append(append(args, extra...), "file://"+file)
	cmd := exec.CommandContext(ctx, chromium, args...)
	logFile, err := os.CreateTemp(t.TempDir(), "chromium-*.log")
	require.NoError(t, err)
	cmd.Stderr = logFile
	out, err := cmd.Output()
	raw, _ := os.ReadFile(logFile.Name())
	require.NoError(t, err, "chromium: %s", raw)
	return out, string(raw)
}

var consoleRE = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

func TestTheReportPageRendersEveryChartInChromiumWithoutConsoleErrors(t *testing.T) {
	chromium := chromiumOrSkip(t)
	dir := t.TempDir()

	// The console watch works: a page that logs an error is caught.
	bad := filepath.Join(dir, "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<html><body><script>console.error("s1c-probe")</script></body></html>`), 0o644))
	_, log := browse(t, chromium, bad, "--dump-dom")
	require.Contains(t, consoleRE.FindString(log), "s1c-probe", "chromium's log no longer shows console messages: this test would miss errors")

	f, s := reporttest.Sample()
	page, err := report.HTML(f, s)
	require.NoError(t, err)
	file := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(file, page, 0o644))

	dom, log := browse(t, chromium, file, "--dump-dom")
	assert.Empty(t, consoleRE.FindAllString(log, -1), "console messages on the report page")
	for _, id := range []string{"verdicts", "priorities", "outcomes", "actions", "mttt", "mttr"} {
		svg := regexp.MustCompile(`(?s)<svg id="chart-` + id + `"[^>]*>.*?</svg>`).Find(dom)
		require.NotEmpty(t, svg, "chart %s is not in the browser's DOM", id)
		assert.Regexp(t, `<title id="chart-`+id+`-title">[^<]+</title>`, string(svg))
		drawn := 0
		for _, m := range regexp.MustCompile(`<rect class="bar"[^>]*width="([\d.]+)" height="([\d.]+)"`).FindAllSubmatch(svg, -1) {
			w, _ := strconv.ParseFloat(string(m[1]), 64)
			h, _ := strconv.ParseFloat(string(m[2]), 64)
			if w > 0 && h > 0 {
				drawn++
			}
		}
		assert.Positive(t, drawn, "chart %s has no bar of non-zero size", id)
	}

	// And on screen: the screenshot holds the charts' blue bars.
	shot := filepath.Join(dir, "report.png")
	_, log = browse(t, chromium, file, "--hide-scrollbars", "--window-size=1024,2400", "--screenshot="+shot)
	assert.Empty(t, consoleRE.FindAllString(log, -1))
	raw, err := os.Open(shot)
	require.NoError(t, err)
	defer raw.Close()
	img, err := png.Decode(raw)
	require.NoError(t, err)
	blue := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if slices.Equal([]uint32{r >> 8, g >> 8, bl >> 8}, []uint32{0x09, 0x69, 0xda}) {
				blue++
			}
		}
	}
	assert.Greater(t, blue, 2000, "the bars are not painted")
}
