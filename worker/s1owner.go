package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// pollerFresh: a live worker polls again as soon as a long poll (about a minute) ends,
// so a poller last seen longer ago than this is gone (a restarted predecessor, say).
const pollerFresh = 90 * time.Second

// otherS1Pollers returns the identities other than self that polled the SentinelOne
// task queue lately, sorted: each is a second process calling SentinelOne.
func otherS1Pollers(ctx context.Context, c client.Client, queue, self string, now time.Time) ([]string, error) {
	resp, err := c.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		return nil, fmt.Errorf("describing task queue %s: %w", queue, err)
	}
	var others []string
	for _, p := range resp.GetPollers() {
		if p.GetIdentity() != self && now.Sub(p.GetLastAccessTime().AsTime()) <= pollerFresh {
			others = append(others, p.GetIdentity())
		}
	}
	slices.Sort(others)
	return slices.Compact(others), nil
}

// watchS1Pollers warns, once per process found, when another worker runs the
// SentinelOne activities too: /agents allows a burst of 1, which two processes' own
// limiters cannot keep between them (README, Scaling workers).
func watchS1Pollers(ctx context.Context, c client.Client, queue, self string, z *zap.Logger, every time.Duration) {
	warned := map[string]bool{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		others, err := otherS1Pollers(ctx, c, queue, self, time.Now())
		if err != nil {
			z.Debug("Could not check who else runs the SentinelOne activities.", zap.Error(err))
			continue
		}
		for _, id := range others {
			if !warned[id] {
				warned[id] = true
				z.Warn("Another worker runs the SentinelOne activities too: /agents allows no burst, so two processes will be refused (429) now and then. Keep S1C_WORKER_S1_ACTIVITIES=true on one worker only.",
					zap.String("taskQueue", queue), zap.String("otherWorker", id), zap.String("thisWorker", self))
			}
		}
	}
}
