package main

import (
	"fmt"
	"os"

	tlog "go.temporal.io/sdk/log"
)

// quietLogger keeps the SDK's informational chatter out of a CLI's output; the
// commands print what matters themselves.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(msg string, kv ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"temporal:", msg}, kv...)...)
}

var _ tlog.Logger = quietLogger{}
