// Package scenarios embeds the scenario files shipped with s1sim. It holds
// data only; scenario.LoadFS parses it.
package scenarios

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

// FS holds the embedded scenario files, named "<name>.json".
//
//go:embed *.json
var FS embed.FS

// Names lists the embedded scenario names (file names without .json), sorted.
func Names() []string {
	entries, err := fs.ReadDir(FS, ".")
	if err != nil {
		return nil // cannot happen for an embed.FS root
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
