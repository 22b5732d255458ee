package ingest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/signature"
	"github.com/s1copilot/s1copilot/workflows"
)

// Push is the push-ingest endpoint: POST /v1/threats {"threatId":"…"}, for a
// SentinelOne Hyperautomation workflow (or any caller holding the shared secret) that
// wants a threat investigated now rather than at the next poll. The pushed ID is only a
// hint: the threat is read back from the console, and then started or signalled exactly
// as the poller would (Route), so a push can never create a second investigation.
//
// Authentication, either:
//   - Authorization: Bearer <secret>
//   - X-S1C-Timestamp: <unix seconds> and X-S1C-Signature: sha256=<hex HMAC-SHA256 of
//     "<timestamp>.<body>" keyed with the secret>, within MaxSkew of the server's clock
//     (package signature, the same scheme the case hand-off signs with).
type Push struct {
	S1             *s1client.Client
	Investigations Investigations
	Secret         []byte
	// Limiter bounds pushes, so a misbehaving caller cannot spend the S1 rate budget.
	Limiter *rate.Limiter
	Logger  *zap.Logger
	Now     func() time.Time
}

// MaxSkew is how old (or early) a signed push may be.
const MaxSkew = 5 * time.Minute

const maxPushBody = 4 << 10

// PushResult is the endpoint's answer.
type PushResult struct {
	Status     string `json:"status"` // started | notified | already_investigated
	WorkflowID string `json:"workflowId"`
}

func (p *Push) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/threats" {
		pushError(w, http.StatusNotFound, "unknown path; POST /v1/threats")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		pushError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPushBody+1))
	if err != nil || len(body) > maxPushBody {
		pushError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body must be at most %d bytes", maxPushBody))
		return
	}
	if err := p.authenticate(r, body); err != nil {
		p.Logger.Warn("Push refused.", zap.String("remote", r.RemoteAddr), zap.String("reason", err.Error()))
		pushError(w, http.StatusUnauthorized, err.Error())
		return
	}
	if p.Limiter != nil && !p.Limiter.Allow() {
		w.Header().Set("Retry-After", "1")
		pushError(w, http.StatusTooManyRequests, "too many pushes; retry later")
		return
	}
	var in struct {
		ThreatID string `json:"threatId"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(&in)
	if err == nil {
		if _, tail := dec.Token(); tail != io.EOF {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err != nil {
		pushError(w, http.StatusBadRequest, `body must be {"threatId":"<SentinelOne threat ID>"}: `+err.Error())
		return
	}
	if !validThreatID(in.ThreatID) {
		pushError(w, http.StatusBadRequest, fmt.Sprintf("threatId %q must be a SentinelOne threat ID (digits only)", in.ThreatID))
		return
	}
	t, err := p.S1.GetThreat(r.Context(), in.ThreatID)
	switch {
	case errors.Is(err, s1client.ErrNotFound):
		pushError(w, http.StatusNotFound, "threat "+in.ThreatID+" is not visible to s1copilot's token (wrong ID, or out of scope)")
		return
	case err != nil:
		p.Logger.Error("Push: reading the threat failed.", zap.String("threatId", in.ThreatID), zap.Error(err))
		pushError(w, http.StatusBadGateway, "could not read the threat from SentinelOne; retry later")
		return
	}
	routed, err := Route(r.Context(), p.Investigations, t)
	res := PushResult{WorkflowID: workflows.WorkflowID(in.ThreatID), Status: string(routed)}
	if err != nil {
		p.Logger.Error("Push: routing the threat failed.", zap.String("threatId", in.ThreatID), zap.Error(err))
		pushError(w, http.StatusServiceUnavailable, "could not reach Temporal; retry later")
		return
	}
	p.Logger.Info("Push accepted.", zap.String("threatId", in.ThreatID), zap.String("status", res.Status))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(res)
}

func (p *Push) authenticate(r *http.Request, body []byte) error {
	if auth := r.Header.Get("Authorization"); auth != "" {
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(token), p.Secret) != 1 {
			return errors.New("invalid bearer token")
		}
		return nil
	}
	sig, ts := r.Header.Get(signature.SignatureHeader), r.Header.Get(signature.TimestampHeader)
	if sig == "" && ts == "" {
		return errors.New("missing credentials: send Authorization: Bearer <secret>, or X-S1C-Timestamp and X-S1C-Signature")
	}
	return signature.Verify(p.Secret, ts, sig, body, p.now(), MaxSkew)
}

func (p *Push) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func validThreatID(id string) bool {
	if id == "" || len(id) > 24 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func pushError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
