package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/policy"
)

// paymentsPod is threat 1 of the simulator's kubernetes scenario as enrichment
// reports it (activities' TestEnrichmentCountsTheThreatsOfTheSameWorkload).
func paymentsPod() investigation.Evidence {
	ev := laptopEvidence()
	ev.Facts.MachineType = "kubernetes pod"
	ev.Facts.Workload = &investigation.Workload{Cluster: "prod-eu", Namespace: "payments", Pod: "payments-api-7d9c5-x2k4p",
		ContainerImage: "registry.example.com/payments/api:1.4.2"}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ev.CoLocated = &investigation.CoLocated{
		Cluster: "prod-eu", Namespace: "payments", Image: "registry.example.com/payments/api:1.4.2",
		Window: time.Hour, Since: at.Add(-time.Hour), InCluster: 3, InNamespace: 2, WithImage: 2,
		Examples: []investigation.CoLocatedThreat{
			{ThreatID: "1912000000000000002", ThreatName: "kdevtmpfsi", CreatedAt: at.Add(-5 * time.Minute), Namespace: "payments"},
			{ThreatID: "1912000000000000003", ThreatName: "kdevtmpfsi", CreatedAt: at.Add(-8 * time.Minute), Namespace: "payments"},
			{ThreatID: "1912000000000000004", ThreatName: "kdevtmpfsi", CreatedAt: at.Add(-12 * time.Minute), Namespace: "web"},
		},
	}
	return ev
}

const paymentsLine = "Same workload: 3 other threats in cluster prod-eu in the last hour, 2 in namespace payments, " +
	"2 with image registry.example.com/payments/api:1.4.2; newest: 1912000000000000002, 1912000000000000003, 1912000000000000004"

func (s *investigateSuite) TestTheTriageNoteSaysWhatElseHitTheWorkload() {
	s.expectEvidence(paymentsPod(), analysis(investigation.ActionKill))
	s.verifyAll("success")
	s.env.ExecuteWorkflow(InvestigateThreat, Input{ThreatID: "t1"})
	s.Equal(OutcomeMitigated, s.result().Outcome)

	note := s.noteText("triage")
	s.Contains(note, "Workload: cluster prod-eu, namespace payments, pod payments-api-7d9c5-x2k4p, image registry.example.com/payments/api:1.4.2\n"+paymentsLine+"\n")
	for _, n := range s.notes {
		if strings.HasSuffix(n.Marker, " triage]") {
			s.Contains(n.OwnLines, paymentsLine, "the threat's own line: shared notes list it under the threat")
		}
	}
}

func TestCoLocatedLine(t *testing.T) {
	ev := paymentsPod()
	assert.Equal(t, paymentsLine, coLocatedLine(ev.CoLocated))

	c := *ev.CoLocated
	c.InCluster, c.Capped = 100, true
	assert.Equal(t, "Same workload: 100+ other threats in cluster prod-eu in the last hour, 2+ in namespace payments, "+
		"2+ with image registry.example.com/payments/api:1.4.2; newest: 1912000000000000002, 1912000000000000003, 1912000000000000004 and 97+ more",
		coLocatedLine(&c), "a full page: the counts are lower bounds")

	img := investigation.CoLocated{Image: "docker.io/library/redis:7.2", Window: 30 * time.Minute, WithImage: 1,
		Examples: []investigation.CoLocatedThreat{{ThreatID: "1912000000000000009"}}}
	assert.Equal(t, "Same workload: 1 other threat with image docker.io/library/redis:7.2 in the last 30m; newest: 1912000000000000009", coLocatedLine(&img))

	assert.Empty(t, coLocatedLine(&investigation.CoLocated{Cluster: "prod-eu", Namespace: "payments", Window: time.Hour}), "none: no line")
	assert.Empty(t, coLocatedLine(nil))
	assert.Equal(t, "Same workload: could not check for other threats in cluster prod-eu: reading the threats of the same cluster: 429",
		coLocatedLine(&investigation.CoLocated{Cluster: "prod-eu", Window: time.Hour, Unavailable: "reading the threats of the same cluster: 429"}))
}

// Two pods of one outbreak see each other, so their lines differ (each excludes
// itself) even with equal counts: the line is each threat's own, and their notes
// still share everything else.
func TestCoLocatedLinesKeepAnOutbreaksNotesShared(t *testing.T) {
	an := analysis(investigation.ActionKill)
	plan := policy.Plan{PolicyVersion: "v1", Steps: []policy.Step{{Action: investigation.ActionKill, Disposition: policy.Auto, Impact: "low", Reason: "true positive"}}}
	one, other := paymentsPod(), paymentsPod()
	other.Facts.ThreatID = "t2"
	other.CoLocated.Examples[0].ThreatID = "1912000000000000001"
	other.CoLocated.InNamespace = 1 // read a moment later
	textOne, ownOne := triageNote("t1", one, an, plan, activities.Settings{})
	textOther, ownOther := triageNote("t2", other, an, plan, activities.Settings{})
	assert.NotEqual(t, textOne, textOther)
	assert.Equal(t, without(textOne, ownOne), without(textOther, ownOther))
	assert.NotContains(t, without(textOne, ownOne), "Same workload")
}
