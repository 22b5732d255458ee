package simulator

import (
	"strings"

	"github.com/s1copilot/s1copilot/scenario"
)

// workloadContains are GET /threats' free-text filters on the workload blocks the
// simulator has data for (reference §2.1), each reading its field of a threat.
var workloadContains = []struct {
	param string
	value func(w *scenario.Workload) string
}{
	{"k8sClusterName__contains", func(w *scenario.Workload) string { return k8s(w).Cluster }},
	{"k8sNamespaceName__contains", func(w *scenario.Workload) string { return k8s(w).Namespace }},
	{"k8sPodName__contains", func(w *scenario.Workload) string { return k8s(w).Pod }},
	{"k8sNodeName__contains", func(w *scenario.Workload) string { return k8s(w).Node }},
	{"k8sControllerName__contains", func(w *scenario.Workload) string { return k8s(w).ControllerName }},
	{"containerName__contains", func(w *scenario.Workload) string { return container(w).Name }},
	{"containerImageName__contains", func(w *scenario.Workload) string { return container(w).Image }},
}

func k8s(w *scenario.Workload) scenario.Kubernetes {
	if w == nil || w.Kubernetes == nil {
		return scenario.Kubernetes{}
	}
	return *w.Kubernetes
}

func container(w *scenario.Workload) scenario.Container {
	if w == nil || w.Container == nil {
		return scenario.Container{}
	}
	return *w.Container
}

// minContainsLen is the console's minimum length of a __contains value.
const minContainsLen = 2

// workloadFilter reads the workload __contains filters: a list of substrings each
// (comma-separated), any of which must occur in the field, case-insensitively; a
// threat without the field never matches. Every filter given must match.
func workloadFilter(q *query) func(*threat) bool {
	type filter struct {
		value func(w *scenario.Workload) string
		subs  []string
	}
	var filters []filter
	for _, f := range workloadContains {
		subs := q.csv(f.param)
		if subs == nil {
			continue
		}
		for i, s := range subs {
			if len([]rune(s)) < minContainsLen {
				q.errs = append(q.errs, validationError("%s: %d: Shorter than minimum length %d.", f.param, i, minContainsLen))
				subs = nil
				break
			}
			subs[i] = strings.ToLower(s)
		}
		if subs != nil {
			filters = append(filters, filter{f.value, subs})
		}
	}
	return func(t *threat) bool {
		for _, f := range filters {
			v := strings.ToLower(f.value(t.sc.Workload))
			hit := false
			for _, s := range f.subs {
				if v != "" && strings.Contains(v, s) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
		}
		return true
	}
}
