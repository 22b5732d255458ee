package evalset

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/s1copilot/s1copilot/feedback"
	"github.com/s1copilot/s1copilot/scenario"
)

// File is one scenario file of the set.
type File struct {
	Path     string // as found, e.g. tools/eval/scenarios/ransomware.json
	Name     string // base name, e.g. ransomware.json
	Scenario *scenario.Scenario
	Cases    []Case
}

// Case is one labeled threat.
type Case struct {
	File       string // base name of its scenario file
	ThreatID   string
	ThreatName string
	Expect     feedback.Expect
}

// LoadDir loads every *.json scenario file of dir, sorted by name. Every threat
// must carry a valid expect block and threat IDs must be unique across files;
// all problems are reported together.
func LoadDir(dir string) ([]*File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no scenario files (*.json) in %s", dir)
	}
	slices.Sort(paths)
	var (
		files    []*File
		problems []string
		owner    = map[string]string{}
	)
	for _, p := range paths {
		f, err := LoadFile(p)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, c := range f.Cases {
			if prev, dup := owner[c.ThreatID]; dup {
				problems = append(problems, fmt.Sprintf("%s: threat %s is also in %s", f.Name, c.ThreatID, prev))
			}
			owner[c.ThreatID] = f.Name
		}
		files = append(files, f)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return files, nil
}

// LoadFile parses one scenario file with scenario.LoadFile, the simulator's own
// parser, and reads the expect block of each of its threats.
func LoadFile(path string) (*File, error) {
	sc, err := scenario.LoadFile(path)
	if err != nil {
		return nil, err
	}
	f := &File{Path: path, Name: filepath.Base(path), Scenario: sc}
	var problems []string
	for i, t := range sc.Threats {
		e, err := feedback.ParseExpect(t.Expect)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: threats[%d] (%s): %v", f.Name, i, t.ID, err))
			continue
		}
		f.Cases = append(f.Cases, Case{File: f.Name, ThreatID: t.ID, ThreatName: t.ThreatName, Expect: e})
	}
	if len(sc.Threats) == 0 {
		problems = append(problems, f.Name+": no threats")
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return f, nil
}
