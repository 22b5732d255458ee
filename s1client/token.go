package s1client

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// TokenDetails is what the console says about the API token this client uses.
type TokenDetails struct {
	CreatedAt time.Time
	// ExpiresAt is zero when the console gives no expiry (a token that never expires).
	ExpiresAt time.Time
}

// APITokenDetails asks the console when this client's API token expires
// (POST /users/api-token-details with {"data":{"apiToken":…}}). The endpoint is not in the
// project's API reference; its shape is the one public integrations use (the
// PowerShell-SentinelOne module validates tokens with it; several health checks read
// data.expiresAt, e.g. "2026-06-01T10:00:00.000000Z"). Treat a refusal as "expiry
// unknown", not as a bad token: a 401 here means the same as anywhere else.
func (c *Client) APITokenDetails(ctx context.Context) (TokenDetails, error) {
	var env envelope[struct {
		CreatedAt FlexString `json:"createdAt"`
		ExpiresAt FlexString `json:"expiresAt"`
	}]
	body := map[string]any{"data": map[string]string{"apiToken": strings.TrimPrefix(c.auth.header, "ApiToken ")}}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/users/api-token-details", tmpl: "/users/api-token-details", body: body}, &env); err != nil {
		return TokenDetails{}, fmt.Errorf("s1: reading the API token's expiry: %w", err)
	}
	var d TokenDetails
	var err error
	if d.CreatedAt, err = parseConsoleTime(string(env.Data.CreatedAt)); err != nil {
		return TokenDetails{}, fmt.Errorf("s1: API token details: createdAt: %w", err)
	}
	if d.ExpiresAt, err = parseConsoleTime(string(env.Data.ExpiresAt)); err != nil {
		return TokenDetails{}, fmt.Errorf("s1: API token details: expiresAt: %w", err)
	}
	return d, nil
}

// parseConsoleTime reads the console's RFC 3339 timestamps (with or without fractional
// seconds); empty is the zero time.
func parseConsoleTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t, nil
}
