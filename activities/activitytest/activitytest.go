// Package activitytest is what the tests of s1copilot's activities share: the real
// client for a console under test, and the SDK test environment's results and errors.
// Only tests import it.
package activitytest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/s1copilot/s1copilot/s1client"
)

// NewClient is the real client without rate limits (the tests count requests instead).
func NewClient(t *testing.T, url, token string) *s1client.Client {
	t.Helper()
	c, err := s1client.New(url, token, s1client.WithRateLimiter(nil))
	require.NoError(t, err)
	return c
}

// Run executes an activity in the test environment and decodes its result when it
// succeeds.
func Run[T any](t *testing.T, env *testsuite.TestActivityEnvironment, activity any, args ...any) (T, error) {
	t.Helper()
	var out T
	val, err := env.ExecuteActivity(activity, args...)
	if err != nil {
		return out, err
	}
	require.NoError(t, val.Get(&out))
	return out, nil
}

// AppError asserts err is (or wraps) a *temporal.ApplicationError and returns it.
func AppError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.Truef(t, errors.As(err, &appErr), "want a *temporal.ApplicationError, got %T: %v", err, err)
	return appErr
}

// RequireNonRetryable asserts err is a non-retryable application error of type typ.
func RequireNonRetryable(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	appErr := AppError(t, err)
	require.Equal(t, typ, appErr.Type(), "error: %v", err)
	require.True(t, appErr.NonRetryable(), "a %s error must not be retried: %v", typ, err)
	return appErr
}
