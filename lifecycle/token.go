package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/s1copilot/s1copilot/metrics"
	"github.com/s1copilot/s1copilot/s1client"
)

const (
	// TokenWarnBefore: from this long before the API token expires, the worker warns
	// (daily, on every re-read), so someone rotates it before investigations stop.
	TokenWarnBefore = 14 * 24 * time.Hour
	// tokenReadEvery: the expiry changes only when someone rotates the token, which
	// means a restart with the new one; one console read a day notices an extension.
	tokenReadEvery = 24 * time.Hour
	// tokenCheckEvery: how often the known expiry is compared with the clock (no
	// request), so readiness fails within a minute of the token expiring.
	tokenCheckEvery = time.Minute
)

// WatchS1Token reads the SentinelOne API token's expiry at start and daily, exports the
// time left as s1copilot_s1_token_expiry_seconds, warns from TokenWarnBefore, and fails
// readiness once the token has expired, saying how to rotate it: an expired token
// otherwise silently stops every investigation. A console that does not answer the
// token-details request leaves the expiry unknown (logged once), never unready.
func (p *Process) WatchS1Token(s1 *s1client.Client, h client.MetricsHandler) {
	w := &tokenWatch{s1: s1, gauge: h, log: p.log, now: time.Now}
	p.add(&check{name: "SentinelOne API token", every: tokenCheckEvery, probe: w.probe})
}

type tokenWatch struct {
	s1    *s1client.Client
	gauge client.MetricsHandler
	log   *zap.Logger
	now   func() time.Time

	mu        sync.Mutex
	readAt    time.Time
	expiresAt time.Time // zero: unknown, or the console gives none
	refused   error     // the console refused the token itself (401)
	unknown   bool      // the last read failed for another reason (already logged)
}

func (w *tokenWatch) probe(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if w.readAt.IsZero() || now.Sub(w.readAt) >= tokenReadEvery {
		w.read(ctx, now)
	}
	if w.refused != nil {
		return w.refused
	}
	if w.expiresAt.IsZero() {
		return nil
	}
	left := w.expiresAt.Sub(now)
	if w.gauge != nil {
		w.gauge.Gauge(metrics.S1TokenExpiry).Update(left.Seconds())
	}
	if left <= 0 {
		return fmt.Errorf("the SentinelOne API token for %s expired at %s, so every call to the console fails: %s",
			w.s1.BaseURL(), w.expiresAt.UTC().Format(time.RFC3339), rotateAdvice)
	}
	return nil
}

// rotateAdvice is how to replace the token; it never names the token itself.
const rotateAdvice = "generate a new API token for the service user in the console (Settings > Users > Service Users, or My User > API Token Operations), " +
	"put it where S1C_S1_TOKEN comes from (the Kubernetes Secret), and restart the worker and the poller"

// read asks the console once; the caller holds mu.
func (w *tokenWatch) read(ctx context.Context, now time.Time) {
	d, err := w.s1.APITokenDetails(ctx)
	if ctx.Err() != nil {
		return // stopping, or the probe timed out: try again next time
	}
	w.readAt = now
	switch {
	case errors.Is(err, s1client.ErrUnauthorized):
		w.refused = fmt.Errorf("SentinelOne at %s refuses the API token (401): it has expired or been revoked; %s", w.s1.BaseURL(), rotateAdvice)
		return
	case err != nil:
		if !w.unknown {
			w.log.Warn("The SentinelOne API token's expiry could not be read; it is not watched until the next daily try.", zap.Error(err))
		}
		w.unknown, w.refused = true, nil
		return
	}
	w.unknown, w.refused, w.expiresAt = false, nil, d.ExpiresAt
	left := d.ExpiresAt.Sub(now)
	switch {
	case d.ExpiresAt.IsZero():
		w.log.Info("The SentinelOne API token has no expiry.")
	case left <= 0:
		// probe reports it as not ready
	case left < TokenWarnBefore:
		w.log.Warn(fmt.Sprintf("The SentinelOne API token expires in %d days (%s); rotate it before then: %s",
			int(left.Hours()/24), d.ExpiresAt.UTC().Format(time.RFC3339), rotateAdvice),
			zap.Time("expires_at", d.ExpiresAt), zap.String("console", w.s1.BaseURL()))
	default:
		w.log.Info("SentinelOne API token expiry read.", zap.Time("expires_at", d.ExpiresAt), zap.Int("days_left", int(left.Hours()/24)))
	}
}
