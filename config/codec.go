package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/s1copilot/s1copilot/codec"
)

// Codec is the payload encryption key ring (package codec): with neither variable set,
// payloads are stored unencrypted.
type Codec struct {
	Keys     Secret `envconfig:"CODEC_KEYS" desc:"payload encryption key ring: id:base64key[,id:base64key...], 32-byte AES-256 keys, the first encrypts, all decrypt (rotation: put the new key first, keep the old ones); empty = payloads unencrypted"`
	KeysFile string `envconfig:"CODEC_KEYS_FILE" desc:"file holding the key ring instead of S1C_CODEC_KEYS: one id:base64key per line, # comments, the first key encrypts"`
}

// Enabled says whether a key ring is configured.
func (c Codec) Enabled() bool { return c.Keys != "" || c.KeysFile != "" }

// Keyring is the configured key ring, nil when encryption is off. Errors name the
// variable to fix and never include a key.
func (c Codec) Keyring() (*codec.Keyring, error) {
	switch {
	case c.Keys != "" && c.KeysFile != "":
		return nil, fmt.Errorf("set one of %s_CODEC_KEYS and %s_CODEC_KEYS_FILE, not both", Prefix, Prefix)
	case c.Keys != "":
		k, err := codec.LoadKeyring(c.Keys.Reveal())
		if err != nil {
			return nil, fmt.Errorf("%s_CODEC_KEYS: %w", Prefix, err)
		}
		return k, nil
	case c.KeysFile != "":
		k, err := codec.LoadKeyringFile(c.KeysFile)
		if err != nil {
			return nil, fmt.Errorf("%s_CODEC_KEYS_FILE: %w", Prefix, err)
		}
		return k, nil
	}
	return nil, nil
}

// CodecServer is what starter codec-server reads: the key ring and who may use it.
type CodecServer struct {
	Codec      Codec
	Addr       string   `envconfig:"CODEC_SERVER_ADDR" default:":8089" desc:"address the codec server listens on (starter codec-server)"`
	Tokens     []Secret `envconfig:"CODEC_SERVER_TOKENS" desc:"comma-separated bearer tokens the codec server accepts (Authorization: Bearer <token>), including the Web UI's forwarded access tokens"`
	TokensFile string   `envconfig:"CODEC_SERVER_TOKENS_FILE" desc:"file of accepted bearer tokens instead of S1C_CODEC_SERVER_TOKENS: one per line, # comments"`
	// The Web UI's forwarded credentials (its users' OIDC access tokens), verified.
	JWKSFile    string   `envconfig:"CODEC_SERVER_JWKS_FILE" desc:"the identity provider's JSON Web Key Set (its jwks_uri body, e.g. a mounted ConfigMap): the codec server then accepts the Web UI users' forwarded access tokens it signed (RS256/ES256)"`
	JWKSURL     string   `envconfig:"CODEC_SERVER_JWKS_URL" desc:"the identity provider's jwks_uri, fetched at start and every 10 minutes (instead of S1C_CODEC_SERVER_JWKS_FILE); https, or http on loopback"`
	JWTIssuer   string   `envconfig:"CODEC_SERVER_JWT_ISSUER" desc:"with S1C_CODEC_SERVER_JWKS_FILE: the iss a forwarded token must carry"`
	JWTAudience string   `envconfig:"CODEC_SERVER_JWT_AUDIENCE" desc:"with S1C_CODEC_SERVER_JWKS_FILE: an aud a forwarded token must carry"`
	JWTGroups   []string `envconfig:"CODEC_SERVER_JWT_GROUPS" desc:"with S1C_CODEC_SERVER_JWKS_FILE: comma-separated groups allowed to decode; the token's groups claim must name one (empty = any authenticated user of that issuer and audience)"`
	Origins     []string `envconfig:"CODEC_SERVER_ORIGINS" default:"http://localhost:8233" desc:"comma-separated Web UI origins allowed to call the codec server from a browser (CORS)"`
	Namespaces  []string `envconfig:"CODEC_SERVER_NAMESPACES" desc:"comma-separated Temporal namespaces the codec server answers for (X-Namespace); empty = S1C_TEMPORAL_NAMESPACE"`
	// TemporalNamespace is the default of Namespaces.
	TemporalNamespace string `envconfig:"TEMPORAL_NAMESPACE" default:"default" desc:"Temporal namespace"`
	// AllowUnauthenticated exists for the local demo, where the UI has no login.
	AllowUnauthenticated bool   `envconfig:"CODEC_SERVER_ALLOW_UNAUTHENTICATED" default:"false" desc:"true: the codec server decodes for anyone who can reach it (local demo only)"`
	LogLevel             string `envconfig:"LOG_LEVEL" default:"info" desc:"debug | info | warn | error"`
}

// LoadCodecServer reads and validates the codec server's settings, every problem at once.
func LoadCodecServer() (CodecServer, error) {
	var s CodecServer
	problems := parseEach(&s)
	if len(s.Namespaces) == 0 && s.TemporalNamespace != "" {
		s.Namespaces = []string{s.TemporalNamespace}
	}
	if !s.Codec.Enabled() {
		problems = append(problems, Prefix+"_CODEC_KEYS (or "+Prefix+"_CODEC_KEYS_FILE) is required: the key ring the server decrypts with (id:base64key, e.g. a key from `openssl rand -base64 32`)")
	} else if _, err := s.Codec.Keyring(); err != nil {
		problems = append(problems, err.Error())
	}
	tokens, err := s.AcceptedTokens()
	if err != nil {
		problems = append(problems, err.Error())
	} else if len(tokens) == 0 && s.JWKSFile == "" && s.JWKSURL == "" && !s.AllowUnauthenticated {
		problems = append(problems, Prefix+"_CODEC_SERVER_TOKENS (or "+Prefix+"_CODEC_SERVER_TOKENS_FILE, or "+Prefix+"_CODEC_SERVER_JWKS_FILE for the Web UI's forwarded credentials) is required: who may decode ("+Prefix+"_CODEC_SERVER_ALLOW_UNAUTHENTICATED=true only for a local demo)")
	}
	if s.JWKSURL != "" {
		if s.JWKSFile != "" {
			problems = append(problems, "set one of "+Prefix+"_CODEC_SERVER_JWKS_FILE and "+Prefix+"_CODEC_SERVER_JWKS_URL, not both")
		}
		if u, err := url.Parse(s.JWKSURL); err != nil || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))) {
			problems = append(problems, fmt.Sprintf("%s_CODEC_SERVER_JWKS_URL %q must be an https URL (http only on loopback)", Prefix, s.JWKSURL))
		}
		if s.JWTIssuer == "" || s.JWTAudience == "" {
			problems = append(problems, fmt.Sprintf("%s_CODEC_SERVER_JWKS_URL needs %s_CODEC_SERVER_JWT_ISSUER and %s_CODEC_SERVER_JWT_AUDIENCE: a token from any issuer or for any audience must not decode", Prefix, Prefix, Prefix))
		}
	} else if _, err := s.JWTVerifier(); err != nil {
		problems = append(problems, err.Error())
	}
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		problems = append(problems, fmt.Sprintf("%s_CODEC_SERVER_ADDR %q must be host:port", Prefix, s.Addr))
	}
	for _, o := range s.Origins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			problems = append(problems, fmt.Sprintf("%s_CODEC_SERVER_ORIGINS: %q must be an origin, scheme://host[:port], e.g. http://localhost:8233", Prefix, o))
		}
	}
	if len(s.Namespaces) == 0 {
		problems = append(problems, Prefix+"_CODEC_SERVER_NAMESPACES must name at least one namespace")
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, Prefix+"_LOG_LEVEL must be one of debug, info, warn, error")
	}
	if len(problems) > 0 {
		return s, &Error{Problems: problems}
	}
	return s, nil
}

// JWTVerifier verifies the Web UI's forwarded access tokens; nil when no JWKS is set.
func (s CodecServer) JWTVerifier() (*codec.JWTVerifier, error) {
	if s.JWKSFile == "" {
		return nil, nil
	}
	if s.JWTIssuer == "" || s.JWTAudience == "" {
		return nil, fmt.Errorf("%s_CODEC_SERVER_JWKS_FILE needs %s_CODEC_SERVER_JWT_ISSUER and %s_CODEC_SERVER_JWT_AUDIENCE: a token from any issuer or for any audience must not decode", Prefix, Prefix, Prefix)
	}
	raw, err := os.ReadFile(s.JWKSFile)
	if err != nil {
		return nil, fmt.Errorf("%s_CODEC_SERVER_JWKS_FILE: %w", Prefix, err)
	}
	v, err := codec.NewJWTVerifier(codec.JWTOptions{JWKS: raw, Issuer: s.JWTIssuer, Audience: s.JWTAudience, Groups: s.JWTGroups})
	if err != nil {
		return nil, fmt.Errorf("%s_CODEC_SERVER_JWKS_FILE %s: %w", Prefix, s.JWKSFile, err)
	}
	return v, nil
}

// AcceptedTokens are the bearer tokens from S1C_CODEC_SERVER_TOKENS or its file.
func (s CodecServer) AcceptedTokens() ([]string, error) {
	var out []string
	for _, t := range s.Tokens {
		if v := strings.TrimSpace(t.Reveal()); v != "" {
			out = append(out, v)
		}
	}
	if s.TokensFile == "" {
		return out, nil
	}
	if len(out) > 0 {
		return nil, fmt.Errorf("set one of %s_CODEC_SERVER_TOKENS and %s_CODEC_SERVER_TOKENS_FILE, not both", Prefix, Prefix)
	}
	raw, err := os.ReadFile(s.TokensFile)
	if err != nil {
		return nil, fmt.Errorf("%s_CODEC_SERVER_TOKENS_FILE: %w", Prefix, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s_CODEC_SERVER_TOKENS_FILE %s holds no token (one per line, # comments)", Prefix, s.TokensFile)
	}
	return out, nil
}

// Secrets are the codec server's credentials, for sinks that must refuse them.
func (s CodecServer) Secrets() []string {
	out := []string{s.Codec.Keys.Reveal()}
	for _, t := range s.Tokens {
		out = append(out, t.Reveal())
	}
	return out
}
