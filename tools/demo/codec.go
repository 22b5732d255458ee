package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/s1copilot/s1copilot/codec"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/tools/devstack"
	"github.com/s1copilot/s1copilot/workflows"
)

// demoCodec is the demo's payload encryption: a key made for this run, and the codec
// server the dev server's Web UI decodes through (no login in the demo, so the server
// takes unauthenticated requests, from the UI's origin only).
type demoCodec struct {
	// keysFile holds the key ring (S1C_CODEC_KEYS_FILE), so that the approve commands the
	// demo prints can name it.
	keysFile  string
	serverURL string
}

func newDemoCodec(o options) (*demoCodec, error) {
	key, err := codec.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("making the demo's payload key: %w", err)
	}
	d := &demoCodec{keysFile: filepath.Join(o.logs, "codec.keys"), serverURL: fmt.Sprintf("http://127.0.0.1:%d", o.codecPort)}
	if err := os.WriteFile(d.keysFile, []byte("# the demo's payload key, made for this run\ndemo:"+key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing the demo's payload key: %w", err)
	}
	return d, nil
}

// devServerArgs points the Web UI at the codec server.
func (d *demoCodec) devServerArgs() []string { return []string{"--ui-codec-endpoint", d.serverURL} }

func (d *demoCodec) env() []string { return []string{"S1C_CODEC_KEYS_FILE=" + d.keysFile} }

func (d *demoCodec) start(ctx context.Context, o options, procs *devstack.Supervisor, bin string) error {
	env := append(d.env(),
		fmt.Sprintf("S1C_CODEC_SERVER_ADDR=127.0.0.1:%d", o.codecPort),
		fmt.Sprintf("S1C_CODEC_SERVER_ORIGINS=http://127.0.0.1:%d,http://localhost:%d", o.uiPort, o.uiPort),
		"S1C_CODEC_SERVER_ALLOW_UNAUTHENTICATED=true",
		"S1C_LOG_LEVEL=error",
	)
	if err := procs.Start(devstack.Proc{Name: "codec-server", Path: filepath.Join(bin, "starter"), Args: []string{"codec-server"}, Env: env}); err != nil {
		return err
	}
	if err := devstack.WaitForHTTP(ctx, d.serverURL+"/healthz", 30*time.Second); err != nil {
		return fmt.Errorf("codec server: %w (log: %s)", err, filepath.Join(o.logs, "codec-server.log"))
	}
	return nil
}

// client is c reading and writing encrypted payloads, as every s1copilot process does.
func (d *demoCodec) client(c client.Client) (client.Client, error) {
	o := client.Options{Namespace: "default", Logger: devstack.QuietLogger{}}
	if err := (config.Temporal{Codec: config.Codec{KeysFile: d.keysFile}}).Encrypt(&o); err != nil {
		return nil, err
	}
	return client.NewClientFromExisting(c, o)
}

// check proves what the Web UI shows: the stored history (read without the key) holds
// none of the threats' host names, and the codec server gives them back.
func (d *demoCodec) check(ctx context.Context, raw client.Client, threats []seededThreat) []string {
	var problems []string
	var payloads []*commonpb.Payload
	var hosts []string
	for _, t := range threats {
		hosts = append(hosts, t.Agent)
		it := raw.GetWorkflowHistory(ctx, workflows.WorkflowID(t.ID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return append(problems, fmt.Sprintf("reading the history of %s: %v", t.ID, err))
			}
			text, _ := protojson.Marshal(ev)
			_ = proxy.VisitPayloads(ctx, ev, proxy.VisitPayloadsOptions{Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				for _, p := range ps {
					text = append(text, p.GetData()...)
					if _, isSearchAttribute := p.GetMetadata()["type"]; !isSearchAttribute {
						payloads = append(payloads, p)
					}
				}
				return ps, nil
			}})
			if bytes.Contains(text, []byte(t.Agent)) {
				problems = append(problems, fmt.Sprintf("the history of %s holds its host name %s in clear text", t.ID, t.Agent))
				break
			}
		}
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		return append(problems, err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.serverURL+"/decode", bytes.NewReader(body))
	if err != nil {
		return append(problems, err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return append(problems, fmt.Sprintf("codec server: %v", err))
	}
	defer resp.Body.Close()
	decoded, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return append(problems, fmt.Sprintf("codec server: %s: %s", resp.Status, decoded))
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(decoded, &out); err != nil {
		return append(problems, fmt.Sprintf("codec server answer: %v", err))
	}
	var plain strings.Builder
	for _, p := range out.Payloads {
		plain.Write(p.GetData())
	}
	for _, h := range hosts {
		if !strings.Contains(plain.String(), h) {
			problems = append(problems, fmt.Sprintf("the codec server did not decode %s's payloads", h))
		}
	}
	return problems
}

// browserFlags run Debian's Chromium headless on a machine without internet: without the
// background-networking flags it keeps trying to reach Google's hosts.
var browserFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync", "--virtual-time-budget=20000", "--dump-dom"}

// checkWebUI loads an investigation's page of the Temporal Web UI in headless Chromium
// and looks for its host name, which Temporal stores only encrypted: it is on the page
// only if the UI decoded the payloads through the codec server. Without Chromium the check
// is skipped, unless S1C_REQUIRE_BROWSER=1 (CI).
func (d *demoCodec) checkWebUI(ctx context.Context, out io.Writer, c client.Client, uiPort int, t seededThreat) []string {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("S1C_REQUIRE_BROWSER") == "1" {
			return []string{"S1C_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)"}
		}
		fmt.Fprintln(out, "(no chromium on PATH: the Web UI's decoding is not checked in a browser)")
		return nil
	}
	desc, err := c.DescribeWorkflowExecution(ctx, workflows.WorkflowID(t.ID), "")
	if err != nil {
		return []string{fmt.Sprintf("describing %s: %v", t.ID, err)}
	}
	page := fmt.Sprintf("http://127.0.0.1:%d/namespaces/default/workflows/%s/%s/history", uiPort,
		url.PathEscape(workflows.WorkflowID(t.ID)), desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	profile, err := os.MkdirTemp("", "s1c-demo-chromium-")
	if err != nil {
		return []string{err.Error()}
	}
	defer func() { _ = os.RemoveAll(profile) }()
	// A loaded machine may render the page after the virtual time budget: try again.
	for attempt := 1; ; attempt++ {
		bctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		dom, err := exec.CommandContext(bctx, chromium, append(slices.Clone(browserFlags), "--user-data-dir="+profile, page)...).Output()
		cancel()
		if err != nil {
			return []string{fmt.Sprintf("chromium on %s: %v", page, err)}
		}
		if bytes.Contains(dom, []byte(t.Agent)) {
			break
		}
		if attempt == 3 {
			return []string{fmt.Sprintf("the Web UI's page of %s does not show its host %s after %d loads: the payloads were not decoded through the codec server (%s)", t.ID, t.Agent, attempt, page)}
		}
	}
	fmt.Fprintf(out, "Web UI checked in headless Chromium: %s shows %s, decoded through the codec server.\n", t.ID, t.Agent)
	return nil
}
