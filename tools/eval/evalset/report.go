package evalset

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/s1copilot/s1copilot/investigation"
)

// PrintOptions tune Print.
type PrintOptions struct {
	// Notes are printed under the header, e.g. "model not evaluated (no OPENAI_BASE_URL)".
	Notes []string
	// PerThreat prints one line per threat with every analyzer's answer side by
	// side (always done when more than one analyzer ran).
	PerThreat bool
}

// Print writes the report: accuracy per analyzer, precision and recall per
// verdict class, accuracy per scenario file and per OS, a confusion matrix per
// analyzer, the per-threat table, and every miss.
func Print(w io.Writer, r *Report, opts PrintOptions) error {
	p := &printer{w: w}
	p.f("s1copilot eval: %d labeled threats in %d scenario files (%s)\n", len(r.Results), len(r.Files), r.Dir)
	for _, n := range opts.Notes {
		p.f("%s\n", n)
	}
	if len(r.Analyzers) == 0 {
		return p.err
	}
	stats := make([]Stats, len(r.Analyzers))
	for i := range r.Analyzers {
		stats[i] = r.Stats(i, nil)
	}

	p.f("\nACCURACY\n")
	p.table(func(tw io.Writer) {
		row(tw, append([]string{""}, r.Analyzers...)...)
		for _, m := range []struct {
			label string
			n     func(Stats) int
		}{
			{"verdict", func(s Stats) int { return s.Verdict }},
			{"actions", func(s Stats) int { return s.Actions }},
			{"verdict+actions", func(s Stats) int { return s.Both }},
		} {
			cells := []string{m.label}
			for _, s := range stats {
				cells = append(cells, fmt.Sprintf("%3d/%d %6.1f%%", m.n(s), s.N, 100*s.Rate(m.n(s))))
			}
			row(tw, cells...)
		}
		cells := []string{"errors"}
		for _, s := range stats {
			cells = append(cells, fmt.Sprint(s.Errors))
		}
		row(tw, cells...)
	})

	p.f("\nPER CLASS (verdict; support: cases expecting the class; precision: its answers of the class that are right,\n")
	p.f("alsoAcceptable included, as in ACCURACY; recall: cases expecting the class answered with it, as in CONFUSION)\n")
	classes := make([][]ClassStats, len(r.Analyzers))
	for i := range r.Analyzers {
		classes[i] = r.Classes(i)
	}
	p.table(func(tw io.Writer) {
		head := []string{"class", "support"}
		for _, name := range r.Analyzers {
			head = append(head, name+" precision", name+" recall")
		}
		row(tw, head...)
		for k, v := range investigation.Verdicts {
			cells := []string{string(v), fmt.Sprint(classes[0][k].Support)}
			for i := range r.Analyzers {
				c := classes[i][k]
				pr, okP := c.Precision()
				rc, okR := c.Recall()
				cells = append(cells, percentOf(pr, okP, c.Correct, c.Predicted), percentOf(rc, okR, c.Recalled, c.Support))
			}
			row(tw, cells...)
		}
	})
	p.f("\nBY FILE (verdict+actions right)\n")
	p.table(func(tw io.Writer) {
		row(tw, append([]string{"file", "n"}, r.Analyzers...)...)
		for _, file := range r.Files {
			cells := []string{file, ""}
			for i := range r.Analyzers {
				s := r.Stats(i, func(res Result) bool { return res.Case.File == file })
				cells[1] = fmt.Sprint(s.N)
				cells = append(cells, fmt.Sprintf("%d/%d", s.Both, s.N))
			}
			row(tw, cells...)
		}
	})

	p.f("\nBY OS (verdict+actions right)\n")
	p.table(func(tw io.Writer) {
		row(tw, append([]string{"os", "n"}, r.Analyzers...)...)
		for _, os := range OSes {
			cells := []string{os, ""}
			for i := range r.Analyzers {
				s := r.Stats(i, func(res Result) bool { return OSOf(res) == os })
				cells[1] = fmt.Sprint(s.N)
				cells = append(cells, fmt.Sprintf("%d/%d %6.1f%%", s.Both, s.N, 100*s.Accuracy()))
			}
			if os == "other" && cells[1] == "0" {
				continue
			}
			row(tw, cells...)
		}
	})
	cols := []string{}
	for _, v := range investigation.Verdicts {
		cols = append(cols, string(v))
	}
	cols = append(cols, "error")
	for i, name := range r.Analyzers {
		p.f("\nCONFUSION %s (rows: expected verdict, columns: predicted)\n", name)
		p.table(func(tw io.Writer) {
			row(tw, append([]string{"expected \\ got"}, cols...)...)
			for _, v := range investigation.Verdicts {
				cells := []string{string(v)}
				for _, c := range cols {
					cells = append(cells, fmt.Sprint(stats[i].Confusion[v][c]))
				}
				row(tw, cells...)
			}
		})
	}

	if opts.PerThreat || len(r.Analyzers) > 1 {
		p.f("\nPER THREAT (✓ right; ✗v wrong verdict; ✗a wrong actions)\n")
		p.table(func(tw io.Writer) {
			row(tw, append([]string{"file", "threat", "name", "expected"}, r.Analyzers...)...)
			for _, res := range r.Results {
				cells := []string{res.Case.File, res.Case.ThreatID, trunc(res.Case.ThreatName, 28), trunc(res.Case.Expect.String(), 60)}
				for _, o := range res.Outcomes {
					cells = append(cells, cell(o))
				}
				row(tw, cells...)
			}
		})
	}

	for i, name := range r.Analyzers {
		var misses []Result
		for _, res := range r.Results {
			if !res.Outcomes[i].OK() {
				misses = append(misses, res)
			}
		}
		p.f("\nMISSES %s: %d of %d\n", name, len(misses), len(r.Results))
		for _, res := range misses {
			o := res.Outcomes[i]
			p.f("- %s %s %q\n", res.Case.File, res.Case.ThreatID, res.Case.ThreatName)
			p.f("    expected  %s\n", res.Case.Expect)
			if o.Err != nil {
				p.f("    error     %s\n", trunc(o.Err.Error(), 300))
			} else {
				p.f("    got       %s, actions %s%s\n", o.Analysis.Verdict, actionList(o.Analysis.RecommendedActions), scoreNote(o.Score))
				if len(o.Analysis.Rules) > 0 {
					p.f("    rules     %s\n", strings.Join(o.Analysis.Rules, ", "))
				}
				p.f("    summary   %s\n", trunc(oneLine(o.Analysis.Summary), 400))
			}
			p.f("    why       %s\n", res.Case.Expect.Why)
		}
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) table(fill func(io.Writer)) {
	if p.err != nil {
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fill(tw)
	p.err = tw.Flush()
}

func row(w io.Writer, cells ...string) {
	_, _ = fmt.Fprintln(w, "  "+strings.Join(cells, "\t")+"\t")
}

func cell(o Outcome) string {
	if o.Err != nil {
		return "ERROR"
	}
	mark := "✓"
	if !o.Score.OK() {
		mark = "✗"
		if !o.Score.VerdictOK {
			mark += "v"
		}
		if !o.Score.ActionsOK {
			mark += "a"
		}
	}
	return fmt.Sprintf("%s %s %s", mark, o.Analysis.Verdict, actionList(o.Analysis.RecommendedActions))
}

func scoreNote(s Score) string {
	var parts []string
	if !s.VerdictOK {
		parts = append(parts, "wrong verdict")
	}
	if len(s.Missing) > 0 {
		parts = append(parts, "missing "+actionList(s.Missing))
	}
	if len(s.Unwanted) > 0 {
		parts = append(parts, "forbidden "+actionList(s.Unwanted))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// percentOf renders a rate with its counts, e.g. "83.3% 30/36"; "-" when undefined.
func percentOf(rate float64, ok bool, n, d int) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%5.1f%% %d/%d", 100*rate, n, d)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func trunc(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
