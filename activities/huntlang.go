package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/hunt"
)

// The hunting language's side (package hunt: Translation.Check, the Library of named
// hunts and its FollowUps) is written on branch huntlang. Until it is merged, this
// file adapts a minimal stand-in behind the same interfaces; after the merge it only
// adapts hunt.Library and Translation.Check (HuntCheck, NewHuntLibrary).

// HuntCheck is the validator every query passes before it runs.
func HuntCheck(t hunt.Translation, now time.Time) error {
	var problems []string
	if strings.TrimSpace(t.Query) == "" {
		problems = append(problems, "the query is empty")
	}
	if t.Language != hunt.S1QL {
		problems = append(problems, fmt.Sprintf("language %q is not supported (only %q)", t.Language, hunt.S1QL))
	}
	switch {
	case t.From.IsZero() || t.To.IsZero() || !t.From.Before(t.To):
		problems = append(problems, "the window needs a start before its end")
	case t.To.After(now.Add(5 * time.Minute)):
		problems = append(problems, "the window ends in the future")
	case t.To.Sub(t.From) > 30*24*time.Hour:
		problems = append(problems, "the window is longer than 30 days; narrow it")
	}
	if len(problems) > 0 {
		return errors.New("refused: " + strings.Join(problems, "; "))
	}
	return nil
}

// NewHuntLibrary is the library of named hunts.
func NewHuntLibrary() HuntLibrary { return standInLibrary{} }

// standInLibrary is a two-hunt stand-in for hunt.Library (see the file comment).
type standInLibrary struct{}

type namedHunt struct {
	name, query, explanation string
	keywords                 []string
}

var standInHunts = []namedHunt{
	{"suspicious-powershell", `EventType = "Process Creation" AND SrcProcName ContainsCIS "powershell" AND (SrcProcCmdLine ContainsCIS "-enc" OR SrcProcCmdLine ContainsCIS "downloadstring" OR SrcProcCmdLine ContainsCIS "-nop" OR SrcProcCmdLine ContainsCIS "bypass" OR SrcProcCmdLine ContainsCIS "iex")`,
		"PowerShell started with encoded, hidden or download-and-run arguments.", []string{"powershell"}},
	{"office-spawns-shell", `SrcProcParentName In Contains Anycase ("winword.exe","excel.exe","powerpnt.exe","outlook.exe") AND SrcProcName In Contains Anycase ("cmd.exe","powershell.exe","wscript.exe","mshta.exe")`,
		"Office applications starting shells or script hosts (macro droppers).", []string{"office", "macro", "word", "excel"}},
}

func (standInLibrary) Translate(_ context.Context, r hunt.Request) (hunt.Translation, error) {
	q := strings.ToLower(r.Question)
	for _, h := range standInHunts {
		for _, k := range h.keywords {
			if strings.Contains(q, k) {
				return hunt.Translation{
					Query: h.query, Language: hunt.S1QL, From: r.Now.Add(-24 * time.Hour), To: r.Now,
					Explanation: h.explanation, Translator: "library", NamedHunt: h.name,
					Notice: "No model translated the question: the named hunt " + h.name + " answers it.",
				}, nil
			}
		}
	}
	return hunt.Translation{}, errors.New(`no named hunt answers the question; ask about e.g. "suspicious PowerShell" or "Office macros starting shells", or configure a model (S1C_LLM_MODEL)`)
}

func (standInLibrary) FollowUps(t hunt.Translation, s HuntSummary) []string {
	var qs []string
	if len(s.TopHosts) > 0 {
		qs = append(qs, "what else ran on "+s.TopHosts[0].Value+" in the last 24 hours")
	}
	if len(s.TopDestinations) > 0 {
		qs = append(qs, "which endpoints connected to "+s.TopDestinations[0].Value)
	}
	qs = append(qs, "which Office macros started shells in the last 24 hours", "which endpoints ran suspicious PowerShell in the last 7 days")
	return qs[:min(3, len(qs))]
}
