package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/s1copilot/s1copilot/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func setEnv(t *testing.T, kv map[string]string) {
	t.Helper()
	for _, d := range Usage() {
		t.Setenv(d.Name, "") // restored after the test
		require.NoError(t, os.Unsetenv(d.Name))
	}
	for k, v := range kv {
		t.Setenv(k, v)
	}
}

func TestLoadDefaultsWithSimulatorURL(t *testing.T) {
	setEnv(t, map[string]string{"S1C_S1_URL": "http://127.0.0.1:8088", "S1C_S1_TOKEN": "tok"})
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7233", c.Temporal.Address)
	assert.Equal(t, 30*time.Second, c.PollInterval)
	assert.Equal(t, policy.ModeAuto, c.PolicyMode)
	assert.False(t, c.LLMConfigured())
	assert.Equal(t, "s1copilot-s1", c.Temporal.S1TaskQueue)
	assert.Empty(t, c.ScopeSiteIDs)
}

func TestLoadListsEveryProblemAtOnce(t *testing.T) {
	setEnv(t, map[string]string{
		"S1C_POLL_INTERVAL":    "often",
		"S1C_MIN_CONFIDENCE":   "2",
		"S1C_POLICY_MODE":      "yolo",
		"S1C_LLM_BASE_URL":     "ftp://models",
		"S1C_APPROVAL_TIMEOUT": "-1h",
		"S1C_PUSH_ADDR":        ":8443",
		"S1C_PUSH_SECRET":      "short",
	})
	_, err := Load()
	require.Error(t, err)
	msg := err.Error()
	for _, want := range []string{
		"S1C_S1_URL is required",
		"S1C_S1_TOKEN is required",
		`S1C_POLL_INTERVAL: cannot read "often"`,
		"S1C_MIN_CONFIDENCE 2 must be between 0 and 1",
		`S1C_POLICY_MODE "yolo"`,
		"S1C_LLM_BASE_URL",
		"S1C_LLM_MODEL is required",
		"S1C_APPROVAL_TIMEOUT must be positive",
		"S1C_PUSH_SECRET must be at least 32 characters",
	} {
		assert.Contains(t, msg, want)
	}
}

func TestS1URLMustBeHTTPSExceptLoopback(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://usea1.sentinelone.net":         true,
		"http://127.0.0.1:8088":                 true,
		"http://localhost:8088":                 true,
		"http://[::1]:8088":                     true,
		"http://usea1.sentinelone.net":          false,
		"http://10.0.0.5:8088":                  false,
		"usea1.sentinelone.net":                 false,
		"https://user:pw@usea1.sentinelone.net": false,
		"":                                      false,
	} {
		t.Run(url, func(t *testing.T) {
			err := validateS1URL(url)
			assert.Equal(t, ok, err == nil, "error: %v", err)
		})
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	setEnv(t, map[string]string{"S1C_S1_URL": "http://127.0.0.1:1", "S1C_S1_TOKEN": "super-secret-token", "S1C_LLM_API_KEY": "sk-live-123"})
	c, err := Load()
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		assert.NotContains(t, s, "super-secret-token")
		assert.NotContains(t, s, "sk-live-123")
	}
	assert.Equal(t, "super-secret-token", c.S1Token.Reveal())
	assert.True(t, strings.Contains(fmt.Sprint(c.S1Token), "redacted"))
}

func TestScopeListsAreCommaSeparated(t *testing.T) {
	setEnv(t, map[string]string{"S1C_S1_URL": "http://127.0.0.1:1", "S1C_S1_TOKEN": "t", "S1C_SCOPE_SITE_IDS": "111,222", "S1C_SCOPE_ACCOUNT_IDS": "9"})
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, []string{"111", "222"}, c.ScopeSiteIDs)
	assert.Equal(t, []string{"9"}, c.ScopeAccountIDs)
}

func TestLLMPseudonymizeIsOffByDefault(t *testing.T) {
	setEnv(t, map[string]string{"S1C_S1_URL": "http://127.0.0.1:8088", "S1C_S1_TOKEN": "tok"})
	c, err := Load()
	require.NoError(t, err)
	assert.False(t, c.LLMPseudonymize)

	setEnv(t, map[string]string{"S1C_S1_URL": "http://127.0.0.1:8088", "S1C_S1_TOKEN": "tok", "S1C_LLM_PSEUDONYMIZE": "true"})
	c, err = Load()
	require.NoError(t, err)
	assert.True(t, c.LLMPseudonymize)

	setEnv(t, map[string]string{"S1C_S1_URL": "http://127.0.0.1:8088", "S1C_S1_TOKEN": "tok", "S1C_LLM_PSEUDONYMIZE": "sometimes"})
	_, err = Load()
	require.ErrorContains(t, err, "LLM_PSEUDONYMIZE")
}

func TestDefaultsApplyEveryDefaultTag(t *testing.T) {
	d := Defaults()
	assert.Equal(t, 6000, d.LLMPromptTokens)
	assert.Equal(t, 1000, d.WorkflowCacheSize)
	assert.Equal(t, "s1copilot", d.Temporal.TaskQueue)
	assert.InDelta(t, 1.0, d.S1RateScale, 1e-9)
	assert.Empty(t, d.S1URL, "required settings stay empty")
	t.Setenv("S1C_LLM_PROMPT_TOKENS", "9000")
	assert.Equal(t, 6000, Defaults().LLMPromptTokens, "the environment is not read")
	d.S1URL, d.S1Token = "https://tenant.sentinelone.net", "tok"
	require.NoError(t, d.Validate(), "the defaults plus the required settings are a valid configuration")
}

func TestReportSchedule(t *testing.T) {
	for in, want := range map[string]ReportSchedule{
		"0 8 * * 1": {Cron: "0 8 * * 1"}, " 0  8 * * 1 ": {Cron: "0 8 * * 1"}, "24h": {Every: 24 * time.Hour}, "off": {Off: true}, "OFF": {Off: true},
	} {
		got, err := ParseReportSchedule(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"weekly", "0 8 * *", "10s"} {
		_, err := ParseReportSchedule(bad)
		assert.ErrorContains(t, err, "S1C_REPORT_SCHEDULE", bad)
	}
}
