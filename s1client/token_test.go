package s1client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/tools/s1sim/fakeclock"
	"github.com/s1copilot/s1copilot/tools/s1sim/simulator"
)

func TestAPITokenDetailsAndTheExpiredToken(t *testing.T) {
	const token = "tok-5c1e0a9b"
	start := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	clock := fakeclock.New(start)
	sim, err := simulator.New(nil, simulator.Options{Token: token, Now: clock.Now, TokenLifetime: 30 * 24 * time.Hour})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c, err := s1client.New(srv.URL, token)
	require.NoError(t, err)

	d, err := c.APITokenDetails(context.Background())
	require.NoError(t, err)
	assert.True(t, d.CreatedAt.Equal(start), "createdAt %s", d.CreatedAt)
	assert.True(t, d.ExpiresAt.Equal(start.Add(30*24*time.Hour)), "expiresAt %s", d.ExpiresAt)

	// Once expired, any call fails with one permanent error that names the console, not the token.
	clock.Advance(31 * 24 * time.Hour)
	_, err = c.ListThreats(context.Background(), s1client.ListThreatsParams{Limit: 1})
	require.Error(t, err)
	assert.True(t, errors.Is(err, s1client.ErrUnauthorized))
	assert.Contains(t, err.Error(), "the console at "+srv.URL+" refuses the API token")
	assert.NotContains(t, err.Error(), token)
	var apiErr *s1client.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.False(t, apiErr.Temporary(), "a refused token is not retried")
}
