package scenario

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Generator expands into many threats (and optionally the agents
// they run on), so outbreak-sized scenarios stay small and readable:
//
//	"generate": [{"template": {…threat fields…}, "count": 300, "idBase": "1911000000000000001",
//	              "agents": {"prefix": "WS-", "count": 120, "idBase": "1901000000000000001", …agent fields…},
//	              "spreadOver": "10m"}]
//
// Threat i gets ID idBase+i and runs on agent i mod len(agents). Threat
// createdAgo goes from template.createdAgo+spreadOver (i=0) evenly down to
// template.createdAgo (last). In the template, timeline "ago" values are
// relative to each generated threat's createdAt (0s = at detection), and
// id, agentId and createdAt must be empty. A template without a storyline
// gets a distinct one per threat.
type Generator struct {
	Template Threat `json:"template"`
	Count    int    `json:"count"`
	IDBase   string `json:"idBase"`
	// Exactly one of Agents (generate new agents) and AgentIDs (use agents
	// declared in the scenario, round-robin) is required.
	Agents     *GeneratedAgents `json:"agents,omitempty"`
	AgentIDs   []string         `json:"agentIds,omitempty"`
	SpreadOver string           `json:"spreadOver,omitempty"`
}

// GeneratedAgents describes agents a generator creates: the embedded
// Agent is the template (its id, uuid and computerName are
// generated: idBase+i, a stable hex UUID, prefix+number; lastIpToMgmt is
// generated when empty).
type GeneratedAgents struct {
	Prefix string `json:"prefix"`
	Count  int    `json:"count"`
	IDBase string `json:"idBase"`
	Agent
}

const maxGenerated = 10000

// Expand appends the agents and threats of sc.Generate and clears it. Parse
// expands; a scenario built in Go is expanded by whoever serves it.
func (sc *Scenario) Expand() error {
	var p problems
	for gi, g := range sc.Generate {
		loc := fmt.Sprintf("generate[%d]", gi)
		n := len(p.list)
		if g.Count < 1 || g.Count > maxGenerated {
			p.addf("%s.count: must be between 1 and %d", loc, maxGenerated)
		}
		base := genBase(&p, loc+".idBase", g.IDBase, g.Count)
		if g.Template.ID != "" || g.Template.AgentID != "" || g.Template.CreatedAt != "" {
			p.addf("%s.template: id, agentId and createdAt are generated and must be empty", loc)
		}
		var newest, spread time.Duration
		if g.Template.CreatedAgo != "" {
			agoDuration(&p, loc+".template.createdAgo", g.Template.CreatedAgo)
			newest, _ = time.ParseDuration(g.Template.CreatedAgo)
		}
		if g.SpreadOver != "" {
			agoDuration(&p, loc+".spreadOver", g.SpreadOver)
			spread, _ = time.ParseDuration(g.SpreadOver)
		}
		for j, ta := range g.Template.Timeline {
			if ta.Ago != "" {
				agoDuration(&p, fmt.Sprintf("%s.template.timeline[%d].ago", loc, j), ta.Ago)
			}
		}
		agentIDs := g.AgentIDs
		switch {
		case (g.Agents == nil) == (len(g.AgentIDs) == 0):
			p.addf("%s: exactly one of agents and agentIds is required", loc)
		case g.Agents != nil:
			ga := g.Agents
			if ga.Count < 1 || ga.Count > maxGenerated {
				p.addf("%s.agents.count: must be between 1 and %d", loc, maxGenerated)
			}
			if strings.TrimSpace(ga.Prefix) == "" {
				p.addf("%s.agents.prefix: required", loc)
			}
			abase := genBase(&p, loc+".agents.idBase", ga.IDBase, ga.Count)
			if len(p.list) > n {
				continue
			}
			width := max(3, len(strconv.Itoa(ga.Count)))
			agentIDs = nil
			for i := range ga.Count {
				a := ga.Agent
				a.ID = strconv.FormatUint(abase+uint64(i), 10)
				a.UUID = FakeHex(a.ID+"uuid", 32)
				a.ComputerName = fmt.Sprintf("%s%0*d", ga.Prefix, width, i+1)
				if a.LastIPToMgmt == "" {
					a.LastIPToMgmt = fmt.Sprintf("10.%d.%d.%d", 60+(i/62500)%100, (i/250)%250, i%250+1)
				}
				sc.Agents = append(sc.Agents, a)
				agentIDs = append(agentIDs, a.ID)
			}
		}
		if len(p.list) > n {
			continue
		}
		for i := range g.Count {
			t := g.Template
			t.ID = strconv.FormatUint(base+uint64(i), 10)
			t.AgentID = agentIDs[i%len(agentIDs)]
			ago := newest
			if g.Count > 1 {
				ago += time.Duration(int64(spread) / int64(g.Count-1) * int64(g.Count-1-i))
			}
			t.CreatedAgo = ago.String()
			if t.Storyline == "" {
				t.Storyline = strings.ToUpper(FakeHex(t.ID+"storyline", 16))
			}
			t.Timeline = nil
			for _, ta := range g.Template.Timeline {
				d, _ := time.ParseDuration(cmp.Or(ta.Ago, "0s"))
				ta.Ago = (ago + d).String()
				t.Timeline = append(t.Timeline, ta)
			}
			sc.Threats = append(sc.Threats, t)
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	sc.Generate = nil
	return nil
}

func genBase(p *problems, loc, id string, count int) uint64 {
	requireID(p, loc, id)
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || !ValidID(id) {
		return 0
	}
	if n+uint64(max(count, 0)) > math.MaxInt64 {
		p.addf("%s: %d IDs from %s overflow int64", loc, count, id)
	}
	return n
}

// FakeHex derives stable pseudo-random hex of length n from seed, for the values a
// scenario need not spell out: Expand makes up UUIDs and storylines with it, the
// simulator MAC addresses and unknown hashes.
func FakeHex(seed string, n int) string {
	sum := sha1.Sum([]byte(seed))
	h := hex.EncodeToString(sum[:])
	for len(h) < n {
		h += h
	}
	return h[:n]
}
