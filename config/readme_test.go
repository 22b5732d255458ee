package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's configuration table must document every variable config reads.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for _, v := range Usage() {
		assert.True(t, strings.Contains(string(raw), "`"+v.Name+"`"), "README.md does not document %s", v.Name)
	}
}
