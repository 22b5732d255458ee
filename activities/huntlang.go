package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/s1copilot/s1copilot/hunt"
)

// HuntCheck is the validator every query passes before it runs (Translation.Check).
func HuntCheck(t hunt.Translation, now time.Time) error { return t.Check(now) }

// NewHuntLibrary adapts the library of named hunts (hunt.Library) to HuntLibrary.
func NewHuntLibrary() HuntLibrary { return library{hunt.NewLibrary()} }

type library struct{ l *hunt.Library }

func (l library) Translate(ctx context.Context, r hunt.Request) (hunt.Translation, error) {
	return l.l.Translate(ctx, r)
}

// FollowUps turns the library's follow-up hunts into questions the library answers
// with the same hunt again: its title and the time range.
func (l library) FollowUps(t hunt.Translation, _ HuntSummary) []string {
	var qs []string
	for _, f := range l.l.FollowUps(t) {
		h, ok := l.l.Hunt(f.NamedHunt)
		if !ok {
			continue
		}
		qs = append(qs, fmt.Sprintf("%s in the last %s", h.Title, lastRange(f.To.Sub(f.From))))
	}
	return qs
}

// lastRange says a range in the words the library reads ("24 hours", "7 days").
func lastRange(d time.Duration) string {
	h := int(d.Round(time.Hour) / time.Hour)
	if h%24 != 0 || h < 48 {
		return fmt.Sprintf("%d hours", max(h, 1))
	}
	return fmt.Sprintf("%d days", h/24)
}
