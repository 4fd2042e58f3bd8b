package stripemeter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// BatcherOptions configures a Batcher; zero fields take the defaults.
type BatcherOptions struct {
	MaxEvents     int           // send when this many events are queued; default 500, at most 1000
	FlushInterval time.Duration // send at most this long after an event is queued; default 1 s
	MaxBuffered   int           // queued + in flight; Add blocks when full; default 10 000
	// OnRejected receives the events the server refused one by one (unknown metric,
	// invalid quantity, conflict) with their verdicts. Without it they are kept and Close
	// reports them in a *BatchError.
	OnRejected func(events []Event, results []EventResult)
	// OnError receives batches refused as a whole by a final error (401, 403, 413, 422…).
	// Without it they are kept and Close reports them. Retryable failures (network, 429,
	// 5xx) are never reported here: such a batch stays queued and is retried.
	OnError func(events []Event, err error)
}

// BatchError is what Flush and Close return when some accepted events were not stored.
type BatchError struct {
	Undelivered []Event       // never confirmed stored (server unreachable until the deadline)
	Refused     []Event       // refused as a whole, see Err
	Err         error         // the last whole-batch error, if any
	Rejected    []Event       // refused one by one, with their verdicts in Results
	Results     []EventResult // verdicts of Rejected, same order
}

func (e *BatchError) Error() string {
	msg := fmt.Sprintf("stripemeter: batcher: %d undelivered, %d refused, %d rejected event(s)",
		len(e.Undelivered), len(e.Refused), len(e.Rejected))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *BatchError) Unwrap() error { return e.Err }

type queuedEvent struct {
	event    Event
	queuedAt time.Time
}

// Batcher queues events and sends them in the background, in batches, through its
// client's retrying Ingest. Add stamps each event at once (timestamp and, when the tenant
// is known, idempotency key), so a batch retried any number of times is counted once.
//
// A batch that fails with a retryable error goes back to the front of the queue and is
// retried with backoff for as long as the Batcher is open; memory stays bounded by
// MaxBuffered. Nothing accepted is dropped silently: every event is stored, handed to a
// callback, or returned by Close in a *BatchError.
type Batcher struct {
	client *Client
	opts   BatcherOptions

	mu       sync.Mutex
	pending  []queuedEvent
	inFlight int
	added    uint64 // events accepted by Add, ever
	done     uint64 // events settled (stored, handed over or kept as failed), in order
	flushTo  uint64 // send without waiting while done < flushTo
	closed   bool
	changed  chan struct{} // closed and replaced whenever done or pending changes
	failures BatchError

	wake     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	runCtx   context.Context
	cancel   context.CancelFunc
	exited   chan struct{}
}

// NewBatcher starts a Batcher sending through c. Close it to flush and stop it.
func (c *Client) NewBatcher(opts BatcherOptions) *Batcher {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 500
	}
	if opts.MaxEvents > MaxBatchEvents {
		opts.MaxEvents = MaxBatchEvents
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxBuffered <= 0 {
		opts.MaxBuffered = 10_000
	}
	if opts.MaxBuffered < opts.MaxEvents {
		opts.MaxBuffered = opts.MaxEvents
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Batcher{
		client:  c,
		opts:    opts,
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		runCtx:  ctx,
		cancel:  cancel,
		exited:  make(chan struct{}),
	}
	go b.run()
	return b
}

// Add stamps e and queues it. It blocks while MaxBuffered events are queued or in flight,
// until there is room or ctx ends. The returned event is the stamped one. Invalid events
// are refused here (an *InputError), before anything is queued.
func (b *Batcher) Add(ctx context.Context, e Event) (Event, error) {
	stamped, err := b.client.Stamp(e)
	if err != nil {
		return e, err
	}
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return stamped, ErrBatcherClosed
		}
		if len(b.pending)+b.inFlight < b.opts.MaxBuffered {
			b.pending = append(b.pending, queuedEvent{event: stamped, queuedAt: time.Now()})
			b.added++
			full := len(b.pending) >= b.opts.MaxEvents
			first := len(b.pending) == 1
			b.mu.Unlock()
			if full || first {
				b.nudge()
			}
			return stamped, nil
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return stamped, fmt.Errorf("stripemeter: batcher full: %w", ctx.Err())
		}
	}
}

// Flush sends everything queued before the call and waits until it is settled or ctx ends.
// It returns a *BatchError if events refused so far were not handed to a callback.
func (b *Batcher) Flush(ctx context.Context) error {
	if err := b.settle(ctx); err != nil {
		return err
	}
	return b.failureError(nil)
}

// Close stops accepting events, sends everything queued, and stops the background
// goroutine. If ctx ends first, the events not confirmed stored are returned in a
// *BatchError (Undelivered): they keep their timestamps and keys, so sending them again
// later cannot count them twice. Close is safe to call more than once.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	settleErr := b.settle(ctx)
	b.stopOnce.Do(func() {
		close(b.stop)
		b.cancel()
	})
	<-b.exited
	b.mu.Lock()
	var undelivered []Event
	for _, q := range b.pending {
		undelivered = append(undelivered, q.event)
	}
	b.pending = nil
	b.mu.Unlock()
	if err := b.failureError(undelivered); err != nil {
		return err
	}
	return settleErr
}

// settle asks for everything added so far to be sent and waits for it.
func (b *Batcher) settle(ctx context.Context) error {
	b.mu.Lock()
	target := b.added
	if target > b.flushTo {
		b.flushTo = target
	}
	b.mu.Unlock()
	b.nudge()
	for {
		b.mu.Lock()
		done, changed := b.done, b.changed
		b.mu.Unlock()
		if done >= target {
			return nil
		}
		select {
		case <-changed:
		case <-b.exited:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("stripemeter: batcher flush: %w", ctx.Err())
		}
	}
}

func (b *Batcher) failureError(undelivered []Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(undelivered) == 0 && len(b.failures.Refused) == 0 && len(b.failures.Rejected) == 0 {
		return nil
	}
	report := b.failures
	report.Undelivered = undelivered
	return &report
}

func (b *Batcher) nudge() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// broadcast wakes everything waiting on a change; call with b.mu held.
func (b *Batcher) broadcast() {
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *Batcher) run() {
	defer close(b.exited)
	failures := 0
	for {
		batch, ok := b.next()
		if !ok {
			return
		}
		if b.send(batch) {
			failures = 0
			continue
		}
		failures++
		delay := b.client.jitter.backoff(b.client.retry, failures)
		if b.client.sleep(b.runCtx, delay) != nil {
			return
		}
	}
}

// next waits until a batch is due (full, old enough, or flushed) and takes it.
func (b *Batcher) next() ([]Event, bool) {
	for {
		b.mu.Lock()
		wait := time.Duration(-1)
		if n := len(b.pending); n > 0 {
			age := time.Since(b.pending[0].queuedAt)
			if n >= b.opts.MaxEvents || b.done < b.flushTo || age >= b.opts.FlushInterval {
				take := n
				if take > b.opts.MaxEvents {
					take = b.opts.MaxEvents
				}
				batch := make([]Event, take)
				for i := range batch {
					batch[i] = b.pending[i].event
				}
				b.pending = b.pending[take:]
				b.inFlight = take
				b.mu.Unlock()
				return batch, true
			}
			wait = b.opts.FlushInterval - age
		}
		b.mu.Unlock()
		var timeout <-chan time.Time
		var timer *time.Timer
		if wait >= 0 {
			timer = time.NewTimer(wait)
			timeout = timer.C
		}
		select {
		case <-b.stop:
			return nil, false
		case <-b.wake:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// send delivers one batch; false means a retryable failure (the batch is queued again).
func (b *Batcher) send(batch []Event) bool {
	result, err := b.client.Ingest(b.runCtx, batch)
	if err != nil && retryable(err) {
		b.mu.Lock()
		requeued := make([]queuedEvent, len(batch), len(batch)+len(b.pending))
		for i, e := range batch {
			requeued[i] = queuedEvent{event: e, queuedAt: time.Now()}
		}
		b.pending = append(requeued, b.pending...)
		b.inFlight = 0
		b.broadcast()
		b.mu.Unlock()
		return false
	}
	if err != nil {
		b.refused(batch, err)
	} else {
		b.rejected(batch, result)
	}
	b.mu.Lock()
	b.inFlight = 0
	b.done += uint64(len(batch))
	b.broadcast()
	b.mu.Unlock()
	return true
}

func retryable(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var connErr *ConnectionError
	return errors.As(err, &connErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (b *Batcher) refused(batch []Event, err error) {
	if b.opts.OnError != nil {
		b.opts.OnError(batch, err)
		return
	}
	b.mu.Lock()
	b.failures.Refused = append(b.failures.Refused, batch...)
	b.failures.Err = err
	b.mu.Unlock()
}

func (b *Batcher) rejected(batch []Event, result *IngestResult) {
	var events []Event
	var verdicts []EventResult
	for _, r := range result.Results {
		if !r.Stored() && r.Index >= 0 && r.Index < len(batch) {
			events = append(events, batch[r.Index])
			verdicts = append(verdicts, r)
		}
	}
	if len(events) == 0 {
		return
	}
	if b.opts.OnRejected != nil {
		b.opts.OnRejected(events, verdicts)
		return
	}
	b.mu.Lock()
	b.failures.Rejected = append(b.failures.Rejected, events...)
	b.failures.Results = append(b.failures.Results, verdicts...)
	b.mu.Unlock()
}
