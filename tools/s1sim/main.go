// Command s1sim serves a simulated SentinelOne Management API v2.1 for demos,
// client tests and end-to-end tests.
//
//	go run ./tools/s1sim -scenario demo -addr 127.0.0.1:8088
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/s1copilot/s1copilot/scenario"
	"github.com/s1copilot/s1copilot/tools/s1sim/scenarios"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func main() {
	logger := log.New(os.Stderr, "s1sim: ", log.LstdFlags|log.LUTC)
	if err := run(os.Args[1:], logger); err != nil {
		logger.Print(err)
		os.Exit(1)
	}
}

func run(args []string, logger *log.Logger) error {
	fl := flag.NewFlagSet("s1sim", flag.ContinueOnError)
	addr := fl.String("addr", "127.0.0.1:8088", "listen address")
	scenarioFlag := fl.String("scenario", "demo", "embedded scenario name ("+strings.Join(scenarios.Names(), ", ")+") or path to a scenario JSON file")
	// The default is resolved after parsing so -h never prints a real token.
	token := fl.String("token", "", "API token clients must send as 'Authorization: ApiToken <token>' (default $S1SIM_TOKEN, else demo-token)")
	mitigationDelay := fl.Duration("mitigation-delay", 3*time.Second, "time a mitigation stays pending before the agent reports")
	isolationDelay := fl.Duration("isolation-delay", 2*time.Second, "time an agent spends disconnecting/connecting")
	faults := fl.String("faults", "none", "fault profile ("+strings.Join(slices.Sorted(maps.Keys(simulator.FaultProfiles)), ", ")+") or a JSON object, e.g. '{\"serverErrorRate\":0.1,\"seed\":7}'")
	faultsAfter := fl.Bool("faults-after-side-effects", false, "inject 5xx after the handler ran (the action is applied, the response lost)")
	enforceLimits := fl.Bool("enforce-rate-limits", false, "answer 429 when a token exceeds the per-endpoint rate limits")
	dvQueryDelay := fl.Duration("dv-query-delay", 2*time.Second, "time a Deep Visibility query runs before it is FINISHED")
	tokenLifetime := fl.Duration("token-lifetime", simulator.DefaultTokenLifetime, "how long the API token is valid from start; POST /users/api-token-details reports it, and afterwards every request is refused with 401")
	defaultVisibleAfter := fl.Duration("default-visible-after", 0, "delay before threats added at runtime appear in GET /threats")
	scriptDelay := fl.Duration("script-delay", 5*time.Second, "time a remote-script task takes on an online agent (created, pending, in_progress, then completed)")
	scriptExpiry := fl.Duration("script-expiry", simulator.DefaultScriptTaskExpiry, "time a remote-script task may wait for its agent or for approval before it expires")
	strictPending := fl.Bool("strict-pending-executions", false, "answer a remote-script execution held for approval with parentTaskId null, as the vendor schema says")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("parse flags: %w", err)
	}
	if *token == "" {
		*token = envOr("S1SIM_TOKEN", "demo-token")
	}

	faultCfg, err := simulator.ParseFaults(*faults)
	if err != nil {
		return err
	}
	sc, err := loadScenario(*scenarioFlag)
	if err != nil {
		return err
	}
	sim, err := simulator.New(sc, simulator.Options{
		Token: *token, MitigationDelay: *mitigationDelay, IsolationDelay: *isolationDelay,
		DVQueryDelay: *dvQueryDelay, DefaultVisibleAfter: *defaultVisibleAfter,
		Faults: faultCfg, FaultsAfterSideEffects: *faultsAfter, EnforceRateLimits: *enforceLimits,
		TokenLifetime: *tokenLifetime, ScriptDelay: *scriptDelay, ScriptTaskExpiry: *scriptExpiry,
		StrictPendingExecutions: *strictPending,
	})
	if err != nil {
		return fmt.Errorf("create simulator: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           logRequests(sim.Handler(), logger),
		ReadHeaderTimeout: 10 * time.Second,
	}
	base := "http://" + ln.Addr().String()
	logger.Printf("scenario %q: %d agents, %d threats; faults %s; rate limits enforced: %t", sc.Name, len(sc.Agents), len(sc.Threats), *faults, *enforceLimits)
	fmt.Printf("s1sim listening on %s (API base %s%s)\n", base, base, simulator.APIPrefix)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// loadScenario treats a known embedded name as such and anything else as a
// file path, so "demo" never depends on the working directory.
func loadScenario(nameOrPath string) (*scenario.Scenario, error) {
	if slices.Contains(scenarios.Names(), nameOrPath) {
		sc, err := scenario.LoadFS(scenarios.FS, nameOrPath)
		if err != nil {
			return nil, fmt.Errorf("load embedded scenario: %w", err)
		}
		return sc, nil
	}
	sc, err := scenario.LoadFile(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("load scenario (embedded: %s): %w", strings.Join(scenarios.Names(), ", "), err)
	}
	return sc, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// logRequests logs method, path, query, status and duration. Headers are
// never logged, so the API token cannot leak into logs.
func logRequests(next http.Handler, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		target := r.URL.Path
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		logger.Printf("%s %s %d %s", r.Method, target, rec.status, time.Since(start).Round(time.Microsecond))
	})
}
