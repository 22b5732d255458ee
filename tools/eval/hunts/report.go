package hunts

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Print writes the hunting section of the eval: one row per question and translator
// (what it ran, expected and found events, precision, recall, exact), then totals.
func Print(w io.Writer, rep *Report, notes []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nHUNTING (%d questions; answers run through the simulator's Deep Visibility, compared as event-ID sets)\n", len(rep.Questions))
	for _, n := range notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  question\ttranslator\tran\twant\tgot\tprecision\trecall\texact")
	for qi, q := range rep.Questions {
		for ti, name := range rep.Translators {
			r := rep.Results[qi][ti]
			exact := "no"
			if r.Exact {
				exact = "yes"
			}
			ran := r.Translation.NamedHunt
			if ran == "" {
				ran = clip(r.Translation.Query, 60)
			}
			got := fmt.Sprint(r.Got)
			if r.Err != nil {
				ran, got, exact = "error: "+clip(r.Err.Error(), 70), "-", "no"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%.2f\t%.2f\t%s\n", q.ID, name, ran, rep.Expected[qi], got, r.Precision, r.Recall, exact)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n  QUESTIONS\n")
	for _, q := range rep.Questions {
		fmt.Fprintf(&b, "  %-18s %s\n", q.ID, q.Question)
	}
	b.WriteString("\n  HUNTING TOTALS\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  translator\tmean precision\tmean recall\texact\tfailed")
	for ti, name := range rep.Translators {
		t := rep.Totals(ti)
		fmt.Fprintf(tw, "  %s\t%.2f\t%.2f\t%d/%d\t%d\n", name, t.Precision, t.Recall, t.Exact, t.N, t.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
