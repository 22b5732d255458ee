package report

import (
	"fmt"
	"html/template"
	"strings"
)

// Charts are inline SVG drawn here, so the page needs no script and fetches nothing.
// Each has a <title> and a <desc> (role="img", aria-labelledby), and every bar its own
// <title>; the table beside it holds the same numbers for a screen reader.

var palette = []string{"#0969da", "#1a7f37", "#9a6700", "#cf222e", "#8250df", "#57606a", "#bf3989", "#0550ae"}

// barChart draws counts as horizontal bars; empty when every count is zero.
func barChart(id, title string, cs []Count) template.HTML {
	top := 0
	for _, c := range cs {
		top = max(top, c.N)
	}
	if top == 0 {
		return ""
	}
	const width, labelW, barW, rowH, pad = 560, 190, 310, 26, 8
	height := pad*2 + rowH*len(cs)
	var b strings.Builder
	svgOpen(&b, id, title, describe(cs), width, height)
	for i, c := range cs {
		y := pad + i*rowH
		w := float64(barW) * float64(c.N) / float64(top)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`, labelW-8, y+rowH/2, esc(c.Label))
		if c.N > 0 {
			fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%d" width="%.1f" height="%d" rx="2" fill="%s"><title>%s: %d</title></rect>`,
				labelW, y+4, max(w, 2), rowH-8, palette[i%len(palette)], esc(c.Label), c.N)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" dominant-baseline="middle">%d</text>`, float64(labelW)+max(w, 2)+6, y+rowH/2, c.N)
	}
	b.WriteString("</svg>")
	return template.HTML(b.String()) // every string in it went through esc
}

// histogram draws a distribution's buckets as vertical bars, with its p50 and p90.
func histogram(id, title string, d Distribution) template.HTML {
	if d.N == 0 {
		return ""
	}
	top := 0
	for _, c := range d.Buckets {
		top = max(top, c.N)
	}
	const width, height, left, bottom, plotH = 560, 230, 36, 40, 160
	colW := (width - left - 10) / max(len(d.Buckets), 1)
	var b strings.Builder
	desc := fmt.Sprintf("%d measured: median %s, 90th percentile %s, longest %s. %s", d.N, Duration(d.P50), Duration(d.P90), Duration(d.Max), describe(d.Buckets))
	svgOpen(&b, id, title, desc, width, height)
	base := height - bottom
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#8c959f"/>`, left, base, width-10, base)
	for i, c := range d.Buckets {
		x := left + i*colW
		h := float64(plotH) * float64(c.N) / float64(max(top, 1))
		if c.N > 0 {
			fmt.Fprintf(&b, `<rect class="bar" x="%d" y="%.1f" width="%d" height="%.1f" rx="2" fill="#0969da"><title>%s: %d</title></rect>`,
				x+6, float64(base)-h, colW-12, h, esc(c.Label), c.N)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="middle">%d</text>`, x+colW/2, float64(base)-h-5, c.N)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, x+colW/2, base+16, esc(c.Label))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">p50 %s · p90 %s · max %s · n %d</text>`, left, height-6, Duration(d.P50), Duration(d.P90), Duration(d.Max), d.N)
	b.WriteString("</svg>")
	return template.HTML(b.String()) // every string in it went through esc
}

func svgOpen(b *strings.Builder, id, title, desc string, width, height int) {
	fmt.Fprintf(b, `<svg id="chart-%s" class="chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="chart-%s-title chart-%s-desc" width="%d" height="%d" viewBox="0 0 %d %d">`,
		esc(id), esc(id), esc(id), width, height, width, height)
	fmt.Fprintf(b, `<title id="chart-%s-title">%s</title><desc id="chart-%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

// describe is a chart's text alternative: every bar and its value.
func describe(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s: %d", c.Label, c.N)
	}
	return strings.Join(parts, "; ") + "."
}

func esc(s string) string { return template.HTMLEscapeString(s) }
