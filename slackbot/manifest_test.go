package slackbot_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/s1copilot/s1copilot/slackbot"
)

// The manifest asks for exactly the scopes the bot uses and points Slack at its endpoints.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("manifest.yaml")
	require.NoError(t, err)
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command, URL string
			} `yaml:"slash_commands"`
		}
		OAuth struct {
			Scopes struct{ Bot []string }
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			}
			SocketMode bool `yaml:"socket_mode_enabled"`
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &m))
	assert.ElementsMatch(t, []string{"chat:write", "channels:history", "groups:history", "users:read", "users:read.email", "commands"}, m.OAuth.Scopes.Bot)
	require.Len(t, m.Features.SlashCommands, 1)
	assert.Equal(t, slackbot.Command, m.Features.SlashCommands[0].Command)
	assert.Equal(t, "https://YOUR-HOST"+slackbot.PathCommands, m.Features.SlashCommands[0].URL)
	assert.True(t, m.Settings.Interactivity.Enabled)
	assert.Equal(t, "https://YOUR-HOST"+slackbot.PathInteractions, m.Settings.Interactivity.RequestURL)
	assert.False(t, m.Settings.SocketMode, "HTTP by default")
}
