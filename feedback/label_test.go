package feedback

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/investigation"
)

func TestParseExpectRejectsBadLabels(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"missing", ``, "missing"},
		{"null", `null`, "missing"},
		{"unknown field", `{"verdict":"true_positive","actions":{"none":true},"why":"x","outcome":"mitigated"}`, "unknown field"},
		{"bad verdict", `{"verdict":"malicious","actions":{"none":true},"why":"x"}`, `verdict "malicious"`},
		{"bad alternative", `{"verdict":"suspicious","alsoAcceptable":["benign"],"actions":{"none":true},"why":"x"}`, `alsoAcceptable "benign"`},
		{"alternative repeats verdict", `{"verdict":"suspicious","alsoAcceptable":["suspicious"],"actions":{"none":true},"why":"x"}`, "repeated"},
		{"no why", `{"verdict":"suspicious","actions":{"none":true}}`, "why is empty"},
		{"no actions", `{"verdict":"suspicious","why":"x"}`, "actions is missing"},
		{"empty actions", `{"verdict":"suspicious","actions":{},"why":"x"}`, "no constraint"},
		{"none with required", `{"verdict":"suspicious","actions":{"none":true,"required":["kill"]},"why":"x"}`, "excludes"},
		{"bad action", `{"verdict":"true_positive","actions":{"required":["block"]},"why":"x"}`, `action "block"`},
		{"required and forbidden", `{"verdict":"true_positive","actions":{"required":["kill"],"forbidden":["kill"]},"why":"x"}`, "both required and forbidden"},
		{"trailing", `{"verdict":"true_positive","actions":{"none":true},"why":"x"} {}`, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseExpect(json.RawMessage(tc.raw))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseExpectValid(t *testing.T) {
	e, err := ParseExpect(json.RawMessage(`{"verdict":"suspicious","alsoAcceptable":["false_positive"],"actions":{"none":true},"why":"pentest host"}`))
	require.NoError(t, err)
	assert.Equal(t, []investigation.Verdict{"suspicious", "false_positive"}, e.Verdicts())
	assert.Equal(t, "suspicious|false_positive, no action", e.String())
}
