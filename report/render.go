package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
)

// Markdown renders the report as Markdown (the Slack upload, the file beside the page).
func Markdown(f Figures, s Summary) []byte {
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Weekly SOC report\n\n%s · report `%s`\n\n", f.Window.Period(), f.ReportID)
	p("## Executive summary\n\n%s\n\n_%s_\n\n", s.Text, s.Note)
	p("## Headline\n\n%s.\n\n", f.Headline())
	for _, sec := range sections(f) {
		p("## %s\n\n", sec.Title)
		if sec.Empty {
			p("%s\n\n", sec.EmptyText)
			continue
		}
		p("| %s |\n|%s\n", strings.Join(sec.Header, " | "), strings.Repeat(" --- |", len(sec.Header)))
		for _, row := range sec.Rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = strings.ReplaceAll(c, "|", `\|`)
			}
			p("| %s |\n", strings.Join(cells, " | "))
		}
		b.WriteString("\n")
	}
	if len(f.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range f.Notes {
			p("- %s\n", n)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// section is one part of the report: a table, and the chart drawn from it.
type section struct {
	ID, Title string
	Header    []string
	Rows      [][]string
	// Chart is the section's SVG chart; empty when it has none.
	Chart     template.HTML
	Empty     bool
	EmptyText string
}

func sections(f Figures) []section {
	countRows := func(cs []Count) [][]string {
		var rows [][]string
		for _, c := range cs {
			rows = append(rows, []string{c.Label, fmt.Sprint(c.N)})
		}
		return rows
	}
	distRow := func(name string, d Distribution) []string {
		if d.N == 0 {
			return []string{name, "0", "—", "—", "—"}
		}
		return []string{name, fmt.Sprint(d.N), Duration(d.P50), Duration(d.P90), Duration(d.Max)}
	}
	var out []section
	add := func(s section) {
		s.Empty = len(s.Rows) == 0
		if s.EmptyText == "" {
			s.EmptyText = "None in this period."
		}
		out = append(out, s)
	}
	add(section{ID: "verdicts", Title: "Investigations by verdict", Header: []string{"Verdict", "Investigations"}, Rows: countRows(f.ByVerdict),
		Chart: barChart("verdicts", "Investigations by verdict", f.ByVerdict)})
	add(section{ID: "priorities", Title: "Investigations by priority", Header: []string{"Priority", "Investigations"}, Rows: countRows(f.ByPriority),
		Chart: barChart("priorities", "Investigations by priority", f.ByPriority)})
	add(section{ID: "outcomes", Title: "Outcomes", Header: []string{"Outcome", "Investigations"}, Rows: countRows(f.Outcomes),
		Chart: barChart("outcomes", "Outcomes: automatic, approved, rejected, timed out, recommended only", f.Outcomes)})
	add(section{ID: "mttt", Title: "Time to triage (threat created → triage note)", Header: []string{"Measure", "n", "p50", "p90", "max"},
		Rows: [][]string{distRow("time to triage", f.MTTT)}, Chart: histogram("mttt", "Distribution of the time to triage", f.MTTT)})
	add(section{ID: "mttr", Title: "Time to respond (threat created → verified mitigation)", Header: []string{"Measure", "n", "p50", "p90", "max"},
		Rows: [][]string{distRow("time to respond", f.MTTR)}, Chart: histogram("mttr", "Distribution of the time to respond", f.MTTR)})
	var approvals [][]string
	for _, g := range f.ApprovalLatency {
		approvals = append(approvals, distRow(g.Group, g.Latency))
	}
	add(section{ID: "approvals", Title: "Approval latency by approver group (requested → decided)", Header: []string{"Group", "n", "p50", "p90", "max"}, Rows: approvals,
		EmptyText: "No approval was decided in this period."})
	var actionRows [][]string
	var actionBars []Count
	for _, a := range f.Actions {
		actionRows = append(actionRows, []string{a.Action, a.Result, fmt.Sprint(a.N)})
		actionBars = append(actionBars, Count{Label: a.Action + " · " + a.Result, N: a.N})
	}
	add(section{ID: "actions", Title: "Actions by result", Header: []string{"Action", "Result", "Count"}, Rows: actionRows,
		Chart: barChart("actions", "Actions by action and verified result", actionBars), EmptyText: "No action was carried out in this period."})
	add(section{ID: "threats", Title: "Top threats", Header: []string{"Threat", "Investigations"}, Rows: countRows(f.TopThreats)})
	add(section{ID: "hosts", Title: "Top hosts", Header: []string{"Host", "Investigations"}, Rows: countRows(f.TopHosts)})
	add(section{ID: "hashes", Title: "Top file hashes", Header: []string{"SHA1 / SHA256", "Investigations"}, Rows: countRows(f.TopHashes)})
	agreement := "—"
	if rate, ok := f.Feedback.Rate(); ok {
		agreement = fmt.Sprintf("%d%%", rate)
	}
	add(section{ID: "feedback", Title: "Analysts' agreement with the copilot", Header: []string{"Agree", "Disagree", "Not comparable", "Agreement"},
		Rows: [][]string{{fmt.Sprint(f.Feedback.Agree), fmt.Sprint(f.Feedback.Disagree), fmt.Sprint(f.Feedback.NA), agreement}}})
	triage := [][]string{{"model", fmt.Sprint(f.TriagedByModel)}, {"rules engine", fmt.Sprint(f.TriagedByRules)}}
	for _, r := range f.RulesReasons {
		triage = append(triage, []string{"rules: " + r.Label, fmt.Sprint(r.N)})
	}
	add(section{ID: "triage", Title: "Triage by the model and rules fallbacks", Header: []string{"Analyzer", "Investigations"}, Rows: triage})
	cost := "not priced (set S1C_LLM_PRICE_PROMPT and S1C_LLM_PRICE_COMPLETION)"
	if f.Cost.USD != nil {
		cost = USD(*f.Cost.USD)
	}
	add(section{ID: "cost", Title: "Model cost", Header: []string{"Calls", "Prompt tokens", "Completion tokens", "Cost"},
		Rows: [][]string{{fmt.Sprint(f.Cost.Calls), fmt.Sprint(f.Cost.PromptTokens), fmt.Sprint(f.Cost.CompletionTokens), cost}}})
	return out
}

// HTML renders the report as one self-contained page: inline CSS, charts drawn as
// inline SVG, no script and nothing fetched.
func HTML(f Figures, s Summary) ([]byte, error) {
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		F        Figures
		S        Summary
		Headline string
		Sections []section
	}{f, s, f.Headline(), sections(f)})
	if err != nil {
		return nil, fmt.Errorf("rendering the report page: %w", err)
	}
	return b.Bytes(), nil
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Weekly SOC report, {{.F.Window.Period}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#fff;margin:0 auto;max-width:980px;padding:24px;line-height:1.45}
h1{font-size:1.7rem;margin:0 0 4px}h2{font-size:1.15rem;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta{color:#57606a;margin:0 0 16px}.summary{background:#f6f8fa;border-left:4px solid #0969da;padding:12px 16px}
.note{color:#57606a;font-style:italic;font-size:.9rem}.headline{font-weight:600}
.row{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}.row svg{flex:1 1 420px;max-width:560px}
table{border-collapse:collapse;font-size:.92rem;flex:0 1 auto}th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left}
th{background:#f6f8fa}td:not(:first-child){font-variant-numeric:tabular-nums}
svg text{font-family:inherit;font-size:12px;fill:#1b1f24}ul.notes li{color:#57606a}
</style>
</head>
<body>
<main>
<h1>Weekly SOC report</h1>
<p class="meta">{{.F.Window.Period}} · report <code>{{.F.ReportID}}</code></p>
<section aria-labelledby="summary-title">
<h2 id="summary-title">Executive summary</h2>
<div class="summary"><p>{{.S.Text}}</p><p class="note">{{.S.Note}}</p></div>
<p class="headline">{{.Headline}}.</p>
</section>
{{range .Sections}}<section id="{{.ID}}" aria-labelledby="{{.ID}}-title">
<h2 id="{{.ID}}-title">{{.Title}}</h2>
{{if .Empty}}<p>{{.EmptyText}}</p>{{else}}<div class="row">{{.Chart}}
<table aria-labelledby="{{.ID}}-title"><thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody></table>
</div>{{end}}
</section>
{{end}}{{if .F.Notes}}<section aria-labelledby="notes-title"><h2 id="notes-title">Notes</h2><ul class="notes">{{range .F.Notes}}<li>{{.}}</li>{{end}}</ul></section>{{end}}
</main>
</body>
</html>
`))
