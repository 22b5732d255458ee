// Package logging builds the zap JSON logger every s1copilot process uses and routes the
// Temporal SDK's own logs through it, so one pipeline carries them all.
package logging

import (
	"fmt"
	"log/slog"

	tlog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// New returns a production JSON logger at the given level (debug, info, warn, error).
func New(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil // an audit trail must not drop lines
	cfg.EncoderConfig.TimeKey = "ts"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	z, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("building logger: %w", err)
	}
	return z, nil
}

// Temporal adapts a zap logger to the SDK's logger interface (through slog, the SDK's
// supported structured-logging bridge).
func Temporal(z *zap.Logger) tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(zapslog.NewHandler(z.Core(), zapslog.WithCaller(true))))
}
