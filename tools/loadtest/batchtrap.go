package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// batchTrap holds one batched mitigation POST (two or more threats in one filter) at
// the moment the console has acted on it and not yet answered, so that the chaos run
// can kill the SentinelOne worker then: the worst moment for a batch, whose every
// threat must be acted on once and none lost.
type batchTrap struct {
	next http.Handler

	mu      sync.Mutex
	armed   bool
	caught  chan int      // the batch's size, once one is held
	release chan struct{} // closed to let the held answer go (to a dead worker)
}

func newBatchTrap(next http.Handler) *batchTrap { return &batchTrap{next: next} }

// arm makes the next batched mitigation POST wait; it returns the channel that says it
// was caught and how many threats it carried, and the function that lets it go.
func (t *batchTrap) arm() (caught <-chan int, release func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.armed, t.caught, t.release = true, make(chan int, 1), make(chan struct{})
	rel := t.release
	return t.caught, sync.OnceFunc(func() { close(rel) })
}

func (t *batchTrap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/threats/mitigate/") {
		t.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req struct {
		Filter struct {
			IDs []string `json:"ids"`
		} `json:"filter"`
	}
	_ = json.Unmarshal(body, &req)
	t.mu.Lock()
	hold := t.armed && len(req.Filter.IDs) >= 2
	caught, release := t.caught, t.release
	if hold {
		t.armed = false
	}
	t.mu.Unlock()
	if !hold {
		t.next.ServeHTTP(w, r)
		return
	}
	// The console acts; its answer waits until the worker that asked has been killed.
	rec := httptest.NewRecorder()
	t.next.ServeHTTP(rec, r)
	caught <- len(req.Filter.IDs)
	select {
	case <-release:
	case <-time.After(time.Minute):
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
