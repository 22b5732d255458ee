package activities

import (
	"context"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"

	"github.com/s1copilot/s1copilot/coalesce"
	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
)

// CoLocatedWindow is how far back enrichment looks for other threats in a threat's
// cluster or image.
const CoLocatedWindow = time.Hour

// coLocatedLimit bounds that read to one page; a full page makes the counts lower bounds.
const coLocatedLimit = 100

// maxCoLocatedExamples bounds the example threats kept in the evidence.
const maxCoLocatedExamples = 5

// minContains is the console's minimum length of a __contains value.
const minContains = 2

// coLocatedQuery is what one read filters on: the cluster, else the image.
type coLocatedQuery struct{ cluster, image string }

// coLocatedPage is the read's answer, shared by the threats that asked the same query.
type coLocatedPage struct {
	threats []s1client.Threat
	since   time.Time
	full    bool
}

// coLocated reads the threats created in the last CoLocatedWindow in this threat's
// Kubernetes cluster (or, without one, with its container image) and counts the others
// by cluster, namespace and image: one GET /threats, shared by concurrent enrichments
// with the same filter. It returns nil for a threat with neither cluster nor image; a
// failed read is reported in Unavailable, not as an error.
func (a *Activities) coLocated(ctx context.Context, f investigation.ThreatFacts) *investigation.CoLocated {
	w := f.Workload
	if w == nil || (w.Cluster == "" && w.ContainerImage == "") {
		return nil
	}
	c := &investigation.CoLocated{Image: w.ContainerImage, Window: CoLocatedWindow}
	var q coLocatedQuery
	switch {
	case utf8.RuneCountInString(w.Cluster) >= minContains:
		q.cluster = w.Cluster
		c.Cluster, c.Namespace = w.Cluster, w.Namespace
	case utf8.RuneCountInString(w.ContainerImage) >= minContains:
		q.image = w.ContainerImage
	default:
		c.Cluster = w.Cluster
		c.Unavailable = "the cluster and image names are shorter than the console's filters accept"
		return c
	}
	page, _, err := a.batches().coLocated.Do(ctx, q, f.ThreatID)
	if err != nil {
		activity.GetLogger(ctx).Warn("Could not count the threats of the same workload.", "Error", err)
		c.Unavailable = clip("reading the threats of the same "+q.what()+": "+err.Error(), 200)
		return c
	}
	c.Since, c.Capped = page.since, page.full
	for _, t := range page.threats {
		id := string(t.ID)
		if id == "" {
			id = string(t.ThreatInfo.ThreatID)
		}
		if id == f.ThreatID {
			continue
		}
		var cluster, ns, image string
		if k := t.KubernetesInfo; k != nil {
			cluster, ns = k.Cluster, k.Namespace
		}
		if ci := t.ContainerInfo; ci != nil {
			image = ci.Image
		}
		// __contains matched a substring: count exact matches only.
		if q.cluster != "" {
			if cluster != c.Cluster {
				continue
			}
			c.InCluster++
			if c.Namespace != "" && ns == c.Namespace {
				c.InNamespace++
			}
		} else if image != c.Image {
			continue
		}
		if c.Image != "" && image == c.Image {
			c.WithImage++
		}
		if len(c.Examples) < maxCoLocatedExamples {
			c.Examples = append(c.Examples, investigation.CoLocatedThreat{
				ThreatID: id, ThreatName: clip(t.ThreatInfo.ThreatName, 120), CreatedAt: t.ThreatInfo.CreatedAt.Time,
				Namespace: ns, Image: image,
			})
		}
	}
	return c
}

func (q coLocatedQuery) what() string {
	if q.cluster != "" {
		return "cluster"
	}
	return "image"
}

// readCoLocated sends one GET /threats for the threats of a cluster or an image created
// within CoLocatedWindow, newest first, for every enrichment that asked.
func (a *Activities) readCoLocated(ctx context.Context, q coLocatedQuery, ids []string) []coalesce.Outcome[coLocatedPage] {
	out := make([]coalesce.Outcome[coLocatedPage], len(ids))
	since := a.now().Add(-CoLocatedWindow)
	p := s1client.ListThreatsParams{CreatedAtGte: since, SortBy: "createdAt", SortOrder: "desc", Limit: coLocatedLimit}
	if q.cluster != "" {
		p.K8sClusterNameContains = []string{q.cluster}
	} else {
		p.ContainerImageNameContains = []string{q.image}
	}
	page, err := a.S1.ListThreats(ctx, p)
	if err != nil {
		return fill(out, coalesce.Outcome[coLocatedPage]{Err: err})
	}
	return fill(out, coalesce.Outcome[coLocatedPage]{Value: coLocatedPage{threats: page.Items, since: since, full: len(page.Items) >= coLocatedLimit}})
}
