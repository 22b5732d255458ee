package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// workloadThreats are two cryptominers in the same Kubernetes deployment, added at start
// (the demo scenario holds only their node): each investigation's note says the other
// hit the same cluster, namespace and image.
var workloadThreats = []struct{ id, pod string }{
	{"1910000000000000006", "payments-api-7d9c5-x2k4p"},
	{"1910000000000000007", "payments-api-7d9c5-q8m3z"},
}

const workloadAgent = "1900000000000000006" // gke-prod-eu-pool-1-a1b2

// addWorkloadThreats adds them to the simulator and returns them with what the demo
// expects: the node is a server, so containment waits for approval.
func addWorkloadThreats(ctx context.Context, simURL string) ([]seededThreat, error) {
	var out []seededThreat
	for i, wt := range workloadThreats {
		th := map[string]any{
			"id": wt.id, "agentId": workloadAgent, "threatName": "kdevtmpfsi", "classification": "Miner", "classificationSource": "Static",
			"confidenceLevel": "malicious", "sha1": "5f1a7e3c9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a", "filePath": "/tmp/kdevtmpfsi",
			"fileVerificationType": "NotSigned", "maliciousProcessArguments": "/tmp/kdevtmpfsi -o pool.supportxmr.com:443 --tls",
			"originatorProcess": "sh", "processUser": "app", "initiatedBy": "agent_policy", "engines": []string{"On-Write DFI"},
			"detectionType": "static", "createdAgo": fmt.Sprintf("%ds", 90-30*i),
			"workload": map[string]any{
				"container": map[string]any{"id": fmt.Sprintf("%064d", i+1), "name": "app", "image": "registry.example.com/payments/api:1.4.2"},
				"kubernetes": map[string]any{"cluster": "prod-eu", "namespace": "payments", "pod": wt.pod, "node": "gke-prod-eu-pool-1-a1b2",
					"controllerKind": "Deployment", "controllerName": "payments-api"},
			},
		}
		body, _ := json.Marshal(th)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, simURL+"/sim/threats", bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("adding the workload threat %s: %w", wt.id, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return nil, fmt.Errorf("adding the workload threat %s: %s: %s", wt.id, resp.Status, msg)
		}
		out = append(out, seededThreat{ID: wt.id, Name: "kdevtmpfsi", Agent: "gke-prod-eu-pool-1-a1b2",
			Expect: &expectation{Verdict: "true_positive", Outcome: "mitigated", NeedsApproval: true}})
	}
	return out, nil
}

// workloadLine is the "Same workload" line of a threat's triage note, or "".
func workloadLine(ctx context.Context, simURL, threatID string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, simURL+"/sim/threats/"+threatID+"/notes", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Notes []string `json:"notes"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return ""
	}
	for _, n := range body.Notes {
		// A note shared by an outbreak's threats lists each one's own lines under "- <id>".
		shared, mine := strings.Contains(n, "\nThreats:\n"), false
		for _, line := range strings.Split(n, "\n") {
			if strings.HasPrefix(line, "- ") {
				mine = strings.HasPrefix(line, "- "+threatID+" ")
			}
			if l := strings.TrimSpace(line); strings.HasPrefix(l, "Same workload:") && (!shared || mine) {
				return l
			}
		}
	}
	return ""
}

// checkWorkloads: each workload threat's note names the other in its cluster.
func (w *watcher) checkWorkloads(ctx context.Context) []string {
	var problems []string
	for _, wt := range workloadThreats {
		line := workloadLine(ctx, w.simURL, wt.id)
		if !strings.Contains(line, "cluster prod-eu") {
			problems = append(problems, fmt.Sprintf("%s: the triage note does not name the other threat in cluster prod-eu (%q)", wt.id, line))
		}
	}
	return problems
}
