package hunt

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/hunt/s1ql"
)

// MaxRange is the longest time range a hunt may search. Deep Visibility keeps events
// for a limited time (14 to 365 days by SKU) and a query's cost grows with its range
// (init-query is 1 call per minute per token; a long range runs long and may time
// out), so a hunt asks for at most 30 days and narrows from there.
const MaxRange = 30 * 24 * time.Hour

// MaxClockSkew is how far To may lie after now: the caller's clock and the console's
// differ a little, a query "until now" must not be refused for it.
const MaxClockSkew = 5 * time.Minute

// MaxPowerQueryLength bounds a Power Query, like s1ql.MaxLength an S1QL query.
const MaxPowerQueryLength = s1ql.MaxLength

// Check validates a translation before the workflow runs it; the error says what to
// fix. An S1QL query must parse (package s1ql's subset). A Power Query is accepted
// only with Language PowerQuery and gets a minimal sanity check (non-empty, bounded,
// balanced quotes and parentheses): s1copilot does not parse Power Query, and the
// simulator does not run it (it serves DV S1QL only).
func (t Translation) Check(now time.Time) error {
	var errs []error
	switch t.Language {
	case S1QL:
		if _, err := s1ql.Parse(t.Query); err != nil {
			if strings.Contains(t.Query, "|") {
				err = fmt.Errorf("%w (the query has a pipe: Power Query syntax? set language %q or write S1QL)", err, PowerQuery)
			}
			errs = append(errs, fmt.Errorf("query: %w", err))
		}
	case PowerQuery:
		if err := checkPowerQuery(t.Query); err != nil {
			errs = append(errs, fmt.Errorf("query: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("language: %q is not %q or %q", t.Language, S1QL, PowerQuery))
	}
	switch {
	case t.From.IsZero() || t.To.IsZero():
		errs = append(errs, errors.New("from and to: both are required (the time range to search)"))
	case !t.From.Before(t.To):
		errs = append(errs, fmt.Errorf("from %s is not before to %s: swap them or widen the range", t.From.UTC().Format(time.RFC3339), t.To.UTC().Format(time.RFC3339)))
	default:
		if t.To.After(now.Add(MaxClockSkew)) {
			errs = append(errs, fmt.Errorf("to %s is in the future (now is %s): end the range at now", t.To.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
		}
		if d := t.To.Sub(t.From); d > MaxRange {
			errs = append(errs, fmt.Errorf("the range is %s, longer than %d days (Deep Visibility retention and query cost): narrow it", d.Round(time.Hour), MaxRange/(24*time.Hour)))
		}
	}
	if strings.TrimSpace(t.Explanation) == "" {
		errs = append(errs, errors.New("explanation: required (one line saying what the query looks for)"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("hunt: translation refused: %w", errors.Join(errs...))
	}
	return nil
}

func checkPowerQuery(q string) error {
	switch {
	case strings.TrimSpace(q) == "":
		return errors.New("empty Power Query")
	case len(q) > MaxPowerQueryLength:
		return fmt.Errorf("the Power Query is %d characters long; the limit is %d", len(q), MaxPowerQueryLength)
	}
	depth, quote := 0, rune(0)
	for _, r := range q {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '(':
			depth++
		case r == ')':
			depth--
			if depth < 0 {
				return errors.New("unbalanced parentheses in the Power Query: a “)” closes nothing")
			}
		}
	}
	if quote != 0 {
		return errors.New("unterminated string in the Power Query")
	}
	if depth != 0 {
		return errors.New("unbalanced parentheses in the Power Query: a “(” is never closed")
	}
	return nil
}
