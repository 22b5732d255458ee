package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/workflows"
)

// No Docker engine runs here, so docker-compose.yml is checked structurally: it parses,
// every service can start, and it configures only variables s1copilot knows, so a typo
// in an S1C_ name cannot silently fall back to a default.
func TestDockerComposeFile(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	require.NoError(t, err)
	var doc struct {
		Services map[string]struct {
			Image       string         `yaml:"image"`
			Build       any            `yaml:"build"`
			Environment map[string]any `yaml:"environment"`
			Command     []string       `yaml:"command"`
			DependsOn   map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))

	for _, name := range []string{"postgresql", "temporal", "temporal-ui", "temporal-search-attributes", "s1sim", "worker", "poller"} {
		require.Contains(t, doc.Services, name)
		svc := doc.Services[name]
		assert.True(t, svc.Image != "" || svc.Build != nil, "service %s has neither image nor build", name)
	}

	known := map[string]bool{}
	for _, v := range config.Usage() {
		known[v.Name] = true
	}
	for _, name := range []string{"worker", "poller"} {
		env := doc.Services[name].Environment
		require.NotEmpty(t, env, "%s has no environment", name)
		for k := range env {
			if strings.HasPrefix(k, config.Prefix+"_") {
				assert.True(t, known[k], "%s sets %s, which config does not read", name, k)
			}
		}
		assert.Contains(t, doc.Services[name].DependsOn, "temporal-search-attributes")
	}

	// The compose file registers exactly the search attributes the workflows set.
	cmd := strings.Join(doc.Services["temporal-search-attributes"].Command, " ")
	m := regexp.MustCompile(`for sa in ([^;]+);`).FindStringSubmatch(cmd)
	require.Len(t, m, 2, "search attribute loop not found in %q", cmd)
	var want []string
	for _, k := range workflows.SearchAttributeKeys() {
		want = append(want, k.GetName())
	}
	assert.ElementsMatch(t, want, strings.Fields(m[1]))
}
