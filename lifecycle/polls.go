package lifecycle

import (
	"context"
	"errors"
	"path"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pollGrace: a failed poll is retried within a second or so; failing without a single
// success for this long is no blip.
const pollGrace = 15 * time.Second

// polls follows the outcome of the SDK's task polls. A long poll returns (empty) at
// least once a minute on a healthy connection, so one success resets it; polls that
// do not happen at all (every slot busy) leave it as it was.
type polls struct {
	mu          sync.Mutex
	failedSince time.Time // zero while the last poll succeeded
	last        error
}

// ClientOptions adds to opts the interceptor through which the process sees its task
// polls (for WatchTemporal).
func (p *Process) ClientOptions(opts client.Options) client.Options {
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(p.polls.intercept))
	return opts
}

func (p *polls) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if !strings.HasPrefix(path.Base(method), "Poll") {
		return err
	}
	if status.Code(err) == codes.Canceled || errors.Is(ctx.Err(), context.Canceled) {
		return err // the worker is stopping
	}
	p.record(err, time.Now())
	return err
}

func (p *polls) record(err error, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = err
	switch {
	case err == nil:
		p.failedSince = time.Time{}
	case p.failedSince.IsZero():
		p.failedSince = now
	}
}

// failing returns the last poll error and since when polls have failed, once they
// have failed for pollGrace without a success; nil otherwise.
func (p *polls) failing(now time.Time) (time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failedSince.IsZero() || now.Sub(p.failedSince) < pollGrace {
		return time.Time{}, nil
	}
	return p.failedSince, p.last
}
