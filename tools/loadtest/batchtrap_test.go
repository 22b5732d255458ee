package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The trap lets single mitigations through, and holds the first batched one after the
// console acted on it, until released.
func TestBatchTrapHoldsABatchedMitigationAfterTheConsoleActed(t *testing.T) {
	var acted atomic.Int32
	srv := httptest.NewServer(newBatchTrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acted.Add(1)
		_, _ = w.Write([]byte(`{"data":{"affected":2}}`))
	})))
	defer srv.Close()
	trap := srv.Config.Handler.(*batchTrap)
	caught, release := trap.arm()
	post := func(body string) chan int {
		done := make(chan int, 1)
		go func() {
			res, err := http.Post(srv.URL+"/web/api/v2.1/threats/mitigate/kill", "application/json", strings.NewReader(body))
			if err != nil {
				done <- -1
				return
			}
			res.Body.Close()
			done <- res.StatusCode
		}()
		return done
	}
	if code := <-post(`{"filter":{"ids":["1"]}}`); code != 200 {
		t.Fatalf("a single mitigation: %d", code)
	}
	held := post(`{"filter":{"ids":["1","2"]}}`)
	select {
	case n := <-caught:
		if n != 2 {
			t.Fatalf("caught a batch of %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the batch was not caught")
	}
	if acted.Load() != 2 {
		t.Fatalf("the console acted %d times, want 2 (the batch is applied before it is held)", acted.Load())
	}
	select {
	case <-held:
		t.Fatal("the batch's answer went out before the release")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if code := <-held; code != 200 {
		t.Fatalf("after the release: %d", code)
	}
}
