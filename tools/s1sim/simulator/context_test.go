package simulator_test

import (
	"strings"
	"testing"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// The filters an investigation uses for context: where else a file was seen
// (agents by threatContentHash, threats by contentHashes) and the host's history.
func TestContentHashFilters(t *testing.T) {
	sc := fixture()
	other := fixtureThreat("1910000000000000009", macAgent, "5m")
	other.SHA1 = strings.Repeat("b", 40)
	sc.Threats = append(sc.Threats, other)
	e := newEnv(t, sc)

	resp := e.json("GET", apiURL+"/agents"+q("threatContentHash", strings.ToUpper(sha1Example), "countOnly", "true"), nil, 200)
	// winAgent (two threats), linuxAgent, noVSSAgent and macAgent all saw sha1Example.
	equal(t, get(resp, "pagination.totalItems").(float64), 4, "agents that saw the hash")
	resp = e.json("GET", apiURL+"/agents"+q("threatContentHash", other.SHA1), nil, 200)
	data := resp["data"].([]any)
	equal(t, len(data), 1, "agents that saw the other hash")
	equal(t, data[0].(obj)["id"].(string), macAgent, "the agent")

	resp = e.json("GET", apiURL+"/threats"+q("contentHashes", other.SHA1, "limit", "100"), nil, 200)
	equal(t, len(resp["data"].([]any)), 1, "threats with the other hash")
	resp = e.json("GET", apiURL+"/threats"+q("contentHashes", sha1Example+","+other.SHA1, "limit", "100"), nil, 200)
	equal(t, len(resp["data"].([]any)), 6, "threats with either hash")
}

func TestWorkloadBlocks(t *testing.T) {
	sc := fixture()
	sc.Threats[1].Workload = &scenario.Workload{
		Container:  &scenario.Container{ID: "c0ffee", Name: "web", Image: "nginx:1.25"},
		Kubernetes: &scenario.Kubernetes{Cluster: "prod-eu", Namespace: "shop", Pod: "web-7d9c", Node: "node-3", ControllerKind: "Deployment", ControllerName: "web"},
	}
	e := newEnv(t, sc)

	th := e.threat(tLinux)
	equal(t, get(th, "kubernetesInfo.namespace"), any("shop"), "namespace")
	equal(t, get(th, "kubernetesInfo.controllerKind"), any("Deployment"), "controller kind")
	equal(t, get(th, "containerInfo.image"), any("nginx:1.25"), "image")
	if v, ok := th["ecsInfo"].(obj)["clusterName"]; !ok || v != nil {
		t.Fatalf("ecsInfo.clusterName: got %v (present %t), want null", v, ok)
	}
	plain := e.threat(tWin)
	if v, ok := plain["kubernetesInfo"].(obj)["pod"]; !ok || v != nil {
		t.Fatalf("an endpoint threat's kubernetesInfo.pod: got %v (present %t), want null", v, ok)
	}
}

func TestWorkloadValidation(t *testing.T) {
	sc := fixture()
	sc.Threats[0].Workload = &scenario.Workload{Kubernetes: &scenario.Kubernetes{Cluster: "c"}}
	sc.Threats[1].Workload = &scenario.Workload{}
	_, err := simulator.New(sc, simulator.Options{Token: token})
	if err == nil {
		t.Fatal("New accepted a workload without namespace and pod, and an empty workload")
	}
	for _, want := range []string{"workload.kubernetes.namespace: required", "workload.kubernetes.pod: required", "workload: give container, kubernetes or ecs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
