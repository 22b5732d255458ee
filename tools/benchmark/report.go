package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of ds by the nearest-rank method:
// the smallest value with at least p % of the values at or below it. ok is false for no
// values or a p out of range.
func percentile(ds []time.Duration, p float64) (time.Duration, bool) {
	if len(ds) == 0 || p <= 0 || p > 100 || math.IsNaN(p) {
		return 0, false
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1], true
}

// latencyRow summarises one latency series as "p50 / p95 / p99 (n)".
func latencyRow(ds []time.Duration) string {
	if len(ds) == 0 {
		return "n/a (no samples)"
	}
	var parts []string
	for _, p := range []float64{50, 95, 99} {
		v, _ := percentile(ds, p)
		parts = append(parts, fmtDuration(v))
	}
	return fmt.Sprintf("%s (n=%d)", strings.Join(parts, " / "), len(ds))
}

// fmtDuration rounds to a precision that reads well in a table.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// throughput is completed investigations per second over the window from the first
// start to the last close; ok is false when the window is empty.
func throughput(n int, first, last time.Time) (float64, bool) {
	w := last.Sub(first)
	if n <= 0 || w <= 0 {
		return 0, false
	}
	return float64(n) / w.Seconds(), true
}

// ratio is got/floor, ok false when the floor is not positive.
func ratio(got, floor float64) (float64, bool) {
	if floor <= 0 || math.IsNaN(floor) || math.IsNaN(got) {
		return 0, false
	}
	return got / floor, true
}

// target is one of the targets and where the run stands against it.
type target struct {
	Name  string
	Value string
	Met   *bool // nil: not measured in this run
}

func (t target) status() string {
	switch {
	case t.Met == nil:
		return "not measured"
	case *t.Met:
		return "met"
	default:
		return "MISSED"
	}
}

func boolp(b bool) *bool { return &b }

// table renders rows as a Markdown table; every row must have len(header) cells.
func table(header []string, rows [][]string) (string, error) {
	var b strings.Builder
	line := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(esc, " | ") + " |\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for i, r := range rows {
		if len(r) != len(header) {
			return "", fmt.Errorf("table row %d has %d cells, the header %d", i, len(r), len(header))
		}
		line(r)
	}
	return b.String(), nil
}

// sectionHeading is the heading of the part of BENCHMARKS.md this program owns; the chaos
// and soak harnesses own their own sections.
const sectionHeading = "## Benchmark"

// insertInSection returns doc with entry appended at the end of the section titled
// heading (before the next heading of the same or a higher level), creating the section
// at the end of doc when it is missing and a title when doc is empty.
func insertInSection(doc, heading, entry string) string {
	entry = strings.TrimRight(entry, "\n") + "\n"
	if strings.TrimSpace(doc) == "" {
		return "# Benchmarks\n\n" + heading + "\n\n" + entry
	}
	lines := strings.SplitAfter(doc, "\n")
	level := strings.IndexFunc(heading, func(r rune) bool { return r != '#' })
	start := -1
	inFence := false
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(t, "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if start < 0 {
			if t == heading {
				start = i
			}
			continue
		}
		if h := headingLevel(t); h > 0 && h <= level {
			before := strings.TrimRight(strings.Join(lines[:i], ""), "\n")
			return before + "\n\n" + entry + "\n" + strings.Join(lines[i:], "")
		}
	}
	doc = strings.TrimRight(doc, "\n")
	if start < 0 {
		return doc + "\n\n" + heading + "\n\n" + entry
	}
	return doc + "\n\n" + entry
}

// headingLevel is the level of a Markdown ATX heading line, 0 if it is not one.
func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n == len(line) || line[n] != ' ' {
		return 0
	}
	return n
}
