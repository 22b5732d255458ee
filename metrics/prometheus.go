package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Why tally and not OpenTelemetry: go.temporal.io/sdk/contrib/tally is the
// handler Temporal's own docs and samples use with Prometheus; it maps counters,
// gauges and timers one to one onto a Prometheus registry with the SDK's
// documented names (temporal_*_total, *_seconds). The OpenTelemetry route
// (contrib/opentelemetry + the otel Prometheus exporter) needs the otel SDK
// and an exporter on top, and rewrites names (unit suffixes, otel_scope_*
// labels), for no gain in a process that only exposes /metrics.

// Options configure NewPrometheus.
type Options struct {
	// ReportEvery is how often metric values are pushed to the registry
	// (tally reports on an interval); 0 means one second.
	ReportEvery time.Duration
	// OnError receives registration errors (a metric emitted with two different
	// label sets); nil ignores them. They are never fatal: a metric is dropped,
	// the worker keeps running.
	OnError func(error)
}

// Prometheus is a process's metrics registry: pass Handler as
// client.Options.MetricsHandler, serve HTTP at /metrics, Close on exit.
type Prometheus struct {
	// Handler is the SDK metrics handler writing to Registry.
	Handler client.MetricsHandler
	// Registry holds the SDK's, s1copilot's and the Go runtime's metrics.
	Registry *prom.Registry
	// HTTP serves Registry in the Prometheus text format.
	HTTP   http.Handler
	closer io.Closer
}

// NewPrometheus builds a registry with the Go runtime and process collectors and
// an SDK metrics handler reporting into it with Prometheus naming (counters
// _total, timers as histograms in _seconds).
func NewPrometheus(opts Options) (*Prometheus, error) {
	if opts.ReportEvery < 0 {
		return nil, fmt.Errorf("metrics: report interval %s is negative", opts.ReportEvery)
	}
	if opts.ReportEvery == 0 {
		opts.ReportEvery = time.Second
	}
	onError := opts.OnError
	if onError == nil {
		onError = func(error) {}
	}
	reg := prom.NewRegistry()
	if err := errors.Join(
		reg.Register(collectors.NewGoCollector()),
		reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	); err != nil {
		return nil, fmt.Errorf("metrics: registering runtime collectors: %w", err)
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: latencyBuckets,
		// The default panics; a metrics mistake must not take investigations down.
		OnRegisterError: onError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own cardinality gauges are noise on a worker's /metrics.
		OmitCardinalityMetrics: true,
	}, opts.ReportEvery)
	return &Prometheus{
		Handler:  sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
		Registry: reg,
		HTTP:     promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		closer:   closer,
	}, nil
}

// Close stops the reporting loop after a last report.
func (p *Prometheus) Close() error { return p.closer.Close() }
