package feedback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/investigation"
)

// Expect is the label of one scenario threat (its "expect" field):
//
//	"expect": {
//	  "verdict": "true_positive",
//	  "alsoAcceptable": ["suspicious"],
//	  "actions": {"required": ["kill", "isolate"], "forbidden": ["quarantine"]},
//	  "why": "one line: why this is the right triage"
//	}
//
// actions.none: true means no action at all may be recommended (for detections a
// human must look at before anything is touched).
type Expect struct {
	// Verdict is the right verdict; it is the row of the confusion matrix.
	Verdict investigation.Verdict `json:"verdict"`
	// AlsoAcceptable lists other verdicts scored as correct.
	AlsoAcceptable []investigation.Verdict `json:"alsoAcceptable,omitempty"`
	Actions        *ActionExpect           `json:"actions"`
	Why            string                  `json:"why"`
}

// ActionExpect says which recommended actions are acceptable.
type ActionExpect struct {
	// Required must all be recommended.
	Required []investigation.Action `json:"required,omitempty"`
	// Forbidden must none be recommended.
	Forbidden []investigation.Action `json:"forbidden,omitempty"`
	// None: no action may be recommended at all.
	None bool `json:"none,omitempty"`
}

// ParseExpect decodes and validates an expect block. Unknown fields are
// rejected, so a typo cannot silently drop a constraint.
func ParseExpect(raw json.RawMessage) (Expect, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return Expect{}, errors.New("expect: missing")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e Expect
	if err := dec.Decode(&e); err != nil {
		return Expect{}, fmt.Errorf("expect: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Expect{}, errors.New("expect: trailing data")
	}
	if err := e.Validate(); err != nil {
		return Expect{}, err
	}
	return e, nil
}

// Validate lists every problem of the label at once.
func (e Expect) Validate() error {
	var p []string
	if !e.Verdict.Valid() {
		p = append(p, fmt.Sprintf("verdict %q is not one of %v", e.Verdict, investigation.Verdicts))
	}
	seen := map[investigation.Verdict]bool{e.Verdict: true}
	for _, v := range e.AlsoAcceptable {
		switch {
		case !v.Valid():
			p = append(p, fmt.Sprintf("alsoAcceptable %q is not one of %v", v, investigation.Verdicts))
		case seen[v]:
			p = append(p, fmt.Sprintf("alsoAcceptable %q is repeated (or is the verdict)", v))
		}
		seen[v] = true
	}
	if strings.TrimSpace(e.Why) == "" {
		p = append(p, "why is empty")
	}
	a := e.Actions
	switch {
	case a == nil:
		p = append(p, `actions is missing (say "none": true, or list required/forbidden actions)`)
	case !a.None && len(a.Required) == 0 && len(a.Forbidden) == 0:
		p = append(p, "actions states no constraint")
	case a.None && (len(a.Required) > 0 || len(a.Forbidden) > 0):
		p = append(p, "actions.none excludes required and forbidden")
	}
	if a != nil {
		for _, act := range append(slices.Clone(a.Required), a.Forbidden...) {
			if !act.Valid() {
				p = append(p, fmt.Sprintf("action %q is not one of %v", act, investigation.Actions))
			}
		}
		for _, act := range a.Required {
			if slices.Contains(a.Forbidden, act) {
				p = append(p, fmt.Sprintf("action %q is both required and forbidden", act))
			}
		}
	}
	if len(p) > 0 {
		return fmt.Errorf("expect: %s", strings.Join(p, "; "))
	}
	return nil
}

// Verdicts returns the verdicts scored as correct, the expected one first.
func (e Expect) Verdicts() []investigation.Verdict {
	return append([]investigation.Verdict{e.Verdict}, e.AlsoAcceptable...)
}

// String renders the label compactly, e.g. "true_positive|suspicious, need [kill], never [isolate]".
func (e Expect) String() string {
	var b strings.Builder
	for i, v := range e.Verdicts() {
		if i > 0 {
			b.WriteString("|")
		}
		b.WriteString(string(v))
	}
	if a := e.Actions; a != nil {
		if a.None {
			b.WriteString(", no action")
		}
		if len(a.Required) > 0 {
			fmt.Fprintf(&b, ", need %v", a.Required)
		}
		if len(a.Forbidden) > 0 {
			fmt.Fprintf(&b, ", never %v", a.Forbidden)
		}
	}
	return b.String()
}
