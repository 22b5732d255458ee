package llm

import "testing"

// NewEchoProviderForTest serves, for the external tests (package llm_test, which
// may import eval/evalset), a fake OpenAI-compatible provider whose model names
// the host and user it was shown (echoAnswer), and returns an analyzer for it
// and a function listing the raw request bodies it received.
func NewEchoProviderForTest(t *testing.T, pseudonymize bool) (*OpenAI, func() []string) {
	t.Helper()
	fp := newFakeProvider(t, echoAnswer(t))
	o, err := NewOpenAI(OpenAIConfig{BaseURL: fp.srv.URL + "/v1", APIKey: testKey, Model: "gpt-test", Pseudonymize: pseudonymize})
	if err != nil {
		t.Fatal(err)
	}
	return o, func() []string {
		var out []string
		for _, r := range fp.requests() {
			out = append(out, r.Raw)
		}
		return out
	}
}
