package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/llm"
)

func TestNewWiresPseudonymisationIntoTheModel(t *testing.T) {
	for _, on := range []bool{false, true} {
		cfg := config.Config{S1URL: "http://127.0.0.1:8088", S1Token: "tok", LLMModel: "gpt-test",
			LLMTimeout: time.Second, LLMPseudonymize: on}
		acts, err := New(cfg)
		require.NoError(t, err)
		m, ok := acts.Model.(*llm.OpenAI)
		require.True(t, ok, "model is %T", acts.Model)
		assert.Equal(t, on, m.Pseudonymizes())
	}
}
