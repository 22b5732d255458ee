package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/s1copilot/s1copilot/codec"
)

// clearCodecEnv unsets the codec variables, which config.Usage (the worker's) omits.
func clearCodecEnv(t *testing.T) {
	t.Helper()
	clearEnv(t)
	for _, v := range []string{"CODEC_KEYS", "CODEC_KEYS_FILE", "CODEC_SERVER_ADDR", "CODEC_SERVER_TOKENS", "CODEC_SERVER_TOKENS_FILE", "CODEC_SERVER_ORIGINS", "CODEC_SERVER_NAMESPACES", "CODEC_SERVER_ALLOW_UNAUTHENTICATED"} {
		t.Setenv("S1C_"+v, "") // restored after the test
		require.NoError(t, os.Unsetenv("S1C_"+v))
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestCodecServerDecodesWithAToken(t *testing.T) {
	clearCodecEnv(t)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	t.Setenv("S1C_CODEC_KEYS", "k1:"+key)
	t.Setenv("S1C_CODEC_SERVER_TOKENS", "starter-test-token")
	t.Setenv("S1C_CODEC_SERVER_NAMESPACES", "soc")
	t.Setenv("S1C_LOG_LEVEL", "error")
	addr := freeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"codec-server", "--addr", addr}) }()
	t.Cleanup(cancel)

	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)

	ring, err := codec.LoadKeyring("k1:" + key)
	require.NoError(t, err)
	p, err := codec.DataConverter(ring).ToPayload("FINANCE-LAPTOP-07")
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)

	post := func(token string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, base+"/decode", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "soc")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := post("")
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp = post("starter-test-token")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(buf.Bytes(), &out))
	require.Len(t, out.Payloads, 1)
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(out.Payloads[0], &s))
	assert.Equal(t, "FINANCE-LAPTOP-07", s)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err, "a cancelled context stops the server cleanly")
	case <-time.After(15 * time.Second):
		t.Fatal("the codec server did not stop")
	}
}

func TestCodecServerNeedsItsSettings(t *testing.T) {
	clearCodecEnv(t)
	t.Setenv("S1C_CODEC_KEYS", "k1:c2hvcnQ=")
	err := run(context.Background(), []string{"codec-server"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "S1C_CODEC_KEYS:")
	assert.Contains(t, err.Error(), "S1C_CODEC_SERVER_TOKENS (or S1C_CODEC_SERVER_TOKENS_FILE, or S1C_CODEC_SERVER_JWKS_FILE for the Web UI's forwarded credentials) is required")
	assert.NotContains(t, err.Error(), "c2hvcnQ=")
	assert.True(t, strings.Contains(run(context.Background(), []string{"codec-server", "extra"}).Error(), "takes no arguments"))
}
