package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/s1copilot/s1copilot/activities"
	"go.temporal.io/sdk/converter"
	"sync"
	"time"

	"github.com/s1copilot/s1copilot/config"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// namespaceClient connects to the dev server in another namespace, through the dial
// every s1copilot process uses.
func (b *bench) namespaceClient(ns string) (client.Client, error) {
	c, err := config.Temporal{Address: b.srv.FrontendHostPort(), Namespace: ns}.Dial(context.Background(), client.Options{Logger: b.tlog})
	if err != nil {
		return nil, fmt.Errorf("client for namespace %s: %w", ns, err)
	}
	return c, nil
}

// parallel runs f(0..n-1) on at most width goroutines and returns the first error.
func parallel(ctx context.Context, n, width int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idx := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(width, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case idx <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idx)
	wg.Wait()
	if first == nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return first
}

// count returns how many workflows match a visibility query.
func count(ctx context.Context, c client.Client, query string) (int64, error) {
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return 0, fmt.Errorf("counting %q: %w", query, err)
	}
	return resp.Count, nil
}

// waitFor polls a visibility count until it reaches want, or timeout passes.
func waitFor(ctx context.Context, c client.Client, query string, want int, timeout time.Duration, progress func(int64)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		n, err := count(ctx, c, query)
		if err == nil && n >= int64(want) {
			return nil
		}
		if progress != nil && err == nil {
			progress(n)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d workflows matching %q (last count %d): %w", want, query, n, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// waitClosed waits until want workflows of the query have closed.
func waitClosed(ctx context.Context, c client.Client, query string, want int, timeout time.Duration) error {
	return waitFor(ctx, c, query+" AND ExecutionStatus != 'Running'", want, timeout, nil)
}

// listExecutions lists every workflow matching the query, all pages.
func listExecutions(ctx context.Context, c client.Client, query string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("listing %q: %w", query, err)
		}
		out = append(out, resp.Executions...)
		if token = resp.NextPageToken; len(token) == 0 {
			return out, nil
		}
	}
}

// phaseTiming is the window of a set of workflows: first start to last close.
type phaseTiming struct {
	N         int
	Completed int
	First     time.Time
	Last      time.Time
}

func (p phaseTiming) rate() (float64, bool) { return throughput(p.Completed, p.First, p.Last) }

func timingOf(execs []*workflowpb.WorkflowExecutionInfo) phaseTiming {
	t := phaseTiming{N: len(execs)}
	for _, e := range execs {
		st := e.GetStartTime().AsTime()
		if t.First.IsZero() || st.Before(t.First) {
			t.First = st
		}
		if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			continue
		}
		t.Completed++
		if ct := e.GetCloseTime().AsTime(); ct.After(t.Last) {
			t.Last = ct
		}
	}
	return t
}

// historyFacts is what one investigation's history says.
type historyFacts struct {
	Started      time.Time // the workflow's start
	Activities   int       // activities scheduled
	S1Activities int       // of which on the S1 task queue
	LastVerified time.Time // completion of the last VerifyMitigation, zero if none
	MaxBatch     int       // the most actions a Mitigate's request carried
}

// readHistory scans a workflow's history for its activities.
func readHistory(ctx context.Context, c client.Client, workflowID, s1Queue string) (historyFacts, error) {
	var f historyFacts
	scheduled := map[int64]string{}
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return f, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		switch a := ev.GetAttributes().(type) {
		case *historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes:
			f.Started = ev.GetEventTime().AsTime()
		case *historypb.HistoryEvent_ActivityTaskScheduledEventAttributes:
			f.Activities++
			if a.ActivityTaskScheduledEventAttributes.GetTaskQueue().GetName() == s1Queue {
				f.S1Activities++
			}
			scheduled[ev.GetEventId()] = a.ActivityTaskScheduledEventAttributes.GetActivityType().GetName()
		case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
			switch scheduled[a.ActivityTaskCompletedEventAttributes.GetScheduledEventId()] {
			case "VerifyMitigation":
				f.LastVerified = ev.GetEventTime().AsTime()
			case "Mitigate":
				var mr activities.MitigateResult
				if converter.GetDefaultDataConverter().FromPayloads(a.ActivityTaskCompletedEventAttributes.GetResult(), &mr) == nil {
					f.MaxBatch = max(f.MaxBatch, mr.Batch.Size)
				}
			}
		}
	}
	return f, nil
}
