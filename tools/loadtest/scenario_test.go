package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func TestPlanIsDeterministicAndFollowsTheMix(t *testing.T) {
	a, err := Plan(200, DefaultMix, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Plan(200, DefaultMix, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different plans")
	}
	c, _ := Plan(200, DefaultMix, 8)
	if reflect.DeepEqual(kindsOf(a), kindsOf(c)) {
		t.Fatal("another seed gave the same order")
	}
	count := map[Kind]int{}
	ids, agents := map[string]bool{}, map[string]bool{}
	for _, p := range a {
		count[p.Kind]++
		if ids[p.Threat.ID] || agents[p.Agent.ID] {
			t.Fatalf("threat %s or agent %s repeated", p.Threat.ID, p.Agent.ID)
		}
		ids[p.Threat.ID], agents[p.Agent.ID] = true, true
		if p.Threat.AgentID != p.Agent.ID {
			t.Fatalf("threat %s runs on %s, its agent is %s", p.Threat.ID, p.Threat.AgentID, p.Agent.ID)
		}
	}
	want := map[Kind]int{KindAuto: 80, KindApprove: 50, KindReject: 40, KindRollback: 30}
	if !reflect.DeepEqual(count, want) {
		t.Fatalf("kinds %v, want %v", count, want)
	}
}

func kindsOf(ps []Planned) []Kind {
	var out []Kind
	for _, p := range ps {
		out = append(out, p.Kind)
	}
	return out
}

func TestMixCountsAddUp(t *testing.T) {
	for _, n := range []int{1, 3, 7, 40, 501} {
		c, err := DefaultMix.counts(n)
		if err != nil {
			t.Fatal(err)
		}
		if got := c[KindAuto] + c[KindApprove] + c[KindReject] + c[KindRollback]; got != n {
			t.Errorf("n=%d: counts %v add up to %d", n, c, got)
		}
	}
	if _, err := (Mix{"sideways": 1}).counts(10); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := (Mix{KindAuto: 0}).counts(10); err == nil {
		t.Error("mix without a positive share accepted")
	}
	if _, err := Plan(0, DefaultMix, 1); err == nil {
		t.Error("zero threats accepted")
	}
}

// The generated threats and agents are valid for the simulator: it accepts the
// agents as a scenario and every threat at runtime.
func TestPlanIsAcceptedByTheSimulator(t *testing.T) {
	plan, err := Plan(20, DefaultMix, 1)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario.Scenario{Name: "t"}
	for _, p := range plan {
		sc.Agents = append(sc.Agents, p.Agent)
	}
	sim, err := simulator.New(sc, simulator.Options{Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan {
		if err := sim.AddThreat(p.Threat); err != nil {
			t.Fatalf("%s (%s): %v", p.Threat.ID, p.Kind, err)
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := parseMix("auto=1, reject=0.5")
	if err != nil || m[KindAuto] != 1 || m[KindReject] != 0.5 {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := parseMix("auto"); err == nil {
		t.Fatal("share-less mix accepted")
	}
}

func TestPlanChaosPlacesEveryEventInItsWindow(t *testing.T) {
	for seed := range uint64(50) {
		ev := planChaos(seed, 3)
		if len(ev) != 6 {
			t.Fatalf("seed %d: %d events", seed, len(ev))
		}
		kills := 0
		for i, e := range ev {
			if i > 0 && ev[i-1].at > e.at {
				t.Fatalf("seed %d: events out of order: %v", seed, ev)
			}
			switch e.action {
			case killWorker:
				kills++
				if e.at < 0.10 || e.at > 0.85 || e.onAdded {
					t.Fatalf("seed %d: kill at %v", seed, e)
				}
			case restartPoller:
				if !e.onAdded || e.at < 0.2 || e.at > 0.7 {
					t.Fatalf("seed %d: %v", seed, e)
				}
			case restartTemporal:
				if e.onAdded || e.at < 0.25 || e.at > 0.6 {
					t.Fatalf("seed %d: %v", seed, e)
				}
			case killDuringBatch:
				if !e.onAdded || e.at < 0.1 || e.at > 0.5 {
					t.Fatalf("seed %d: %v", seed, e)
				}
			}
		}
		if kills != 3 {
			t.Fatalf("seed %d: %d kills", seed, kills)
		}
	}
	if !reflect.DeepEqual(planChaos(3, 3), planChaos(3, 3)) {
		t.Fatal("the same seed gave different chaos")
	}
}

func TestCleanRunDirRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"temporal.db", "temporal.db-journal", "worker-1.log", "audit.jsonl"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := cleanRunDir(dir); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cleanRunDir(dir); err == nil || !strings.Contains(err.Error(), "thesis.tex") {
		t.Fatalf("foreign file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "thesis.tex")); err != nil {
		t.Fatal("the foreign file was removed")
	}
	if err := cleanRunDir(filepath.Join(dir, "new")); err != nil {
		t.Fatalf("a new directory: %v", err)
	}
}
