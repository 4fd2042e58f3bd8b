package stripemeter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Bounds on what the client reads back.
const (
	maxResponseBytes = 32 << 20
	maxErrorBytes    = 64 << 10
)

// request is one API call: what to send (the same bytes on every attempt).
type request struct {
	method string
	path   string
	query  url.Values
	body   []byte
}

// attemptError is a failure to get any HTTP answer from one node.
type attemptError struct {
	err     error
	timeout bool
}

// do runs one call with retries and failover and decodes a 2xx JSON answer into out (when
// out is not nil). See RetryPolicy for what is retried.
func (c *Client) do(ctx context.Context, req request, out any) error {
	order := c.nodes.order()
	node, fresh := 0, 1 // index into order; how many nodes this call has tried
	backoffs := 0
	var lastNet *attemptError
	for attempt := 1; ; attempt++ {
		base := order[node]
		status, header, body, netErr := c.attempt(ctx, base, req)
		if ctx.Err() != nil {
			return contextError(ctx, lastNet, netErr)
		}
		var delay time.Duration
		switch {
		case netErr != nil:
			lastNet = netErr
			c.nodes.markDown(base)
			if attempt >= c.retry.MaxAttempts {
				return &ConnectionError{Attempts: attempt, Err: netErr.err, timeout: netErr.timeout}
			}
			node, delay, fresh, backoffs = c.failover(order, node, fresh, backoffs)
		case status < 400:
			c.nodes.markUp(base)
			return decodeAnswer(status, body, out)
		default:
			apiErr := newAPIError(status, header, body, c.now())
			apiErr.Attempts = attempt
			if !apiErr.Retryable() || attempt >= c.retry.MaxAttempts {
				return apiErr
			}
			if status == http.StatusTooManyRequests {
				// The limit is the tenant's, not the node's: wait, same node.
				backoffs++
				delay = c.jitter.backoff(c.retry, backoffs)
				if apiErr.RetryAfter > 0 {
					delay = minDuration(apiErr.RetryAfter, c.retry.MaxRetryAfter)
				}
			} else {
				c.nodes.markDown(base)
				node, delay, fresh, backoffs = c.failover(order, node, fresh, backoffs)
			}
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
				return apiErr // waiting would outlive the caller: report the answer we have
			}
		}
		if delay > 0 {
			if err := c.sleep(ctx, delay); err != nil {
				return contextError(ctx, lastNet, nil)
			}
		}
	}
}

// failover moves to the next node: at once if this call has not tried it yet, else after
// a backoff.
func (c *Client) failover(order []string, node, fresh, backoffs int) (int, time.Duration, int, int) {
	node = (node + 1) % len(order)
	if fresh < len(order) {
		return node, 0, fresh + 1, backoffs
	}
	backoffs++
	return node, c.jitter.backoff(c.retry, backoffs), fresh, backoffs
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

// contextError is the caller's cancellation or deadline, with the last failure for context.
func contextError(ctx context.Context, lastNet, current *attemptError) error {
	if current != nil {
		lastNet = current
	}
	if lastNet != nil {
		return fmt.Errorf("stripemeter: %w (last failure: %v)", ctx.Err(), lastNet.err)
	}
	return fmt.Errorf("stripemeter: %w", ctx.Err())
}

// attempt sends one HTTP request to one node. It returns the status, headers and (bounded)
// body of any HTTP answer, or an attemptError when there was none.
func (c *Client) attempt(ctx context.Context, base string, req request) (int, http.Header, []byte, *attemptError) {
	attemptCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		attemptCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	target := base + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	httpReq, err := http.NewRequestWithContext(attemptCtx, req.method, target, body)
	if err != nil {
		return 0, nil, nil, &attemptError{err: err}
	}
	httpReq.Header.Set("Authorization", "Bearer "+c.apiKey)
	httpReq.Header.Set("Accept", "application/json")
	httpReq.Header.Set("User-Agent", c.userAgent)
	if req.body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(httpReq)
	if err != nil {
		return 0, nil, nil, &attemptError{err: err, timeout: isTimeout(attemptCtx, err)}
	}
	defer resp.Body.Close()
	limit := int64(maxResponseBytes)
	if resp.StatusCode >= 400 {
		limit = maxErrorBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, nil, nil, &attemptError{err: err, timeout: isTimeout(attemptCtx, err)}
	}
	if int64(len(data)) > limit {
		if resp.StatusCode < 400 {
			return 0, nil, nil, &attemptError{err: fmt.Errorf("answer larger than %d bytes", limit)}
		}
		data = data[:limit]
	}
	return resp.StatusCode, resp.Header, data, nil
}

func isTimeout(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

func decodeAnswer(status int, body []byte, out any) error {
	if out == nil || status == http.StatusNoContent || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("stripemeter: unreadable answer (HTTP %d): %w", status, err)
	}
	return nil
}

// encodeJSON marshals a request body.
func encodeJSON(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("stripemeter: encoding the request: %w", err)
	}
	return body, nil
}
