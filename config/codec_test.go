package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func clearCodecEnv(t *testing.T) {
	t.Helper()
	for _, v := range []string{"CODEC_KEYS", "CODEC_KEYS_FILE", "CODEC_SERVER_ADDR", "CODEC_SERVER_TOKENS", "CODEC_SERVER_TOKENS_FILE", "CODEC_SERVER_ORIGINS", "CODEC_SERVER_NAMESPACES", "CODEC_SERVER_ALLOW_UNAUTHENTICATED", "TEMPORAL_NAMESPACE", "LOG_LEVEL"} {
		t.Setenv(Prefix+"_"+v, "")
		require.NoError(t, os.Unsetenv(Prefix+"_"+v))
	}
}

var (
	codecKeyA = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", 32)))
	codecKeyB = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
)

func TestCodecKeyring(t *testing.T) {
	k, err := Codec{}.Keyring()
	require.NoError(t, err)
	assert.Nil(t, k, "no keys: encryption off")

	k, err = Codec{Keys: Secret("new:" + codecKeyB + ",old:" + codecKeyA)}.Keyring()
	require.NoError(t, err)
	assert.Equal(t, "new", k.CurrentKeyID())

	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte("# current first\nf:"+codecKeyA+"\n"), 0o600))
	k, err = Codec{KeysFile: path}.Keyring()
	require.NoError(t, err)
	assert.Equal(t, "f", k.CurrentKeyID())

	_, err = Codec{Keys: Secret("x:" + codecKeyA), KeysFile: path}.Keyring()
	assert.ErrorContains(t, err, "not both")

	_, err = Codec{Keys: Secret("x:" + codecKeyA[:20])}.Keyring()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "S1C_CODEC_KEYS:")
	assert.NotContains(t, err.Error(), codecKeyA[:20])

	assert.Equal(t, "[redacted]", fmt.Sprint(Codec{Keys: Secret("x:" + codecKeyA)}.Keys))
}

func TestLoadCodecServer(t *testing.T) {
	clearCodecEnv(t)
	_, err := LoadCodecServer()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "S1C_CODEC_KEYS (or S1C_CODEC_KEYS_FILE) is required")
	assert.Contains(t, err.Error(), "S1C_CODEC_SERVER_TOKENS (or S1C_CODEC_SERVER_TOKENS_FILE, or S1C_CODEC_SERVER_JWKS_FILE for the Web UI's forwarded credentials) is required")

	t.Setenv("S1C_CODEC_KEYS", "k1:"+codecKeyA)
	t.Setenv("S1C_CODEC_SERVER_TOKENS", "tok-one, tok-two")
	t.Setenv("S1C_TEMPORAL_NAMESPACE", "soc")
	s, err := LoadCodecServer()
	require.NoError(t, err)
	assert.Equal(t, ":8089", s.Addr)
	assert.Equal(t, []string{"http://localhost:8233"}, s.Origins)
	assert.Equal(t, []string{"soc"}, s.Namespaces)
	tokens, err := s.AcceptedTokens()
	require.NoError(t, err)
	assert.Equal(t, []string{"tok-one", "tok-two"}, tokens)
	assert.NotContains(t, fmt.Sprintf("%v %+v", s, s), "tok-one")
	assert.NotContains(t, fmt.Sprintf("%v %+v", s, s), codecKeyA)

	t.Setenv("S1C_CODEC_SERVER_NAMESPACES", "a,b")
	t.Setenv("S1C_CODEC_SERVER_ORIGINS", "http://localhost:8233/ui,ftp://x")
	t.Setenv("S1C_CODEC_SERVER_ADDR", "8089")
	t.Setenv("S1C_CODEC_KEYS", "k1:"+codecKeyA+",k1:"+codecKeyB)
	s, err = LoadCodecServer()
	require.Error(t, err)
	assert.Equal(t, []string{"a", "b"}, s.Namespaces)
	for _, want := range []string{`"http://localhost:8233/ui" must be an origin`, `"ftp://x" must be an origin`, "S1C_CODEC_SERVER_ADDR", `key ID "k1" appears twice`} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), codecKeyA)
	assert.NotContains(t, err.Error(), codecKeyB)
}

func TestCodecServerTokensFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(path, []byte("# ops\nfile-token-1\n\nfile-token-2\n"), 0o600))
	tokens, err := CodecServer{TokensFile: path}.AcceptedTokens()
	require.NoError(t, err)
	assert.Equal(t, []string{"file-token-1", "file-token-2"}, tokens)

	_, err = CodecServer{TokensFile: path, Tokens: []Secret{"x"}}.AcceptedTokens()
	assert.ErrorContains(t, err, "not both")

	require.NoError(t, os.WriteFile(path, []byte("# none\n"), 0o600))
	_, err = CodecServer{TokensFile: path}.AcceptedTokens()
	assert.ErrorContains(t, err, "holds no token")

	clearCodecEnv(t)
	t.Setenv("S1C_CODEC_KEYS", "k1:"+codecKeyA)
	t.Setenv("S1C_CODEC_SERVER_ALLOW_UNAUTHENTICATED", "true")
	_, err = LoadCodecServer()
	assert.NoError(t, err, "no token needed when the demo opts in")
}

func TestCodecServerJWTNeedsIssuerAndAudience(t *testing.T) {
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	require.NoError(t, os.WriteFile(jwks, []byte(`{"keys":[{"kty":"EC","kid":"k","crv":"P-256","x":"AA","y":"AA"}]}`), 0o600))
	s := CodecServer{JWKSFile: jwks}
	_, err := s.JWTVerifier()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "S1C_CODEC_SERVER_JWT_ISSUER")
	s.JWTIssuer, s.JWTAudience = "https://idp.example.com/", "temporal-ui"
	_, err = s.JWTVerifier()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not on P-256", "a bad key set is refused at start, naming the file's problem")
}
