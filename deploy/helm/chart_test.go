// Package helm_test renders the Helm chart in deploy/helm/s1copilot with every value
// profile in its ci/ directory, decodes each rendered object strictly into the Kubernetes
// API types (an unknown or misspelt field fails), and checks the invariants the README
// asks of a deployment: exactly one SentinelOne worker, probes, limits, a locked-down
// security context, credentials only from the existing Secret, a grace period above the
// workers' stop timeout, and a policy ConfigMap that hot-reloads.
//
// It needs the helm binary (v4): on PATH or in $(go env GOPATH)/bin. Without it the tests
// are skipped, unless S1C_REQUIRE_HELM=1 (CI), which makes a missing helm a failure.
package helm_test

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/policy"
)

const (
	chartDir = "s1copilot"
	// secretName is existingSecret in every ci/ profile.
	secretName = "s1copilot"
	release    = "soc"
)

// helmBinary finds helm, or skips (fails with S1C_REQUIRE_HELM=1).
func helmBinary(t *testing.T) string {
	t.Helper()
	candidates := []string{}
	if p, err := exec.LookPath("helm"); err == nil {
		candidates = append(candidates, p)
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		candidates = append(candidates, filepath.Join(dir, "bin", "helm"))
	}
	for _, c := range candidates {
		out, err := exec.Command(c, "version", "--short").Output()
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(out)), "v4.") {
			return c
		}
	}
	msg := "helm v4 not found on PATH or in GOPATH/bin (go install helm.sh/helm/v4/cmd/helm@v4.3.2)"
	if os.Getenv("S1C_REQUIRE_HELM") != "" {
		t.Fatal(msg + "; S1C_REQUIRE_HELM is set")
	}
	t.Skip(msg + "; set S1C_REQUIRE_HELM=1 to make this a failure")
	return ""
}

func runHelm(t *testing.T, helm string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, helm, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// No repositories, plugins or caches from the user's home.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func profiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4, "ci/ holds the value profiles")
	return files
}

// rendered is one profile's objects, decoded strictly.
type rendered struct {
	deployments     []appsv1.Deployment
	services        []corev1.Service
	configMaps      []corev1.ConfigMap
	serviceAccounts []corev1.ServiceAccount
	pdbs            []policyv1.PodDisruptionBudget
	hpas            []autoscalingv2.HorizontalPodAutoscaler
	netpols         []networkingv1.NetworkPolicy
	serviceMonitors []map[string]any
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// decode splits helm's multi-document output and decodes every object into its API type
// with unknown fields refused.
func decode(t *testing.T, manifest string) rendered {
	t.Helper()
	r, err := decodeAll(manifest)
	require.NoError(t, err)
	return r
}

func decodeAll(manifest string) (rendered, error) {
	var r rendered
	for i, doc := range docSeparator.Split(manifest, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return r, fmt.Errorf("document %d: %w", i, err)
		}
		where := fmt.Sprintf("document %d (%s %s)", i, tm.APIVersion, tm.Kind)
		var err error
		strict := func(into any) { err = yaml.UnmarshalStrict([]byte(doc), into) }
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			var d appsv1.Deployment
			strict(&d)
			r.deployments = append(r.deployments, d)
		case "v1 Service":
			var s corev1.Service
			strict(&s)
			r.services = append(r.services, s)
		case "v1 ConfigMap":
			var c corev1.ConfigMap
			strict(&c)
			r.configMaps = append(r.configMaps, c)
		case "v1 ServiceAccount":
			var s corev1.ServiceAccount
			strict(&s)
			r.serviceAccounts = append(r.serviceAccounts, s)
		case "policy/v1 PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			strict(&p)
			r.pdbs = append(r.pdbs, p)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			var h autoscalingv2.HorizontalPodAutoscaler
			strict(&h)
			r.hpas = append(r.hpas, h)
		case "networking.k8s.io/v1 NetworkPolicy":
			var n networkingv1.NetworkPolicy
			strict(&n)
			r.netpols = append(r.netpols, n)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			var m map[string]any
			strict(&m)
			r.serviceMonitors = append(r.serviceMonitors, m)
		default:
			// A Secret above all: the chart never renders one (credentials come from
			// existingSecret only).
			return r, fmt.Errorf("%s: the chart renders no such object", where)
		}
		if err != nil {
			return r, fmt.Errorf("%s does not decode strictly: %w\n%s", where, err, doc)
		}
	}
	return r, nil
}

// TestDecodeIsStrict: the decoder the checks rely on refuses a misspelt field, a field
// at the wrong level, and a Secret.
func TestDecodeIsStrict(t *testing.T) {
	valid := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: 1\n"
	_, err := decodeAll("---\n# Source: x\n" + valid)
	require.NoError(t, err)
	for name, doc := range map[string]string{
		"misspelt":     valid + "  strategy:\n    tpye: Recreate\n",
		"wrong level":  valid + "  livenessProbe: {}\n",
		"a Secret":     "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  S1C_S1_TOKEN: abc\n",
		"a duplicate":  valid + "  replicas: 2\n",
		"unknown kind": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n",
	} {
		_, err := decodeAll(valid + "---\n" + doc)
		assert.Error(t, err, name)
	}
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// workerStopTimeout is the longest WorkerStopTimeout in workflows/register.go: a pod's
// grace period must exceed it, or running activities are killed mid-way.
func workerStopTimeout(t *testing.T) time.Duration {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "workflows", "register.go"))
	require.NoError(t, err)
	matches := regexp.MustCompile(`WorkerStopTimeout:\s+(\d+)\s*\*\s*time\.Second`).FindAllSubmatch(src, -1)
	require.NotEmpty(t, matches, "WorkerStopTimeout in workflows/register.go")
	var longest time.Duration
	for _, m := range matches {
		n, err := strconv.Atoi(string(m[1]))
		require.NoError(t, err)
		longest = max(longest, time.Duration(n)*time.Second)
	}
	return longest
}

// secretLooking: an env var by this name holds a credential, unless it names a file or
// path, a public key, or a number of tokens.
var secretLooking = regexp.MustCompile(`(TOKEN|KEY|SECRET|PASSWORD)`)

func looksSecret(name string) bool {
	switch {
	case strings.HasSuffix(name, "_FILE"), strings.HasSuffix(name, "_PATH"),
		strings.HasSuffix(name, "_PUBLIC_KEY"), name == "S1C_LLM_PROMPT_TOKENS":
		return false
	}
	return secretLooking.MatchString(name)
}

func hasEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

func TestChartProfiles(t *testing.T) {
	helm := helmBinary(t)
	stop := workerStopTimeout(t)
	for _, file := range profiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := runHelm(t, helm, "lint", chartDir, "--strict", "-f", file)
			require.NoError(t, err, "helm lint:\n%s", out)

			manifest, err := runHelm(t, helm, "template", release, chartDir, "--namespace", "soc", "-f", file)
			require.NoError(t, err)
			r := decode(t, manifest)
			checkProfile(t, r, stop)
			checkKnownVariables(t, r)
		})
	}
}

func checkProfile(t *testing.T, r rendered, stop time.Duration) {
	byName := map[string]appsv1.Deployment{}
	for _, d := range r.deployments {
		byName[d.Name] = d
	}
	s1Worker, ok := byName[release+"-s1copilot-s1-worker"]
	require.True(t, ok, "the SentinelOne worker Deployment is rendered")
	_, ok = byName[release+"-s1copilot-poller"]
	require.True(t, ok, "the poller Deployment is rendered")

	// Exactly one SentinelOne worker process, never two during a rollout.
	require.NotNil(t, s1Worker.Spec.Replicas)
	assert.EqualValues(t, 1, *s1Worker.Spec.Replicas, "s1-worker replicas")
	assert.Equal(t, appsv1.RecreateDeploymentStrategyType, s1Worker.Spec.Strategy.Type, "s1-worker strategy")
	s1Runners := 0
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if len(c.Command) > 0 && c.Command[0] == "/usr/local/bin/worker" {
				v, ok := envValue(c, "S1C_WORKER_S1_ACTIVITIES")
				require.True(t, ok, "%s sets S1C_WORKER_S1_ACTIVITIES explicitly (its default is true)", d.Name)
				if v == "true" {
					s1Runners++
					assert.Equal(t, s1Worker.Name, d.Name, "only the s1-worker runs the SentinelOne activities")
				} else {
					assert.Equal(t, "false", v, d.Name)
				}
			}
		}
	}
	assert.Equal(t, 1, s1Runners, "exactly one Deployment runs the SentinelOne activities")
	for _, h := range r.hpas {
		assert.Equal(t, "Deployment", h.Spec.ScaleTargetRef.Kind)
		target, ok := byName[h.Spec.ScaleTargetRef.Name]
		require.True(t, ok, "HPA %s targets a rendered Deployment", h.Name)
		assert.NotEqual(t, s1Worker.Name, target.Name, "no HPA scales the SentinelOne worker")
		assert.NotEqual(t, release+"-s1copilot-poller", target.Name, "no HPA scales the poller")
		assert.Nil(t, target.Spec.Replicas, "an autoscaled Deployment leaves replicas to the HPA")
	}

	policyMounts := 0
	images := map[string]bool{}
	for _, d := range r.deployments {
		t.Run(d.Name, func(t *testing.T) {
			pod := d.Spec.Template.Spec
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			require.NoError(t, err)
			assert.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "selector matches the pod template")

			// Pod security.
			psc := pod.SecurityContext
			require.NotNil(t, psc, "pod securityContext")
			assert.True(t, psc.RunAsNonRoot != nil && *psc.RunAsNonRoot, "pod runAsNonRoot")
			assert.True(t, psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault, "pod seccomp RuntimeDefault")
			assert.True(t, pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken, "no service account token")

			// Grace period above the workers' stop timeout.
			require.NotNil(t, pod.TerminationGracePeriodSeconds)
			assert.Greater(t, time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second, stop,
				"terminationGracePeriodSeconds above WorkerStopTimeout")

			volumes := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				volumes[v.Name] = v
			}
			require.NotEmpty(t, pod.Containers)
			for _, c := range pod.Containers {
				images[c.Image] = true
				checkContainer(t, d.Name, c, volumes)
				for _, m := range c.VolumeMounts {
					if v := volumes[m.Name]; v.ConfigMap != nil {
						policyMounts++
					}
				}
			}
		})
	}
	assert.Len(t, images, 1, "every process runs from the one image")

	// The policy ConfigMap parses as a policy.
	for _, cm := range r.configMaps {
		if content, ok := cm.Data["policy.yaml"]; ok {
			_, err := policy.Parse([]byte(content), cm.Name)
			assert.NoError(t, err, "ConfigMap %s holds a valid policy", cm.Name)
		}
	}
	if len(r.configMaps) > 0 {
		assert.Positive(t, policyMounts, "the policy ConfigMap is mounted")
	}

	// Services, the PDB and the ServiceMonitor select rendered pods, by existing port names.
	for _, s := range r.services {
		matched := 0
		for _, d := range r.deployments {
			if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				matched++
				for _, p := range s.Spec.Ports {
					assert.True(t, hasPort(d, p.TargetPort.String()), "Service %s port %s exists in %s", s.Name, p.TargetPort.String(), d.Name)
				}
			}
		}
		assert.Positive(t, matched, "Service %s selects a Deployment's pods", s.Name)
	}
	for _, p := range r.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		require.NoError(t, err)
		assert.True(t, sel.Matches(labels.Set(byName[release+"-s1copilot-worker"].Spec.Template.Labels)), "PDB %s covers the general workers", p.Name)
		assert.False(t, sel.Matches(labels.Set(s1Worker.Spec.Template.Labels)), "PDB %s leaves the SentinelOne worker alone", p.Name)
	}
	for _, m := range r.serviceMonitors {
		spec, _ := m["spec"].(map[string]any)
		require.NotNil(t, spec, "ServiceMonitor spec")
		eps, _ := spec["endpoints"].([]any)
		require.NotEmpty(t, eps, "ServiceMonitor endpoints")
		sel, _ := spec["selector"].(map[string]any)
		matchLabels := labels.Set{}
		for k, v := range sel["matchLabels"].(map[string]any) {
			matchLabels[k] = fmt.Sprint(v)
		}
		selected := 0
		for _, svc := range r.services {
			if labels.SelectorFromSet(matchLabels).Matches(labels.Set(svc.Labels)) {
				selected++
				for _, ep := range eps {
					port := ep.(map[string]any)["port"]
					found := false
					for _, p := range svc.Spec.Ports {
						found = found || p.Name == port
					}
					assert.True(t, found, "ServiceMonitor port %v is a port of Service %s", port, svc.Name)
					assert.Equal(t, "/metrics", ep.(map[string]any)["path"])
				}
				for _, d := range r.deployments {
					if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
						_, isWorker := envValue(d.Spec.Template.Spec.Containers[0], "S1C_WORKER_S1_ACTIVITIES")
						assert.True(t, isWorker, "the metrics Service selects workers only (they serve /metrics), not %s", d.Name)
					}
				}
			}
		}
		assert.Equal(t, 1, selected, "the ServiceMonitor selects the metrics Service")
	}
	for _, n := range r.netpols {
		assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, n.Spec.PolicyTypes)
		assert.NotEmpty(t, n.Spec.Egress)
	}
}

// temporalSDKVariables are the Temporal SDK's standard variables
// (go.temporal.io/sdk/contrib/envconfig) the chart sets.
var temporalSDKVariables = map[string]bool{
	"TEMPORAL_ADDRESS": true, "TEMPORAL_NAMESPACE": true, "TEMPORAL_API_KEY": true, "TEMPORAL_TLS": true,
	"TEMPORAL_TLS_SERVER_NAME": true, "TEMPORAL_TLS_CLIENT_CERT_PATH": true, "TEMPORAL_TLS_CLIENT_KEY_PATH": true,
	"TEMPORAL_TLS_SERVER_CA_CERT_PATH": true,
}

// checkKnownVariables: every variable the chart sets is one s1copilot reads (config), so a
// misspelt name cannot be silently ignored. The codec server's S1C_CODEC_* variables
// belong to starter codec-server, not to config.
func checkKnownVariables(t *testing.T, r rendered) {
	t.Helper()
	known := map[string]bool{}
	for _, v := range config.Usage() {
		known[v.Name] = true
	}
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				switch {
				case known[e.Name], temporalSDKVariables[e.Name], strings.HasPrefix(e.Name, "S1C_CODEC_"):
				default:
					t.Errorf("%s/%s sets %s, which s1copilot does not read (config.Usage)", d.Name, c.Name, e.Name)
				}
			}
		}
	}
}

func hasPort(d appsv1.Deployment, name string) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name || strconv.Itoa(int(p.ContainerPort)) == name {
				return true
			}
		}
	}
	return false
}

func checkContainer(t *testing.T, deployment string, c corev1.Container, volumes map[string]corev1.Volume) {
	t.Helper()
	where := deployment + "/" + c.Name

	// Probes: httpGet on a declared port; liveness on /healthz.
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if assert.NotNil(t, p, "%s: %s probe", where, name) && assert.NotNil(t, p.HTTPGet, "%s: %s probe is httpGet", where, name) {
			port := p.HTTPGet.Port.String()
			found := false
			for _, cp := range c.Ports {
				if cp.Name == port || strconv.Itoa(int(cp.ContainerPort)) == port {
					found = true
					// The process listens where the probe looks.
					for _, e := range c.Env {
						if strings.HasSuffix(e.Name, "_ADDR") && e.ValueFrom == nil && e.Value == fmt.Sprintf(":%d", cp.ContainerPort) {
							found = true
						}
					}
				}
			}
			assert.True(t, found, "%s: %s probe port %s is a container port", where, name, port)
		}
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil {
		assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, where)
	}
	if addr, ok := envValue(c, "S1C_HEALTH_ADDR"); ok {
		assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, "%s: readiness on /readyz where the process serves it", where)
		port := strings.TrimPrefix(addr, ":")
		listens := false
		for _, cp := range c.Ports {
			if strconv.Itoa(int(cp.ContainerPort)) == port && cp.Name == c.LivenessProbe.HTTPGet.Port.String() {
				listens = true
			}
		}
		assert.True(t, listens, "%s: the probes look at S1C_HEALTH_ADDR %s", where, addr)
	}

	// Resources: requests and limits, cpu and memory.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		limit, request := c.Resources.Limits[r], c.Resources.Requests[r]
		assert.False(t, limit.IsZero(), "%s: %s limit", where, r)
		assert.False(t, request.IsZero(), "%s: %s request", where, r)
		assert.LessOrEqual(t, request.Cmp(limit), 0, "%s: %s request within the limit", where, r)
	}

	// Container security.
	sc := c.SecurityContext
	if assert.NotNil(t, sc, "%s: securityContext", where) {
		assert.True(t, sc.RunAsNonRoot != nil && *sc.RunAsNonRoot, "%s: runAsNonRoot", where)
		assert.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "%s: readOnlyRootFilesystem", where)
		assert.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "%s: allowPrivilegeEscalation false", where)
		assert.True(t, sc.Capabilities != nil && len(sc.Capabilities.Drop) == 1 && sc.Capabilities.Drop[0] == "ALL" && len(sc.Capabilities.Add) == 0, "%s: capabilities drop ALL, add none", where)
		assert.True(t, sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault, "%s: seccomp RuntimeDefault", where)
		assert.True(t, sc.Privileged == nil || !*sc.Privileged, "%s: not privileged", where)
	}

	// Temporal over TLS whenever a credential goes to it.
	if _, ok := envValue(c, "TEMPORAL_TLS_CLIENT_CERT_PATH"); ok || hasEnv(c, "TEMPORAL_API_KEY") {
		v, _ := envValue(c, "TEMPORAL_TLS")
		assert.Equal(t, "true", v, "%s: TEMPORAL_TLS with an API key or a client certificate", where)
	}

	// Credentials: only by reference to the existing Secret, never a literal value.
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			assert.False(t, looksSecret(e.Name), "%s: %s has a literal value; credentials come from the Secret", where, e.Name)
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			assert.Equal(t, secretName, ref.Name, "%s: %s comes from existingSecret", where, e.Name)
		}
	}
	for _, ef := range c.EnvFrom {
		assert.Nil(t, ef.ConfigMapRef, "%s: no envFrom ConfigMap (it could carry credentials in clear)", where)
		if ef.SecretRef != nil {
			assert.Equal(t, secretName, ef.SecretRef.Name, where)
		}
	}

	// Mounts: never subPath (a subPath mount of a ConfigMap or Secret never updates), and
	// the policy file lies in the mounted ConfigMap directory.
	for _, m := range c.VolumeMounts {
		assert.Empty(t, m.SubPath, "%s: mount %s uses no subPath", where, m.Name)
		assert.Empty(t, m.SubPathExpr, "%s: mount %s uses no subPathExpr", where, m.Name)
		if m.MountPath == "/tmp" {
			assert.NotNil(t, volumes[m.Name].EmptyDir, "%s: /tmp is an emptyDir", where)
		}
	}
	if file, ok := envValue(c, "S1C_POLICY_FILE"); ok {
		mounted := false
		for _, m := range c.VolumeMounts {
			if filepath.Dir(file) == m.MountPath && volumes[m.Name].ConfigMap != nil {
				mounted = true
				assert.Equal(t, "policy.yaml", filepath.Base(file))
				assert.True(t, m.ReadOnly, "%s: the policy is mounted read-only", where)
			}
		}
		assert.True(t, mounted, "%s: S1C_POLICY_FILE %s lies in a ConfigMap mounted as a directory", where, file)
	}
}

// TestChartRefuses: values that would break an invariant fail at install time.
func TestChartRefuses(t *testing.T) {
	helm := helmBinary(t)
	cases := []struct {
		name, values string
		extraArgs    []string
		want         string
	}{
		{"a second SentinelOne worker", "existingSecret: s1copilot\ns1Worker:\n  replicas: 2\n", nil, "replicas"},
		{"autoscaling the SentinelOne worker", "existingSecret: s1copilot\ns1Worker:\n  autoscaling:\n    enabled: true\n", nil, "autoscaling"},
		{"an inline SentinelOne token", "existingSecret: s1copilot\nconfig:\n  S1C_S1_TOKEN: abc\n", nil, "S1C_S1_TOKEN"},
		{"an inline model key", "existingSecret: s1copilot\nconfig:\n  S1C_LLM_API_KEY: sk-abc\n", nil, "S1C_LLM_API_KEY"},
		{"an inline Temporal API key", "existingSecret: s1copilot\nconfig:\n  TEMPORAL_API_KEY: abc\n", nil, "TEMPORAL_API_KEY"},
		{"an inline codec server token", "existingSecret: s1copilot\ncodecServer:\n  enabled: true\n  config:\n    S1C_CODEC_SERVER_TOKENS: abc\n", nil, "S1C_CODEC_SERVER_TOKENS"},
		{"a secret value the chart has no place for", "existingSecret: s1copilot\nsecrets:\n  S1C_S1_TOKEN: abc\n", nil, "secrets"},
		{"an inline token past the schema", "existingSecret: s1copilot\nconfig:\n  S1C_SLACK_BOT_TOKEN: xoxb-abc\n", []string{"--skip-schema-validation"}, "looks like a credential"},
		{"a grace period at the stop timeout", "existingSecret: s1copilot\nterminationGracePeriodSeconds: 20\n", nil, "terminationGracePeriodSeconds"},
		{"no Secret", "existingSecret: \"\"\n", nil, "existingSecret is required"},
		{"a container without limits", "existingSecret: s1copilot\nworker:\n  resources:\n    requests: {cpu: 100m, memory: 64Mi}\n    limits: null\n", nil, "limits"},
		{"a chart-managed variable", "existingSecret: s1copilot\nconfig:\n  S1C_WORKER_S1_ACTIVITIES: \"true\"\n", nil, "S1C_WORKER_S1_ACTIVITIES"},
		{"a slackbot without its key", "existingSecret: s1copilot\nslackbot:\n  enabled: true\n", nil, "slackbot.decisionKey.secretName is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "values.yaml")
			require.NoError(t, os.WriteFile(file, []byte(tc.values), 0o600))
			args := append([]string{"template", release, chartDir, "-f", file}, tc.extraArgs...)
			_, err := runHelm(t, helm, args...)
			require.Error(t, err, "helm template accepted %q", tc.values)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestProfilesCoverTheChart: full-values.yaml renders every kind the chart has.
func TestProfilesCoverTheChart(t *testing.T) {
	helm := helmBinary(t)
	manifest, err := runHelm(t, helm, "template", release, chartDir, "-f", filepath.Join(chartDir, "ci", "full-values.yaml"))
	require.NoError(t, err)
	r := decode(t, manifest)
	var names []string
	for _, d := range r.deployments {
		names = append(names, strings.TrimPrefix(d.Name, release+"-s1copilot-"))
	}
	sort.Strings(names)
	assert.Equal(t, []string{"codec-server", "poller", "s1-worker", "slackbot", "worker"}, names)
	assert.Len(t, r.hpas, 1)
	assert.Len(t, r.pdbs, 1)
	assert.Len(t, r.serviceMonitors, 1)
	assert.Len(t, r.netpols, 1)
	assert.Len(t, r.configMaps, 1)
	assert.Len(t, r.serviceAccounts, 1)

	// The image has every program the chart runs, and runs as the chart's user.
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	build := regexp.MustCompile(`(?m)^RUN .*go build .*-o /out/ (.*)$`).FindSubmatch(dockerfile)
	require.NotNil(t, build, "the Dockerfile's go build line")
	require.Contains(t, string(dockerfile), "COPY --from=build /out/ /usr/local/bin/")
	built := map[string]bool{}
	for _, pkg := range strings.Fields(string(build[1])) {
		built[filepath.Base(pkg)] = true
	}
	for _, d := range r.deployments {
		pod := d.Spec.Template.Spec
		user := regexp.MustCompile(`(?m)^USER (\d+)(:\d+)?$`).FindSubmatch(dockerfile)
		if assert.NotNil(t, user, "the Dockerfile's USER is numeric") {
			assert.Equal(t, string(user[1]), strconv.FormatInt(*pod.SecurityContext.RunAsUser, 10), "%s runs as the image's user", d.Name)
		}
		for _, c := range pod.Containers {
			require.NotEmpty(t, c.Command, d.Name)
			assert.True(t, strings.HasPrefix(c.Command[0], "/usr/local/bin/") && built[filepath.Base(c.Command[0])],
				"%s runs %s, which the Dockerfile builds", d.Name, c.Command[0])
		}
	}

	// Without ServiceMonitor enabled, no monitoring.coreos.com object (its CRD may be absent).
	manifest, err = runHelm(t, helm, "template", release, chartDir, "-f", filepath.Join(chartDir, "ci", "default-values.yaml"))
	require.NoError(t, err)
	assert.NotContains(t, manifest, "monitoring.coreos.com")
}
