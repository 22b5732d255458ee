package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

// workloads matches on the cluster, namespace and image a threat ran in.
const workloads = `
version: workload-test
mode: auto
minConfidence: 0.8
roles:
  analyst: [a@x]
  platform: [p@x]
rules:
  - name: staging images are contained at once
    when: {clusters: ["STAGING-*"], images: ["registry.example.com/*:dev-*"]}
    mode: auto
    reason: staging pods are disposable
  - name: payments namespace
    when: {namespaces: [payments, "pay-?"]}
    actions: [kill, quarantine]
    mode: approve
    approvers: [analyst]
protected:
  - name: control plane
    when: {clusters: ["prod-*"], namespaces: [kube-system]}
    mode: approve
    approvers: [platform]
    reason: the cluster's own services run every workload on it
`

func TestDecideOnWorkloads(t *testing.T) {
	p, err := Parse([]byte(workloads), "workloads.yaml")
	require.NoError(t, err)
	pod := func(cluster, ns, image string) inv.ThreatFacts {
		f := facts("linux", "kubernetes pod", "malicious", "connected")
		f.Workload = &inv.Workload{Cluster: cluster, Namespace: ns, Pod: "web-1", ContainerImage: image}
		return f
	}
	tp := inv.Analysis{Verdict: inv.VerdictTruePositive, Confidence: 0.95}
	for _, tc := range []struct {
		name   string
		f      inv.ThreatFacts
		action inv.Action
		want   Disposition
		rule   string
		roles  []string
	}{
		{"cluster and image globs, case-insensitive", pod("staging-eu", "web", "registry.example.com/shop:dev-42"), inv.ActionKill, Auto, "staging images are contained at once", nil},
		{"every condition must hold: the image does not", pod("staging-eu", "web", "registry.example.com/shop:1.2"), inv.ActionKill, Auto, "default", nil},
		{"a namespace decides", pod("prod-eu", "payments", "registry.example.com/pay:1.2"), inv.ActionQuarantine, Approve, "payments namespace", []string{"analyst"}},
		{"? in a namespace glob", pod("prod-eu", "pay-2", ""), inv.ActionKill, Approve, "payments namespace", []string{"analyst"}},
		{"a protected namespace forces approve over a rule's auto", pod("prod-eu", "kube-system", "registry.k8s.io/coredns:1.11"), inv.ActionKill, Approve, "control plane", []string{"platform"}},
		{"the protected cluster glob must match too", pod("dev-eu", "kube-system", ""), inv.ActionKill, Auto, "default", nil},
		{"an ordinary endpoint never matches a workload condition", facts("linux", "server", "malicious", "connected"), inv.ActionKill, Auto, "default", nil},
		{"a container outside Kubernetes has no cluster nor namespace", func() inv.ThreatFacts {
			f := facts("linux", "server", "malicious", "connected")
			f.Workload = &inv.Workload{ContainerImage: "registry.example.com/shop:dev-1"}
			return f
		}(), inv.ActionKill, Auto, "default", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := decideOne(t, p, Inputs{Analysis: tp, Facts: tc.f}, tc.action)
			assert.Equal(t, tc.want, st.Disposition, st.Reason)
			assert.Equal(t, tc.rule, st.Rule, st.Reason)
			if tc.roles != nil {
				assert.Equal(t, tc.roles, st.Approvers)
			}
		})
	}
}

func TestParseWorkloadConditions(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"a bracket is no glob", "rules:\n  - name: a\n    when:\n      clusters: [\"prod-[ab]\"]\n    mode: off\n",
			[]string{`p.yaml:8:18: rules[0].when.clusters[0]: cluster glob "prod-[ab]": "[" is not supported (only * for any run of characters and ? for one)`}},
		{"a space in an image", "protected:\n  - name: a\n    when:\n      images: [\"nginx *\"]\n    mode: approve\n",
			[]string{
				`p.yaml:8:7: protected[0].when: a protected asset needs at least one condition (e.g. computerNames or tags); it would otherwise protect every host`,
				`p.yaml:8:16: protected[0].when.images[0]: image glob "nginx *" contains spaces, which no image name has`,
			}},
		{"a namespace list of the wrong type", "rules:\n  - name: a\n    when:\n      namespaces: kube-system\n    mode: off\n",
			[]string{`p.yaml:8:19: rules[0].when.namespaces: must be a list, e.g. [a, b]`}},
		{"an empty image", "rules:\n  - name: a\n    when: {images: [\"\"]}\n    mode: off\n",
			[]string{`p.yaml:7:21: rules[0].when.images[0]: must not be empty`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.yaml), "p.yaml")
			assert.Equal(t, tc.want, problems(t, err))
		})
	}
	// A protected entry with only workload conditions protects something.
	p, err := Parse([]byte(head+"protected:\n  - name: a\n    when: {namespaces: [kube-system]}\n    mode: approve\n"), "p.yaml")
	require.NoError(t, err)
	assert.Equal(t, []string{"kube-system"}, p.Protected[0].When.Namespaces)
}

// The example policy's commented workload entries are valid once uncommented.
func TestExampleWorkloadEntriesParse(t *testing.T) {
	src := string(ExampleYAML)
	start := strings.Index(src, "  # - name: production cluster control plane")
	require.GreaterOrEqual(t, start, 0, "the example documents a workload entry")
	end := start + strings.Index(src[start:], "\n\n")
	uncommented := strings.ReplaceAll(src[start:end], "  # ", "  ")
	p, err := Parse([]byte(src[:start]+uncommented+src[end:]), "examples/policy.yaml")
	require.NoError(t, err)
	var found bool
	for _, pr := range p.Protected {
		if pr.Name == "production cluster control plane" {
			found = true
			assert.Equal(t, []string{"prod-*"}, pr.When.Clusters)
			assert.Equal(t, []string{"kube-system"}, pr.When.Namespaces)
		}
	}
	assert.True(t, found)
}
