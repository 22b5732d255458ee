package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/tools/devstack"
)

// A second process polling the SentinelOne queue is found; this process's own pollers
// are not.
func TestOtherS1PollersFindsASecondWorker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, devstack.DevServerOptions(devstack.TemporalForTest(t)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	const queue = "s1-owner-test"
	poll := func(identity string) {
		c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default", Identity: identity})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		w := worker.New(c, queue, worker.Options{})
		w.RegisterActivity(&activities.Activities{})
		require.NoError(t, w.Start())
		t.Cleanup(w.Stop)
	}
	poll("1@pod-a@")
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: "default"})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	var others []string
	require.Eventually(t, func() bool {
		resp, err := c.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		return err == nil && len(resp.GetPollers()) > 0
	}, 30*time.Second, 100*time.Millisecond, "the first worker's pollers never showed")
	others, err = otherS1Pollers(ctx, c, queue, "1@pod-a@", time.Now())
	require.NoError(t, err)
	assert.Empty(t, others, "its own pollers are not another worker")

	poll("2@pod-b@")
	require.Eventually(t, func() bool {
		others, err = otherS1Pollers(ctx, c, queue, "1@pod-a@", time.Now())
		return err == nil && len(others) == 1
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, []string{"2@pod-b@"}, others)

	// A poller not seen for longer than pollerFresh is a process that is gone.
	others, err = otherS1Pollers(ctx, c, queue, "1@pod-a@", time.Now().Add(pollerFresh+time.Minute))
	require.NoError(t, err)
	assert.Empty(t, others)
}
