package main

import (
	"bytes"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadScenario(t *testing.T) {
	sc, err := loadScenario("demo")
	if err != nil {
		t.Fatalf("embedded demo: %v", err)
	}
	if sc.Name != "demo" || len(sc.Threats) != 5 {
		t.Fatalf("demo: name %q, %d threats", sc.Name, len(sc.Threats))
	}
	path := filepath.Join(t.TempDir(), "tiny.json")
	if err := os.WriteFile(path, []byte(`{"name":"tiny","agents":[],"threats":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if sc, err = loadScenario(path); err != nil || sc.Name != "tiny" {
		t.Fatalf("file scenario: %v %v", sc, err)
	}
	if _, err := loadScenario("no-such-scenario"); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Fatalf("unknown scenario error should list embedded names: %v", err)
	}
}

func TestLogRequestsOmitsToken(t *testing.T) {
	var buf bytes.Buffer
	h := logRequests(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), log.New(&buf, "", 0))
	req := httptest.NewRequest("GET", "/web/api/v2.1/threats?limit=2", nil)
	req.Header.Set("Authorization", "ApiToken super-secret-token")
	h.ServeHTTP(httptest.NewRecorder(), req)
	line := buf.String()
	if strings.Contains(line, "super-secret-token") {
		t.Fatalf("token logged: %q", line)
	}
	if !strings.Contains(line, "GET /web/api/v2.1/threats?limit=2 418") || strings.Count(line, "\n") != 1 {
		t.Fatalf("unexpected log line: %q", line)
	}
}

func TestRunRejectsBadFaults(t *testing.T) {
	var buf bytes.Buffer
	err := run([]string{"-faults", "sometimes", "-addr", "127.0.0.1:0"}, log.New(&buf, "", 0))
	if err == nil || !strings.Contains(err.Error(), "chaos") {
		t.Fatalf("unknown profile: %v", err)
	}
	err = run([]string{"-faults", `{"serverErrorRate":2}`, "-addr", "127.0.0.1:0"}, log.New(&buf, "", 0))
	if err == nil || !strings.Contains(err.Error(), "serverErrorRate") {
		t.Fatalf("bad rate: %v", err)
	}
}

func TestEmbeddedScenariosLoad(t *testing.T) {
	for _, name := range []string{"demo", "quiet-day", "outbreak", "mssp"} {
		if _, err := loadScenario(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
