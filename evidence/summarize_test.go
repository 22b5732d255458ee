package evidence

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/s1client"
)

func proc(pid, ppid int, name, parent, cmd string) s1client.ExploreEvent {
	return s1client.ExploreEvent{
		EventType: "Process Creation", ObjectType: "process", ProcessName: name, ProcessCmd: cmd,
		PID: s1client.FlexString(fmt.Sprint(pid)), ParentPID: s1client.FlexString(fmt.Sprint(ppid)), ParentProcessName: parent,
		ProcessUserName: `CORP\alice`,
	}
}

func chainNames(c []string) string { return strings.Join(c, " → ") }

func TestSummarizeBuildsChainsThreatFirst(t *testing.T) {
	events := []s1client.ExploreEvent{
		// Out of order on purpose: a child before its parent's creation event.
		proc(300, 200, "powershell.exe", "WINWORD.EXE", "powershell -enc SQBFAFgA"),
		proc(200, 100, "WINWORD.EXE", "explorer.exe", `WINWORD.EXE /n invoice.docm`),
		proc(400, 300, "payload.exe", "powershell.exe", `C:\Users\alice\AppData\payload.exe`),
		proc(500, 100, "notepad.exe", "explorer.exe", "notepad.exe"),
		{EventType: "IP Connect", ProcessName: "payload.exe", PID: "400", DstIP: "203.0.113.7", DstPort: "443"},
		{EventType: "IP Connect", ProcessName: "payload.exe", PID: "400", DstIP: "203.0.113.7", DstPort: "443"},
		{EventType: "DNS Resolved", ProcessName: "payload.exe", PID: "400", DNSRequest: "evil.example"},
		{EventType: "File Creation", ProcessName: "powershell.exe", PID: "300", FileFullName: `C:\Users\alice\AppData\payload.exe`},
		{EventType: "Registry Value Modified", ProcessName: "payload.exe", PID: "400", RegistryPath: `HKCU\Software\Microsoft\Windows\CurrentVersion\Run\upd`},
		{EventType: "Behavioral Indicators", ProcessName: "payload.exe", PID: "400", IndicatorCategory: "Persistence", IndicatorDescription: "Run key added"},
	}
	c := Summarize(events, `C:\Users\alice\AppData\payload.exe`)

	require.Len(t, c.ProcessChains, 2)
	var first []string
	for _, p := range c.ProcessChains[0].Processes {
		first = append(first, p.Name)
	}
	assert.Equal(t, "explorer.exe → WINWORD.EXE → powershell.exe → payload.exe", chainNames(first), "the chain through the threat comes first, root to leaf")
	last := c.ProcessChains[0].Processes[3]
	assert.True(t, last.Malicious, "the threat's own process is marked")
	assert.Equal(t, `CORP\alice`, last.User)
	assert.Equal(t, "powershell -enc SQBFAFgA", c.ProcessChains[0].Processes[2].Cmd)
	assert.False(t, c.ProcessChains[1].Processes[1].Malicious, "notepad is not the threat")

	assert.Equal(t, []string{"payload.exe → 203.0.113.7:443 ×2", "payload.exe resolved evil.example"}, c.Network, "repeats are counted, the most frequent first")
	assert.Equal(t, []string{`powershell.exe created C:\Users\alice\AppData\payload.exe`}, c.Files)
	assert.Equal(t, []string{`payload.exe value modified HKCU\Software\Microsoft\Windows\CurrentVersion\Run\upd`}, c.Registry)
	assert.Equal(t, []string{"Persistence: Run key added (payload.exe)"}, c.Behaviors)
	assert.Equal(t, len(events), c.EventsRead)
	assert.Empty(t, c.Cut)
}

func TestSummarizeBoundsAndSaysWhatItCut(t *testing.T) {
	var events []s1client.ExploreEvent
	// A fan-out of 40 children and a 12-deep chain, 60 distinct connections.
	for i := range 40 {
		events = append(events, proc(1000+i, 10, fmt.Sprintf("child%d.exe", i), "svchost.exe", ""))
	}
	for i := range 12 {
		events = append(events, proc(2000+i+1, 2000+i, fmt.Sprintf("d%d.exe", i+1), fmt.Sprintf("d%d.exe", i), ""))
	}
	for i := range 60 {
		events = append(events, s1client.ExploreEvent{EventType: "IP Connect", ProcessName: "child1.exe", PID: "1001", DstIP: fmt.Sprintf("198.51.100.%d", i), DstPort: "80"})
	}
	c := Summarize(events, `C:\x\d12.exe`)

	require.Len(t, c.ProcessChains, MaxChains)
	deep := c.ProcessChains[0].Processes
	assert.Len(t, deep, MaxChainDepth, "a deep chain keeps its last processes")
	assert.Equal(t, "d12.exe", deep[len(deep)-1].Name, "and ends at the threat")
	assert.Len(t, c.Network, MaxLines)
	assert.Contains(t, c.Cut, fmt.Sprintf("%d more process chains", 41-MaxChains))
	assert.Contains(t, c.Cut, fmt.Sprintf("%d more network lines", 60-MaxLines))
}

func TestSummarizeSurvivesCyclesAndGaps(t *testing.T) {
	events := []s1client.ExploreEvent{
		proc(1, 2, "a.exe", "b.exe", ""),
		proc(2, 1, "b.exe", "a.exe", ""),              // a cycle in the console's data
		{EventType: "IP Connect", DstIP: "192.0.2.1"}, // no process at all
		{ObjectType: "file", EventType: "File Deletion", ProcessName: "c.exe", FileFullName: "/tmp/x"},
	}
	c := Summarize(events, "")
	require.NotEmpty(t, c.ProcessChains)
	for _, ch := range c.ProcessChains {
		assert.LessOrEqual(t, len(ch.Processes), MaxChainDepth)
	}
	assert.Equal(t, []string{"unknown process → 192.0.2.1"}, c.Network)
	assert.Equal(t, []string{"c.exe deleted /tmp/x"}, c.Files)
}
