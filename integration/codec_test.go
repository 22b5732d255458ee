package integration

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/s1copilot/s1copilot/codec"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/workflows"
)

// Fixed test keys (base64 of 32 bytes); never used anywhere else.
const (
	oldKey = "k2026a:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	newKey = "k2026b:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
)

// With a key ring, no host, user, path or file name of a threat reaches Temporal in
// clear text; the search attributes (IDs and enums) stay readable; the codec server
// decodes for an authorised caller only; a rotated key ring still reads old histories;
// a ring without the key fails clearly.
func TestHistoriesAreEncrypted(t *testing.T) {
	s := newStack(t, stackOptions{config: func(c *config.Config) { c.Temporal.Codec.Keys = oldKey }})
	threats := []string{"1910000000000000002", "1910000000000000003"} // SALES-LT-042 (jmorales), HR-DT-007 (pnguyen)
	for _, id := range threats {
		_, err := s.inv.Start(s.ctx, id, workflows.StartHint{})
		require.NoError(t, err)
	}
	approved := map[string]bool{}
	waitUntil(t, s.ctx, "both investigations finished", func() bool {
		s.approveWaiting(threats, approved)
		return !s.anyRunning(threats)
	})
	// Hosts, users, file names and the macro's command line (maliciousProcessArguments).
	secrets := []string{"SALES-LT-042", "HR-DT-007", "jmorales", "pnguyen", "invoice_2611", "SearchBarPlusSetup", "CORP",
		"-Exec Bypass -enc SQBFAFgA", "WINWORD.EXE"}
	var payloads []*commonpb.Payload
	for _, id := range threats {
		text := s.historyText(t, id)
		for _, sec := range secrets {
			assert.NotContains(t, text, sec, "history of %s", id)
		}
		_ = proxy.VisitPayloads(context.Background(), s.history(t, id), proxy.VisitPayloadsOptions{
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				payloads = append(payloads, ps...)
				return ps, nil
			},
		})
		// Search attributes are written in clear (the SDK does not run them through the
		// codec): the Web UI lists and filters by them without the key.
		stage, running := s.stage(id)
		assert.False(t, running)
		assert.NotEmpty(t, stage, "the stage search attribute reads without the key")
	}
	require.NotEmpty(t, payloads)
	for _, p := range payloads {
		if _, isSearchAttribute := p.GetMetadata()["type"]; isSearchAttribute {
			continue // in clear by design, and checked above to hold no host or user
		}
		assert.Equal(t, codec.MetadataEncodingEncrypted, string(p.GetMetadata()["encoding"]))
	}

	// The codec server decodes them for a caller with a token, and for nobody else.
	oldRing, err := config.Codec{Keys: oldKey}.Keyring()
	require.NoError(t, err)

	// What encryption costs in history size: the same history with its payloads decoded.
	for _, id := range threats {
		h := s.history(t, id)
		encrypted := proto.Size(h)
		plain := proto.Clone(h).(*historypb.History)
		require.NoError(t, proxy.VisitPayloads(context.Background(), plain, proxy.VisitPayloadsOptions{
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return codec.NewCodec(oldRing).Decode(ps)
			},
		}))
		t.Logf("history of %s: %d bytes encrypted, %d bytes plain (%+.1f%%)", id, encrypted, proto.Size(plain), 100*float64(encrypted-proto.Size(plain))/float64(proto.Size(plain)))
		assert.Less(t, encrypted, 2*proto.Size(plain), "encryption at most doubles a history")
	}
	h, err := codec.NewServer(codec.ServerOptions{Codec: codec.NewCodec(oldRing), Namespaces: []string{"default"}, Tokens: []string{"analyst-token"}, AllowedOrigins: []string{"http://localhost:8233"}})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	require.NoError(t, err)
	decode := func(auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := decode("Bearer analyst-token")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var decoded commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(rec.Body.Bytes(), &decoded))
	var plain strings.Builder
	for _, p := range decoded.Payloads {
		plain.Write(p.GetData())
	}
	assert.Contains(t, plain.String(), "SALES-LT-042", "an authorised caller reads the threat")
	for _, auth := range []string{"", "Bearer wrong-token"} {
		rec := decode(auth)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.NotContains(t, rec.Body.String(), "SALES-LT-042")
	}

	// Rotation: a ring with a new current key still reads what the old key wrote.
	rotated := config.Temporal{Address: s.cfg.Temporal.Address, Namespace: "default", Codec: config.Codec{Keys: config.Secret(newKey + "," + oldKey)}}
	c, err := rotated.Dial(s.ctx, client.Options{})
	require.NoError(t, err)
	defer c.Close()
	var r workflows.Result
	require.NoError(t, c.GetWorkflow(s.ctx, workflows.WorkflowID(threats[0]), "").Get(s.ctx, &r))
	assert.Equal(t, threats[0], r.ThreatID)

	// A ring without the key that wrote them fails, naming the key it needs.
	withoutOld := config.Temporal{Address: s.cfg.Temporal.Address, Namespace: "default", Codec: config.Codec{Keys: config.Secret(newKey)}}
	c2, err := withoutOld.Dial(s.ctx, client.Options{})
	require.NoError(t, err)
	defer c2.Close()
	err = c2.GetWorkflow(s.ctx, workflows.WorkflowID(threats[0]), "").Get(s.ctx, &r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "k2026a")
}
