package evalset

import (
	"slices"

	"github.com/s1copilot/s1copilot/investigation"
)

// ClassStats are one analyzer's figures for one verdict class.
//
// Precision asks "when the analyzer answers this class, is it right?": an
// answer is right when the class is the case's expected verdict or one of its
// alsoAcceptable verdicts, as the accuracy counts it. Recall asks "of the
// cases that are this class, how many did it answer with this class?": the
// expected verdict itself, as the confusion matrix's diagonal counts it.
type ClassStats struct {
	Verdict investigation.Verdict
	// Support counts the cases whose expected verdict is Verdict.
	Support int
	// Recalled counts, of those, the cases the analyzer answered with Verdict.
	Recalled int
	// Predicted counts the cases the analyzer answered with Verdict (errors
	// answer nothing).
	Predicted int
	// Correct counts, of those, the cases for which Verdict is right.
	Correct int
}

// Precision is Correct/Predicted; ok is false when the analyzer never
// answered the class.
func (c ClassStats) Precision() (p float64, ok bool) { return ratio(c.Correct, c.Predicted) }

// Recall is Recalled/Support; ok is false when no case expects the class.
func (c ClassStats) Recall() (r float64, ok bool) { return ratio(c.Recalled, c.Support) }

func ratio(n, d int) (float64, bool) {
	if d == 0 {
		return 0, false
	}
	return float64(n) / float64(d), true
}

// Classes computes analyzer i's figures per verdict class, in the order of
// investigation.Verdicts. Summed over the classes, Correct is the verdict count
// of Stats and Recalled the confusion matrix's diagonal.
func (r *Report) Classes(i int) []ClassStats {
	out := make([]ClassStats, len(investigation.Verdicts))
	index := map[investigation.Verdict]int{}
	for k, v := range investigation.Verdicts {
		out[k].Verdict = v
		index[v] = k
	}
	for _, res := range r.Results {
		o := res.Outcomes[i]
		if k, ok := index[res.Case.Expect.Verdict]; ok {
			out[k].Support++
			if o.Err == nil && o.Analysis.Verdict == res.Case.Expect.Verdict {
				out[k].Recalled++
			}
		}
		if o.Err != nil {
			continue
		}
		if k, ok := index[o.Analysis.Verdict]; ok {
			out[k].Predicted++
			if slices.Contains(res.Case.Expect.Verdicts(), o.Analysis.Verdict) {
				out[k].Correct++
			}
		}
	}
	return out
}

// OSes are the rows of the per-OS table, in order; windows_legacy counts as
// windows, anything else (or nothing) as other.
var OSes = []string{"windows", "linux", "macos", "other"}

// OSOf is the OS row a result belongs to, from the agent's osType in its evidence.
func OSOf(res Result) string {
	switch os := res.Evidence.Facts.OSType; os {
	case "windows", "windows_legacy":
		return "windows"
	case "linux", "macos":
		return os
	default:
		return "other"
	}
}
