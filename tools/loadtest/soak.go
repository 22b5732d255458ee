package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

// Distinctive values, so a leak is found by a plain substring search.
const (
	soakS1Token  = "s1tok-LOADTEST-5e7a91c3-NEVER-LOG"
	soakModelKey = "sk-LOADTEST-b4d2e806-NEVER-LOG"
	soakModel    = "loadtest-faulty-model"
)

// soakFaults is the fault profile: 20 % 5xx, 429 bursts alternating with and
// without Retry-After, 2 s latency spikes, 1 % invalid JSON.
const soakFaults = `{"serverErrorRate":0.2,"rateLimitBurstEvery":25,"rateLimitBurstLength":3,"latencySpikeRate":0.03,"latencySpike":"2s","invalidJsonRate":0.01,"seed":%d}`

func soakCommand(ctx context.Context, args []string) (Report, error) {
	fs := flag.NewFlagSet("loadtest soak", flag.ContinueOnError)
	var c common
	c.register(fs, "soak", 100, 5, 20*time.Minute)
	faults := fs.String("faults", "", "simulator fault profile or JSON (default: the issue's profile, seeded with -seed)")
	afterSideEffects := fs.Bool("faults-after-side-effects", true, "inject 5xx after the simulator applied the request (the answer is lost, the action is not)")
	if err := fs.Parse(args); err != nil {
		return Report{}, err
	}
	if *faults == "" {
		*faults = fmt.Sprintf(soakFaults, c.seed)
	}
	fcfg, err := simulator.ParseFaults(*faults)
	if err != nil {
		return Report{}, err
	}
	plan, err := c.plan()
	if err != nil {
		return Report{}, err
	}
	model := &faultyModel{key: soakModelKey, hang: 6 * time.Second}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Report{}, fmt.Errorf("model endpoint listener: %w", err)
	}
	msrv := &http.Server{Handler: model, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = msrv.Serve(mln) }()
	defer msrv.Close()

	o := stackOptions{
		bin: c.bin, temporal: c.temporal, dir: c.dir, workers: c.workers, plan: plan,
		token: soakS1Token,
		simOpts: simulator.Options{MitigationDelay: 2 * time.Second, IsolationDelay: time.Second,
			Faults: fcfg, FaultsAfterSideEffects: *afterSideEffects, EnforceRateLimits: true},
		env: []string{
			"S1C_POLL_INTERVAL=2s", "S1C_POLL_LOOKBACK=1h",
			// Verification reads fail often here: give a settled action time to be seen.
			"S1C_APPROVAL_TIMEOUT=2h", "S1C_MITIGATION_TIMEOUT=3m", "S1C_MITIGATION_POLL=2s",
			"S1C_LLM_BASE_URL=http://" + mln.Addr().String() + "/v1",
			"S1C_LLM_MODEL=" + soakModel, "S1C_LLM_API_KEY=" + soakModelKey,
			"S1C_LLM_TIMEOUT=3s", "S1C_LLM_CACHE_TTL=0",
			"S1C_LOG_LEVEL=debug", // the most verbose logs are the likeliest to leak
		},
	}
	fmt.Printf("soak: %d threats (%s), faults %s, after side effects %t; %s\n", c.threats, c.mix, *faults, *afterSideEffects, machine())
	start := time.Now()
	s, err := startStack(ctx, o)
	if err != nil {
		return Report{}, err
	}
	defer s.close()
	r := newRunner(s, plan, c.rate, c.timeout)
	ev, _, err := r.run(ctx, nil)
	if err != nil {
		return Report{}, err
	}
	ev.CheckFallbacks, ev.CheckSecrets = true, true
	ev.FallbackReasons = map[string]int{}
	for _, p := range plan {
		reason, ok := fallbackOf(s.sim.Notes(p.Threat.ID))
		switch {
		case !ok:
			ev.FallbackNotSaid = append(ev.FallbackNotSaid, p.Threat.ID)
		case reason != "":
			ev.FallbackReasons[reason]++
		}
	}
	ev.ModelCalls, ev.ModelCallsBadKey = int(model.calls.Load()), int(model.badKey.Load())
	leaks, err := findSecrets(ctx, r, c.dir, []string{soakS1Token, soakModelKey})
	if err != nil {
		return Report{}, err
	}
	ev.SecretLeaks = leaks
	ev.Elapsed = time.Since(start)
	rep := Evaluate(ev)
	rep.Print(os.Stdout, fmt.Sprintf("Fault soak: %d threats, seed %d (%s)", c.threats, c.seed, machine()))
	fmt.Printf("\nmodel endpoint answers: %s\nlogs and database: %s\n", model.summary(), c.dir)
	return rep, nil
}

// fallbackOf reads a threat's triage note: ok is false when there is no triage note or
// the rules analysed without the note saying why; reason is the fallback's kind
// ("model failed", …) or "" when the model's own analysis was used.
func fallbackOf(notes []string) (reason string, ok bool) {
	for _, n := range notes {
		if !strings.Contains(n, "s1copilot triage:") {
			continue
		}
		for _, line := range strings.Split(n, "\n") {
			rest, found := strings.CutPrefix(line, "Analyzer: ")
			if !found {
				continue
			}
			if _, fb, has := strings.Cut(rest, "(fallback: "); has {
				kind, _, _ := strings.Cut(fb, ":")
				kind, _, _ = strings.Cut(kind, " (")
				return strings.TrimSuffix(strings.TrimSpace(kind), ")"), true
			}
			// No fallback stated: only a model analysis may say nothing.
			return "", !strings.HasPrefix(rest, "rules")
		}
		return "", false
	}
	return "", false
}

// faultyModel is an OpenAI-compatible chat completions endpoint that never gives a
// usable answer: it hangs past the client's timeout, fails with 500 and 429, answers
// prose instead of JSON, or JSON outside the schema — in turn.
type faultyModel struct {
	key    string
	hang   time.Duration
	calls  atomic.Int64
	badKey atomic.Int64
	kinds  [5]atomic.Int64
}

var faultyKinds = [5]string{"timeout", "500", "429 Retry-After 1", "prose", "schema-invalid JSON"}

func (m *faultyModel) summary() string {
	var parts []string
	for i, k := range faultyKinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, m.kinds[i].Load()))
	}
	return strings.Join(parts, ", ")
}

func (m *faultyModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	n := m.calls.Add(1)
	if r.Header.Get("Authorization") != "Bearer "+m.key {
		m.badKey.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	k := int(n % int64(len(faultyKinds)))
	m.kinds[k].Add(1)
	w.Header().Set("Content-Type", "application/json")
	switch k {
	case 0:
		select {
		case <-r.Context().Done():
		case <-time.After(m.hang):
		}
		w.WriteHeader(http.StatusGatewayTimeout)
	case 1:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":{"message":"the model is overloaded","type":"server_error"}}`))
	case 2:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":{"message":"rate limit reached","type":"rate_limit_error"}}`))
	case 3:
		m.answer(w, "This looks like malware to me; I would kill it.")
	default:
		m.answer(w, `{"verdict":"definitely_bad","confidence":7,"summary":"","recommended_actions":["format_disk"]}`)
	}
}

func (m *faultyModel) answer(w http.ResponseWriter, content string) {
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-loadtest", "object": "chat.completion", "created": time.Now().Unix(), "model": soakModel,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content}}},
		"usage": map[string]int{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
	})
}

// findSecrets looks for the secrets in every log and audit file of the run, in the
// full history of every workflow (investigations, poller runs, the control workflow)
// and, as the operator would check, in `temporal workflow show --output json` of a
// few of them.
func findSecrets(ctx context.Context, r *runner, dir string, secrets []string) ([]string, error) {
	var leaks []string
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	files = append(files, filepath.Join(dir, "audit.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", f, err)
		}
		for i, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				leaks = append(leaks, fmt.Sprintf("secret #%d in %s", i+1, f))
			}
		}
	}
	var all []*workflowExecution
	if err := r.list(ctx, "", func(e *workflowExecution) { all = append(all, e) }); err != nil {
		return nil, err
	}
	for _, e := range all {
		it := r.s.c.GetWorkflowHistory(ctx, e.id, e.runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			event, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", e.id, err)
			}
			raw, err := proto.Marshal(event)
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", e.id, err)
			}
			for i, sec := range secrets {
				if bytes.Contains(raw, []byte(sec)) {
					leaks = append(leaks, fmt.Sprintf("secret #%d in the history of %s (event %d)", i+1, e.id, event.EventId))
				}
			}
		}
	}
	fmt.Printf("  secrets: searched %d log/audit files and the histories of %d workflows\n", len(files), len(all))
	for i, e := range all {
		if i >= 3 {
			break
		}
		out, err := exec.CommandContext(ctx, r.s.temporalPath, "workflow", "show", "--output", "json",
			"--address", r.s.hostPort, "-w", e.id, "-r", e.runID).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("temporal workflow show %s: %v: %s", e.id, err, out)
		}
		for j, sec := range secrets {
			if bytes.Contains(out, []byte(sec)) {
				leaks = append(leaks, fmt.Sprintf("secret #%d in `temporal workflow show` of %s", j+1, e.id))
			}
		}
	}
	return leaks, nil
}
