package codec

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	testToken  = "codec-token-0123456789abcdef"
	testOrigin = "http://localhost:8233"
)

func testServer(t *testing.T, mut ...func(*ServerOptions)) (http.Handler, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	o := ServerOptions{
		Codec:          NewCodec(testRing(t)),
		Namespaces:     []string{"default"},
		Tokens:         []string{"other-token", testToken},
		AllowedOrigins: []string{testOrigin},
		Logger:         zap.New(core),
	}
	for _, m := range mut {
		m(&o)
	}
	h, err := NewServer(o)
	require.NoError(t, err)
	return h, logs
}

func payloadsBody(t *testing.T, ps ...*commonpb.Payload) []byte {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	return b
}

func do(h http.Handler, method, path string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func authed(extra ...string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + testToken, "X-Namespace": "default"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func encryptedBody(t *testing.T, v any) []byte {
	t.Helper()
	p, err := DataConverter(testRing(t)).ToPayload(v)
	require.NoError(t, err)
	return payloadsBody(t, p)
}

func decodeResponse(t *testing.T, rec *httptest.ResponseRecorder) []*commonpb.Payload {
	t.Helper()
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return out.Payloads
}

func TestServerRequiresAToken(t *testing.T) {
	h, logs := testServer(t)
	body := encryptedBody(t, "FINANCE-LAPTOP-07")
	for name, hdr := range map[string]map[string]string{
		"no token":     {"X-Namespace": "default"},
		"wrong token":  {"X-Namespace": "default", "Authorization": "Bearer wrong-token-value"},
		"basic auth":   {"X-Namespace": "default", "Authorization": "Basic " + testToken},
		"token prefix": {"X-Namespace": "default", "Authorization": "Bearer " + testToken[:10]},
	} {
		rec := do(h, http.MethodPost, "/decode", body, hdr)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.NotContains(t, rec.Body.String(), "FINANCE", name)
		assert.NotContains(t, rec.Body.String(), "wrong-token-value", name)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
	}
	for _, e := range logs.All() {
		for _, f := range e.Context {
			assert.NotContains(t, f.String, "wrong-token-value")
			assert.NotContains(t, f.String, testToken)
		}
	}
}

func TestServerDecodesWithAToken(t *testing.T) {
	h, _ := testServer(t)
	rec := do(h, http.MethodPost, "/decode", encryptedBody(t, "FINANCE-LAPTOP-07"), authed())
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	ps := decodeResponse(t, rec)
	require.Len(t, ps, 1)
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(ps[0], &s))
	assert.Equal(t, "FINANCE-LAPTOP-07", s)

	// A path prefix (the UI's endpoint may be https://host/codec) works too.
	rec = do(h, http.MethodPost, "/codec/decode", encryptedBody(t, "x"), authed())
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestServerRefusesOtherNamespaces(t *testing.T) {
	h, _ := testServer(t)
	rec := do(h, http.MethodPost, "/decode", encryptedBody(t, "FINANCE-LAPTOP-07"), authed("X-Namespace", "prod"))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, rec.Body.String(), `namespace "prod" is not served`)
	assert.NotContains(t, rec.Body.String(), "FINANCE")

	rec = do(h, http.MethodPost, "/decode", encryptedBody(t, "x"), map[string]string{"Authorization": "Bearer " + testToken})
	assert.Equal(t, http.StatusForbidden, rec.Code, "no X-Namespace")
}

func TestServerCORS(t *testing.T) {
	h, _ := testServer(t)
	pre := map[string]string{"Origin": testOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace,authorization"}
	rec := do(h, http.MethodOptions, "/decode", nil, pre)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, testOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "POST", rec.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "Content-Type,X-Namespace,Authorization", rec.Header().Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))

	pre["Origin"] = "https://evil.example"
	rec = do(h, http.MethodOptions, "/decode", nil, pre)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	for _, hdr := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials"} {
		assert.Empty(t, rec.Header().Get(hdr), hdr)
	}

	// The actual request carries the origin echo too (and only for an allowed origin).
	rec = do(h, http.MethodPost, "/decode", encryptedBody(t, "x"), authed("Origin", testOrigin))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, testOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	rec = do(h, http.MethodPost, "/decode", encryptedBody(t, "x"), authed("Origin", "https://evil.example"))
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestServerBodyLimit(t *testing.T) {
	h, _ := testServer(t)
	huge := payloadsBody(t, &commonpb.Payload{Data: bytes.Repeat([]byte("a"), DefaultMaxBodyBytes)})
	rec := do(h, http.MethodPost, "/decode", huge, authed())
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)

	// Without a Content-Length (chunked), the limit holds while reading.
	req := httptest.NewRequest(http.MethodPost, "/decode", io.MultiReader(bytes.NewReader(huge)))
	req.ContentLength = -1
	for k, v := range authed() {
		req.Header.Set(k, v)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)

	h, _ = testServer(t, func(o *ServerOptions) { o.MaxBodyBytes = 100 })
	rec = do(h, http.MethodPost, "/decode", huge[:200], authed())
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

func TestServerEncodeDecodeRoundTrip(t *testing.T) {
	h, _ := testServer(t)
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"host": "FINANCE-LAPTOP-07", "user": "jdoe"})
	require.NoError(t, err)
	rec := do(h, http.MethodPost, "/encode", payloadsBody(t, plain), authed())
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), "FINANCE")
	enc := decodeResponse(t, rec)
	require.Len(t, enc, 1)
	assert.Equal(t, MetadataEncodingEncrypted, string(enc[0].Metadata[converter.MetadataEncoding]))

	rec = do(h, http.MethodPost, "/decode", payloadsBody(t, enc...), authed())
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	dec := decodeResponse(t, rec)
	require.Len(t, dec, 1)
	var got map[string]string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &got))
	assert.Equal(t, map[string]string{"host": "FINANCE-LAPTOP-07", "user": "jdoe"}, got)
}

func TestServerDecodeErrorsNameTheKeyNotTheKeyMaterial(t *testing.T) {
	h, _ := testServer(t)
	p, err := DataConverter(testRing(t, Key{ID: "elsewhere", Key: testKey(9)})).ToPayload("x")
	require.NoError(t, err)
	rec := do(h, http.MethodPost, "/decode", payloadsBody(t, p), authed())
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `key ID "elsewhere"`)
	assert.NotContains(t, rec.Body.String(), base64.StdEncoding.EncodeToString(testKey(1)))
}

func TestServerHealthAndMethods(t *testing.T) {
	h, _ := testServer(t)
	rec := do(h, http.MethodGet, "/healthz", nil, nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ok\n", rec.Body.String())
	rec = do(h, http.MethodGet, "/decode", nil, authed())
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	rec = do(h, http.MethodPost, "/other", nil, authed())
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

func TestServerUnauthenticatedIsAnExplicitOptIn(t *testing.T) {
	_, err := NewServer(ServerOptions{Codec: NewCodec(testRing(t)), Namespaces: []string{"default"}})
	assert.ErrorContains(t, err, "at least one token or a JWT verifier is required")
	_, err = NewServer(ServerOptions{Codec: NewCodec(testRing(t)), Tokens: []string{"t"}})
	assert.ErrorContains(t, err, "namespace")

	h, _ := testServer(t, func(o *ServerOptions) { o.Tokens = nil; o.AllowUnauthenticated = true })
	rec := do(h, http.MethodPost, "/decode", encryptedBody(t, "x"), map[string]string{"X-Namespace": "default"})
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(rec.Body.String()), "{"))
}

// The Web UI, configured to forward its users' credentials, sends their access token in
// the same Authorization header: a listed token is accepted whatever its form.
func TestServerAcceptsForwardedUITokens(t *testing.T) {
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbmFseXN0In0.c2lnbmF0dXJl"
	h, _ := testServer(t, func(o *ServerOptions) { o.Tokens = []string{jwt} })
	rec := do(h, http.MethodPost, "/decode", encryptedBody(t, "x"), map[string]string{"Authorization": "bearer " + jwt, "X-Namespace": "default", "Origin": testOrigin})
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	rec = do(h, http.MethodPost, "/decode", encryptedBody(t, "x"), map[string]string{"Authorization": "Bearer " + jwt + "x", "X-Namespace": "default"})
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}
