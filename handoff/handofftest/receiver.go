// Package handofftest is a reference receiver of the case hand-off, for tests and the
// demo: it verifies the signature, validates each document against handoff.Schema,
// dedupes on Idempotency-Key and opens one ticket per case.
//
// It lives apart from package handoff because validating against the schema needs a JSON
// Schema validator (github.com/santhosh-tekuri/jsonschema/v6); the worker, which only
// sends, does not link it.
package handofftest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/signature"
)

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(handoff.Schema))
	if err != nil {
		return nil, fmt.Errorf("handofftest: parse handoff.Schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // date-time and uri are checked, not just annotations
	if err := c.AddResource(handoff.SchemaID, doc); err != nil {
		return nil, fmt.Errorf("handofftest: add handoff.Schema: %w", err)
	}
	s, err := c.Compile(handoff.SchemaID)
	if err != nil {
		return nil, fmt.Errorf("handofftest: compile handoff.Schema: %w", err)
	}
	return s, nil
})

// Validate checks a JSON document against handoff.Schema (formats asserted). The error
// lists every violation with its location.
func Validate(doc []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}

// Delivery is one case the receiver accepted (first delivery of its key).
type Delivery struct {
	Key      string
	Event    string
	TicketID string
	Case     handoff.Case
	Body     []byte
}

// Rejection is one request the receiver refused.
type Rejection struct {
	Status int
	Reason string
}

// Receiver is an http.Handler receiving cases. The zero value is not usable; use
// NewReceiver.
type Receiver struct {
	// MaxSkew is the allowed signature clock skew (0: signature.DefaultMaxSkew).
	MaxSkew time.Duration
	// Now is the receiver's clock (nil: time.Now).
	Now func() time.Time

	secret []byte

	mu         sync.Mutex
	requests   int
	failNext   int
	failStatus int
	byKey      map[string]*record
	tickets    map[string]string // caseId → ticket
	opened     int               // tickets opened
	processed  map[string]int    // key → times processed (the at-most-once check)
	deliveries []Delivery
	duplicates map[string]int // key → answered from the record
	rejections []Rejection
}

type record struct {
	digest [32]byte
	answer answer
}

type answer struct {
	TicketID  string `json:"ticketId"`
	Duplicate bool   `json:"duplicate"`
}

// NewReceiver returns a receiver. With a secret, every request must be signed with it
// (401 otherwise); without one, signatures are not checked.
func NewReceiver(secret []byte) *Receiver {
	return &Receiver{
		secret: bytes.Clone(secret), byKey: map[string]*record{}, tickets: map[string]string{}, duplicates: map[string]int{}, processed: map[string]int{},
	}
}

// FailNext makes the next n requests fail with status (0: 503) before anything is
// processed, with Retry-After: 1.
func (rv *Receiver) FailNext(n, status int) {
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.failNext, rv.failStatus = n, status
}

const maxBody = 1 << 20

func (rv *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rv.mu.Lock()
	rv.requests++
	if rv.failNext > 0 {
		rv.failNext--
		status := rv.failStatus
		rv.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		rv.refuse(w, status, "injected failure")
		return
	}
	rv.mu.Unlock()

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rv.refuse(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		rv.refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body must be at most %d bytes", maxBody))
		return
	}
	if len(rv.secret) > 0 {
		if err := signature.VerifyRequest(rv.secret, r, body, rv.now(), rv.MaxSkew); err != nil {
			rv.refuse(w, http.StatusUnauthorized, err.Error())
			return
		}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		rv.refuse(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	key := r.Header.Get(handoff.IdempotencyKeyHeader)
	if key == "" {
		rv.refuse(w, http.StatusBadRequest, "missing "+handoff.IdempotencyKeyHeader+" header")
		return
	}
	if err := Validate(body); err != nil {
		rv.refuse(w, http.StatusUnprocessableEntity, "case does not match the schema: "+err.Error())
		return
	}
	var c handoff.Case
	if err := json.Unmarshal(body, &c); err != nil {
		rv.refuse(w, http.StatusBadRequest, "case: "+err.Error())
		return
	}
	if ev := r.Header.Get(handoff.EventHeader); ev != string(c.Stage) {
		rv.refuse(w, http.StatusBadRequest, fmt.Sprintf("%s %q differs from the body's stage %q", handoff.EventHeader, ev, c.Stage))
		return
	}
	if v := r.Header.Get(handoff.SchemaVersionHeader); v != c.SchemaVersion {
		rv.refuse(w, http.StatusBadRequest, fmt.Sprintf("%s %q differs from the body's schemaVersion %q", handoff.SchemaVersionHeader, v, c.SchemaVersion))
		return
	}

	digest := sha256.Sum256(body)
	rv.mu.Lock()
	if rec, ok := rv.byKey[key]; ok {
		if rec.digest != digest {
			rv.mu.Unlock()
			rv.refuse(w, http.StatusUnprocessableEntity, handoff.IdempotencyKeyHeader+" reused for a different case")
			return
		}
		rv.duplicates[key]++
		ans := rec.answer
		rv.mu.Unlock()
		ans.Duplicate = true
		w.Header().Set(handoff.ReplayedHeader, "true")
		writeJSON(w, http.StatusOK, ans)
		return
	}
	ticket := rv.tickets[c.CaseID]
	if ticket == "" {
		ticket = c.TicketID // a ticket from before a restart
	}
	if ticket == "" {
		rv.opened++
		ticket = "TICKET-" + strconv.Itoa(rv.opened)
	}
	rv.tickets[c.CaseID] = ticket
	rv.processed[key]++
	rec := &record{digest: digest, answer: answer{TicketID: ticket}}
	rv.byKey[key] = rec
	rv.deliveries = append(rv.deliveries, Delivery{Key: key, Event: string(c.Stage), TicketID: ticket, Case: c, Body: body})
	rv.mu.Unlock()
	writeJSON(w, http.StatusOK, rec.answer)
}

func (rv *Receiver) refuse(w http.ResponseWriter, status int, reason string) {
	rv.mu.Lock()
	rv.rejections = append(rv.rejections, Rejection{Status: status, Reason: reason})
	rv.mu.Unlock()
	writeJSON(w, status, map[string]string{"error": reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (rv *Receiver) now() time.Time {
	if rv.Now != nil {
		return rv.Now()
	}
	return time.Now()
}

// Requests is the number of requests seen, refused and failed ones included.
func (rv *Receiver) Requests() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.requests
}

// Deliveries are the accepted cases, one per idempotency key, in arrival order.
func (rv *Receiver) Deliveries() []Delivery {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]Delivery(nil), rv.deliveries...)
}

// DeliveriesFor is how many times a case sent with key was processed (opened or
// updated a ticket): at most 1 whatever the retries, which is the point.
func (rv *Receiver) DeliveriesFor(key string) int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.processed[key]
}

// Duplicates is how many repeated deliveries of key were answered from the record.
func (rv *Receiver) Duplicates(key string) int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.duplicates[key]
}

// Ticket is the ticket opened for caseID, "" if none.
func (rv *Receiver) Ticket(caseID string) string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.tickets[caseID]
}

// Rejections are the refused requests (injected failures included), in order.
func (rv *Receiver) Rejections() []Rejection {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]Rejection(nil), rv.rejections...)
}
