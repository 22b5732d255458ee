package codec

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "temporal-ui"
)

// idp is a throwaway identity provider: an RSA and a P-256 key, published as a JWKS.
type idp struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	jwks []byte
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	pad := func(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "rsa-1", "use": "sig", "n": b64(rk.N.Bytes()), "e": b64([]byte{1, 0, 1})},
		{"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": b64(pad(ek.X.Bytes())), "y": b64(pad(ek.Y.Bytes()))},
	}})
	require.NoError(t, err)
	return &idp{rsa: rk, ec: ek, jwks: jwks}
}

func (p *idp) sign(t *testing.T, alg, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch alg {
	case "RS256":
		s, err := rsa.SignPKCS1v15(rand.Reader, p.rsa, crypto.SHA256, digest[:])
		require.NoError(t, err)
		sig = s
	case "ES256":
		r, s, err := ecdsa.Sign(rand.Reader, p.ec, digest[:])
		require.NoError(t, err)
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case "HS256": // an attacker "signing" with the public key as an HMAC secret
		m := hmac.New(sha256.New, p.jwks)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "none":
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func goodClaims(now time.Time) map[string]any {
	return map[string]any{"iss": testIssuer, "aud": []string{"other", testAudience}, "exp": now.Add(time.Hour).Unix(),
		"sub": "alice", "groups": []string{"soc-analysts"}}
}

func TestJWTVerifierAcceptsOnlyWhatTheProviderSigned(t *testing.T) {
	p := newIDP(t)
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	v, err := NewJWTVerifier(JWTOptions{JWKS: p.jwks, Issuer: testIssuer, Audience: testAudience, Groups: []string{"soc-analysts", "soc-leads"}})
	require.NoError(t, err)
	v.Now = func() time.Time { return now }

	with := func(change func(map[string]any)) map[string]any {
		c := goodClaims(now)
		change(c)
		return c
	}
	assert.NoError(t, v.Verify(p.sign(t, "RS256", "rsa-1", goodClaims(now))))
	assert.NoError(t, v.Verify(p.sign(t, "ES256", "ec-1", goodClaims(now))))
	assert.NoError(t, v.Verify(p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { c["aud"] = testAudience }))), "aud as one string")

	refused := map[string]string{
		"expired":            p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() })),
		"no expiry":          p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { delete(c, "exp") })),
		"not yet valid":      p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"another issuer":     p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { c["iss"] = "https://evil.example/" })),
		"another audience":   p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { c["aud"] = "grafana" })),
		"no allowed group":   p.sign(t, "RS256", "rsa-1", with(func(c map[string]any) { c["groups"] = []string{"sales"} })),
		"unknown key":        p.sign(t, "RS256", "rsa-2", goodClaims(now)),
		"alg none":           p.sign(t, "none", "rsa-1", goodClaims(now)),
		"HMAC with the JWKS": p.sign(t, "HS256", "rsa-1", goodClaims(now)),
		"RS key, ES alg":     p.sign(t, "ES256", "rsa-1", goodClaims(now)),
		"not a JWT":          "codec-token-0123456789abcdef",
	}
	tampered := strings.Split(p.sign(t, "RS256", "rsa-1", goodClaims(now)), ".")
	forged, _ := json.Marshal(with(func(c map[string]any) { c["groups"] = []string{"soc-leads"} }))
	tampered[1] = base64.RawURLEncoding.EncodeToString(forged)
	refused["claims changed after signing"] = strings.Join(tampered, ".")
	for name, tok := range refused {
		assert.Error(t, v.Verify(tok), name)
	}
}

func TestJWKSErrorsSayWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ jwks, want string }{
		{`not json`, "not a JSON Web Key Set"},
		{`{"keys":[]}`, "no signing key"},
		{`{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}`, `key type "oct"`},
		{`{"keys":[{"kty":"EC","kid":"k","crv":"P-384","x":"AA","y":"AA"}]}`, "only P-256"},
		{`{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`, "2048 bits"},
	} {
		_, err := NewJWTVerifier(JWTOptions{JWKS: []byte(tc.jwks)})
		require.Error(t, err, tc.jwks)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// The Web UI forwards its user's access token: the server decodes for a verified one,
// refuses a forged one, and logs why without the token.
func TestServerAcceptsTheUIsForwardedCredentials(t *testing.T) {
	p := newIDP(t)
	v, err := NewJWTVerifier(JWTOptions{JWKS: p.jwks, Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	h, logs := testServer(t, func(o *ServerOptions) { o.Tokens, o.JWT = nil, v })
	good := p.sign(t, "ES256", "ec-1", goodClaims(time.Now()))
	rec := do(h, http.MethodPost, "/decode", encryptedBody(t, "FINANCE-LAPTOP-07"), map[string]string{"Authorization": "Bearer " + good, "X-Namespace": "default", "Origin": testOrigin})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), base64.StdEncoding.EncodeToString([]byte(`"FINANCE-LAPTOP-07"`)))

	expired := p.sign(t, "ES256", "ec-1", map[string]any{"iss": testIssuer, "aud": testAudience, "exp": time.Now().Add(-time.Hour).Unix()})
	rec = do(h, http.MethodPost, "/decode", encryptedBody(t, "FINANCE-LAPTOP-07"), map[string]string{"Authorization": "Bearer " + expired, "X-Namespace": "default"})
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.NotContains(t, rec.Body.String(), "FINANCE")
	for _, e := range logs.All() {
		assert.NotContains(t, fmt.Sprint(e.Message, e.Context), expired, "a token never reaches the log")
	}
	assert.NotEmpty(t, logs.FilterMessageSnippet("forwarded credentials refused").All())
}

// The provider rotates its signing key: after a refresh from its jwks_uri, tokens with
// the new key verify and tokens with the retired one do not.
func TestJWKSRefreshFollowsTheProvidersRotation(t *testing.T) {
	oldIDP, newIDP := newIDP(t), newIDP(t)
	serving := oldIDP.jwks
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(serving) }))
	defer srv.Close()
	raw, err := FetchJWKS(context.Background(), nil, srv.URL)
	require.NoError(t, err)
	v, err := NewJWTVerifier(JWTOptions{JWKS: raw, Issuer: testIssuer, Audience: testAudience})
	require.NoError(t, err)
	oldTok := oldIDP.sign(t, "RS256", "rsa-1", goodClaims(time.Now()))
	newTok := newIDP.sign(t, "RS256", "rsa-1", goodClaims(time.Now()))
	require.NoError(t, v.Verify(oldTok))
	require.Error(t, v.Verify(newTok))

	serving = newIDP.jwks
	require.NoError(t, v.refresh(context.Background(), nil, srv.URL))
	assert.NoError(t, v.Verify(newTok))
	assert.Error(t, v.Verify(oldTok), "a retired key no longer verifies")

	serving = []byte("<html>maintenance</html>")
	assert.Error(t, v.refresh(context.Background(), nil, srv.URL))
	assert.NoError(t, v.Verify(newTok), "a failed refresh keeps the current keys")
}
