package codec

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// maxJWKSBytes bounds a key set download; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// FetchJWKS downloads a key set from the identity provider's jwks_uri.
func FetchJWKS(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL %q: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the JWKS from %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("reading the JWKS from %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the JWKS from %s: %s", url, resp.Status)
	}
	return body, nil
}

// KeepKeysFresh re-fetches the key set every interval until ctx ends, so that keys the
// provider rotates in are accepted and keys it retires stop verifying. A failed fetch
// keeps the current set and is logged.
func (v *JWTVerifier) KeepKeysFresh(ctx context.Context, hc *http.Client, url string, every time.Duration, log *zap.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := v.refresh(ctx, hc, url); err != nil && ctx.Err() == nil {
			log.Warn("The identity provider's key set could not be refreshed; keeping the current one.", zap.Error(err))
		}
	}
}

func (v *JWTVerifier) refresh(ctx context.Context, hc *http.Client, url string) error {
	raw, err := FetchJWKS(ctx, hc, url)
	if err != nil {
		return err
	}
	return v.SetKeys(raw)
}
