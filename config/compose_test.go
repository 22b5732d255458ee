package config_test

import (
	"fmt"
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
	for _, name := range []string{"worker", "poller", "slackbot"} {
		env := doc.Services[name].Environment
		require.NotEmpty(t, env, "%s has no environment", name)
		for k := range env {
			if strings.HasPrefix(k, config.Prefix+"_") {
				assert.True(t, known[k], "%s sets %s, which config does not read", name, k)
			}
		}
		assert.Contains(t, doc.Services[name].DependsOn, "temporal-search-attributes")
	}

	for name, svc := range doc.Services {
		if svc.Image != "" {
			assert.NoError(t, pinned(svc.Image), "service %s", name)
		}
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

// exactVersion is a release number with at least major.minor (PostgreSQL's releases
// are 16.10, Temporal's 1.29.1), optionally with a variant suffix (16.10-alpine).
var exactVersion = regexp.MustCompile(`^v?\d+(\.\d+)+([-_][\w.-]+)?$`)

// pinned refuses an image that could change under the same file: no tag (latest), a
// moving tag (16, latest, 16-alpine), anything but an exact version or a digest.
func pinned(image string) error {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		if strings.HasPrefix(digest, "sha256:") {
			return nil
		}
		return fmt.Errorf("image %q: unknown digest", image)
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon <= slash {
		return fmt.Errorf("image %q has no tag: it means latest, whatever that is on the day", image)
	}
	if tag := image[colon+1:]; !exactVersion.MatchString(tag) {
		return fmt.Errorf("image %q: tag %q is not an exact version (e.g. postgres:16.10, not postgres:16)", image, tag)
	}
	return nil
}

func TestPinnedRefusesMovingTags(t *testing.T) {
	for _, ok := range []string{"postgres:16.10", "temporalio/auto-setup:1.29.1", "postgres:16.10-alpine", "localhost:5000/x/y:1.2.3",
		"postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		assert.NoError(t, pinned(ok), ok)
	}
	for _, bad := range []string{"postgres", "postgres:16", "postgres:latest", "postgres:16-alpine", "localhost:5000/x/y", "temporalio/ui:2"} {
		assert.Error(t, pinned(bad), bad)
	}
}

// The Docker build context leaves out what is not source: history, local builds, run
// artefacts, and the .env file that holds the console token.
func TestDockerignoreKeepsLocalArtefactsOut(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	require.NoError(t, err)
	var patterns []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, strings.TrimSuffix(line, "/"))
		}
	}
	for _, want := range []string{".git", "bin", ".demo", ".loadtest", ".env"} {
		assert.Contains(t, patterns, want)
	}
}
