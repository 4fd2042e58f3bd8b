package stripemeter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func batchEvents(n int) []Event {
	events := make([]Event, n)
	for i := range events {
		events[i] = Event{Metric: "api_calls", CustomerRef: fmt.Sprintf("cus_%d", i%7)}
	}
	return events
}

func addAll(t *testing.T, b *Batcher, events []Event) {
	t.Helper()
	for _, e := range events {
		if _, err := b.Add(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBatcherFlushDeliversEveryQueuedEventOnce(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	b := c.NewBatcher(BatcherOptions{MaxEvents: 100, FlushInterval: time.Hour})
	addAll(t, b, batchEvents(250))
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fake.stored() != 250 || fake.requests() != 3 {
		t.Errorf("stored %d in %d requests", fake.stored(), fake.requests())
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBatcherSendsAFullBatchWithoutBeingAsked(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	b := c.NewBatcher(BatcherOptions{MaxEvents: 10, FlushInterval: time.Hour})
	defer b.Close(context.Background())
	addAll(t, b, batchEvents(10))
	waitFor(t, func() bool { return fake.stored() == 10 })
}

func TestBatcherSendsAfterTheFlushInterval(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	b := c.NewBatcher(BatcherOptions{MaxEvents: 500, FlushInterval: 20 * time.Millisecond})
	defer b.Close(context.Background())
	addAll(t, b, batchEvents(3))
	waitFor(t, func() bool { return fake.stored() == 3 })
}

func TestBatcherRequeuesARetryableFailureAndCountsItOnce(t *testing.T) {
	fake := newFakeServer(t, reply{status: 503}, reply{status: 503}, reply{status: 503})
	c, _ := testClient(t, []string{fake.URL()}, WithRetry(NoRetry))
	b := c.NewBatcher(BatcherOptions{MaxEvents: 50})
	addAll(t, b, batchEvents(40))
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fake.stored() != 40 || fake.requests() != 4 {
		t.Errorf("stored %d after %d requests", fake.stored(), fake.requests())
	}
}

func TestBatcherCloseReturnsWhatCouldNotBeDelivered(t *testing.T) {
	c, _ := testClient(t, []string{deadURL(t)}, WithRetry(NoRetry))
	c.sleep = func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() }
	b := c.NewBatcher(BatcherOptions{})
	addAll(t, b, batchEvents(5))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := b.Close(ctx)
	var batchErr *BatchError
	if !errors.As(err, &batchErr) || len(batchErr.Undelivered) != 5 {
		t.Fatalf("got %v", err)
	}
	if batchErr.Undelivered[0].Timestamp.IsZero() {
		t.Error("undelivered events lost their stamps")
	}
}

func TestBatcherReportsRejectedEventsAtClose(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	b := c.NewBatcher(BatcherOptions{})
	addAll(t, b, append(batchEvents(2), Event{Metric: "unknown", CustomerRef: "cus_1"}))
	err := b.Close(context.Background())
	var batchErr *BatchError
	if !errors.As(err, &batchErr) || len(batchErr.Rejected) != 1 || batchErr.Results[0].Error.Code != "unknown_metric" {
		t.Fatalf("got %v", err)
	}
}

func TestBatcherHandsRejectedEventsToTheCallback(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	var got []EventResult
	b := c.NewBatcher(BatcherOptions{OnRejected: func(_ []Event, results []EventResult) { got = append(got, results...) }})
	addAll(t, b, []Event{{Metric: "unknown", CustomerRef: "cus_1"}})
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Status != StatusRejected {
		t.Errorf("callback got %v", got)
	}
}

func TestBatcherRefusesEventsAfterClose(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	b := c.NewBatcher(BatcherOptions{})
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(context.Background(), batchEvents(1)[0]); !errors.Is(err, ErrBatcherClosed) {
		t.Errorf("got %v", err)
	}
}

func TestBatcherAddBlocksWhileFull(t *testing.T) {
	c, _ := testClient(t, []string{deadURL(t)}, WithRetry(NoRetry))
	c.sleep = func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() }
	b := c.NewBatcher(BatcherOptions{MaxEvents: 2, MaxBuffered: 2, FlushInterval: time.Hour})
	addAll(t, b, batchEvents(2))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := b.Add(ctx, batchEvents(1)[0]); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v", err)
	}
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer closeCancel()
	var batchErr *BatchError
	if err := b.Close(closeCtx); !errors.As(err, &batchErr) || len(batchErr.Undelivered) != 2 {
		t.Errorf("close: %v", err)
	}
}

// waitFor polls cond until it holds; the 10 s bound only turns a hang into a failure.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBatcherIsNotAffectedByLaterChangesToMeta(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	b := c.NewBatcher(BatcherOptions{FlushInterval: time.Hour})
	meta := map[string]any{"region": "eu"}
	if _, err := b.Add(context.Background(), Event{Metric: "api_calls", CustomerRef: "cus_1", Meta: meta}); err != nil {
		t.Fatal(err)
	}
	meta["region"] = "us"
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fake.bodies[0], []byte(`"meta":{"region":"eu"}`)) {
		t.Errorf("sent %s", fake.bodies[0])
	}
}
