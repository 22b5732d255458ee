package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/s1copilot/s1copilot/handoff/handofftest"
	"github.com/s1copilot/s1copilot/workflows"
)

// demoSOAR stands in for the SOC's SOAR or ticketing system: the reference receiver
// (signature, schema, idempotency, tickets), printing each case it receives.
type demoSOAR struct {
	rv     *handofftest.Receiver
	srv    *http.Server
	url    string
	secret string

	mu      sync.Mutex
	printed int
	out     io.Writer
}

// startSOAR listens on port and returns the worker's hand-off settings.
func startSOAR(port int, out io.Writer) (*demoSOAR, []string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, fmt.Errorf("making the hand-off secret: %w", err)
	}
	secret := hex.EncodeToString(key)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, nil, fmt.Errorf("SOAR receiver: %w", err)
	}
	s := &demoSOAR{rv: handofftest.NewReceiver([]byte(secret)), url: "http://" + ln.Addr().String() + "/cases", secret: secret, out: out}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.rv.ServeHTTP(w, r)
		s.printNew()
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, []string{"S1C_HANDOFF_URL=" + s.url, "S1C_HANDOFF_SECRET=" + secret}, nil
}

// printNew prints the deliveries not printed yet, as the SOC's ticket queue sees them.
func (s *demoSOAR) printNew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.rv.Deliveries()
	for _, d := range ds[s.printed:] {
		c := d.Case
		line := fmt.Sprintf("[soar]    %s %s: %s, %s, priority %s", d.TicketID, c.Stage, c.Host.ComputerName, c.Verdict, c.Priority)
		if c.Outcome != "" {
			line += ", outcome " + c.Outcome
		}
		fmt.Fprintln(s.out, line+" (signed, schema v"+c.SchemaVersion+")")
	}
	s.printed = len(ds)
}

func (s *demoSOAR) close() { _ = s.srv.Close() }

// check: every investigated threat reached the SOAR at triage and at the outcome, each
// stage processed once, and its ticket is on the threat in the console.
func (s *demoSOAR) check(ctx context.Context, simURL string, sc []seededThreat) []string {
	var problems []string
	for _, r := range s.rv.Rejections() {
		problems = append(problems, fmt.Sprintf("the SOAR refused a case: %d %s", r.Status, r.Reason))
	}
	for _, t := range sc {
		caseID := workflows.WorkflowID(t.ID)
		for _, stage := range []string{"triage", "outcome"} {
			if n := s.rv.DeliveriesFor(caseID + "/" + stage); n != 1 {
				problems = append(problems, fmt.Sprintf("%s: the SOAR processed its %s case %d times, expected once", t.ID, stage, n))
			}
		}
		ticket := s.rv.Ticket(caseID)
		if ticket == "" {
			continue
		}
		got, err := consoleTicket(ctx, simURL, t.ID)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case got != ticket:
			problems = append(problems, fmt.Sprintf("%s: the console's external ticket ID is %q, the SOAR opened %q", t.ID, got, ticket))
		}
	}
	return problems
}

// consoleTicket reads the threat's externalTicketId from the simulator.
func consoleTicket(ctx context.Context, simURL, threatID string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, simURL+"/web/api/v2.1/threats?ids="+threatID, nil)
	req.Header.Set("Authorization", "ApiToken "+demoToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("reading threat %s: %w", threatID, err)
	}
	defer resp.Body.Close()
	var body struct {
		Data []struct {
			ThreatInfo struct {
				ExternalTicketID string `json:"externalTicketId"`
			} `json:"threatInfo"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Data) != 1 {
		return "", fmt.Errorf("reading threat %s: %v (%d threats)", threatID, err, len(body.Data))
	}
	return body.Data[0].ThreatInfo.ExternalTicketID, nil
}
