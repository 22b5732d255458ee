package codec

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"
)

// DefaultMaxBodyBytes bounds a request to the codec server: the Web UI sends one
// history page of payloads at a time, far below this.
const DefaultMaxBodyBytes = 4 << 20

// ServerOptions configure NewServer.
type ServerOptions struct {
	// Codec encodes and decodes the payloads (usually NewCodec of the key ring).
	Codec converter.PayloadCodec
	// Namespaces the server answers for (the X-Namespace header); required.
	Namespaces []string
	// Tokens are the accepted bearer tokens (Authorization: Bearer <token>). When the
	// Web UI is configured to forward the user's credentials to the codec endpoint
	// (TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true, or "Include cross-origin credentials"
	// in the UI's codec settings), the same Authorization header carries the UI's
	// forwarded access token: verify those with JWT instead of listing them.
	Tokens []string
	// JWT, when set, accepts the Web UI users' forwarded access tokens that it verifies
	// (signature by the identity provider, expiry, issuer, audience, group).
	JWT *JWTVerifier
	// AllowUnauthenticated serves requests without a token: the local demo only.
	AllowUnauthenticated bool
	// AllowedOrigins are the Web UI origins (e.g. http://localhost:8233) that may
	// call the server from a browser.
	AllowedOrigins []string
	// MaxBodyBytes bounds a request body; 0 = DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger logs each request's outcome (never a token, a key or a payload); nil = none.
	Logger *zap.Logger
}

type server struct {
	codec      http.Handler
	namespaces map[string]bool
	tokens     [][sha256.Size]byte
	anonymous  bool
	jwt        *JWTVerifier
	origins    map[string]bool
	maxBody    int64
	log        *zap.Logger
}

// NewServer is the codec endpoint of the Temporal Web UI: POST .../encode and
// POST .../decode (the SDK's body format), GET /healthz, with bearer-token
// authentication, a namespace allow list, CORS for the UI's origins and a body limit.
func NewServer(o ServerOptions) (http.Handler, error) {
	var problems []string
	if o.Codec == nil {
		problems = append(problems, "a codec is required")
	}
	if len(o.Namespaces) == 0 {
		problems = append(problems, "at least one namespace is required")
	}
	if len(o.Tokens) == 0 && o.JWT == nil && !o.AllowUnauthenticated {
		problems = append(problems, "at least one token or a JWT verifier is required (or AllowUnauthenticated, for a local demo only)")
	}
	s := &server{namespaces: map[string]bool{}, origins: map[string]bool{}, anonymous: o.AllowUnauthenticated, jwt: o.JWT, maxBody: o.MaxBodyBytes, log: o.Logger}
	for _, ns := range o.Namespaces {
		s.namespaces[strings.TrimSpace(ns)] = true
	}
	for i, t := range o.Tokens {
		if t == "" {
			problems = append(problems, fmt.Sprintf("token %d is empty", i+1))
			continue
		}
		// Hashing first makes the comparison constant-time in the length too.
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t)))
	}
	for _, origin := range o.AllowedOrigins {
		s.origins[strings.TrimSuffix(strings.TrimSpace(origin), "/")] = true
	}
	if len(problems) > 0 {
		return nil, errors.New("codec server: " + strings.Join(problems, "; "))
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	s.codec = converter.NewPayloadCodecHTTPHandler(o.Codec)
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	w.Header().Add("Vary", "Origin") // the CORS answer depends on it: caches must not share it
	origin := r.Header.Get("Origin")
	allowedOrigin := origin != "" && s.origins[origin]
	if allowedOrigin {
		// On every answer, not just the preflight, so the UI can read errors too.
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions {
		if !allowedOrigin {
			s.refuse(w, r, http.StatusForbidden, "origin not allowed: add it to the codec server's allowed origins")
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type,X-Namespace,Authorization")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.refuse(w, r, http.StatusMethodNotAllowed, "use POST /encode or POST /decode")
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/encode") && !strings.HasSuffix(r.URL.Path, "/decode") {
		s.refuse(w, r, http.StatusNotFound, "not found: use POST /encode or POST /decode")
		return
	}
	if !s.authenticated(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="s1copilot codec"`)
		s.refuse(w, r, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <token> with a token the codec server accepts")
		return
	}
	ns := r.Header.Get("X-Namespace")
	if !s.namespaces[ns] {
		s.refuse(w, r, http.StatusForbidden, fmt.Sprintf("namespace %q is not served by this codec server (X-Namespace header)", ns))
		return
	}
	if r.ContentLength > s.maxBody {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", s.maxBody))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "reading the request body failed")
		return
	}
	if int64(len(body)) > s.maxBody {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", s.maxBody))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.codec.ServeHTTP(rec, r)
	s.log.Debug("codec request", zap.String("path", r.URL.Path), zap.String("namespace", ns), zap.Int("status", rec.status), zap.Int("bytes", len(body)))
}

// authenticated compares the bearer token with every accepted one in constant time.
func (s *server) authenticated(r *http.Request) bool {
	if s.anonymous {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for i := range s.tokens {
		match |= subtle.ConstantTimeCompare(sum[:], s.tokens[i][:])
	}
	if match == 1 {
		return true
	}
	if s.jwt == nil {
		return false
	}
	if err := s.jwt.Verify(strings.TrimSpace(token)); err != nil {
		s.log.Info("codec request: forwarded credentials refused", zap.String("reason", err.Error())) // never the token
		return false
	}
	return true
}

// refuse answers an error: messages are fixed texts and the namespace, never a header.
func (s *server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.log.Warn("codec request refused", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Int("status", status), zap.String("remote", r.RemoteAddr), zap.String("reason", msg))
	http.Error(w, "codec server: "+msg, status)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
