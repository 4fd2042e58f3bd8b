package stripemeter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors, for errors.Is. An *APIError matches the one of its status class, a
// *ConnectionError matches ErrTimeout when its last failure was a timeout, an *InputError
// matches ErrInvalidInput.
var (
	ErrBadRequest      = errors.New("stripemeter: bad request")       // 400, 422 and other 4xx
	ErrUnauthorized    = errors.New("stripemeter: unauthorized")      // 401: missing or unknown API key
	ErrForbidden       = errors.New("stripemeter: forbidden")         // 403: scope, or tenantId differs from the key's
	ErrNotFound        = errors.New("stripemeter: not found")         // 404
	ErrConflict        = errors.New("stripemeter: conflict")          // 409, e.g. metric_exists
	ErrPayloadTooLarge = errors.New("stripemeter: payload too large") // 413
	ErrRateLimited     = errors.New("stripemeter: rate limited")      // 429 after every retry
	ErrServer          = errors.New("stripemeter: server error")      // 5xx after every retry
	ErrUnavailable     = errors.New("stripemeter: service unavailable")
	ErrTimeout         = errors.New("stripemeter: timeout")
	ErrInvalidInput    = errors.New("stripemeter: invalid input")
	ErrBatcherClosed   = errors.New("stripemeter: batcher closed")
)

// FieldError is one entry of a problem body's "errors" list.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// APIError is an HTTP error answer, read from its RFC 9457 problem body
// (application/problem+json). Use errors.As to get it, errors.Is with the sentinels
// (ErrNotFound, ErrConflict, …) to test its class.
type APIError struct {
	Status     int           // HTTP status
	Type       string        // problem "type" URI
	Code       string        // stripemeter's machine-readable code, e.g. "metric_exists"
	Title      string        // short summary of the status
	Detail     string        // what went wrong with this request
	Errors     []FieldError  // field errors, when the body names fields
	RequestID  string        // the server's request id ("requestId" or X-Request-Id)
	RetryAfter time.Duration // from Retry-After (429, 503), zero when absent
	Body       []byte        // the raw body (bounded)
	Attempts   int           // HTTP attempts made before giving up
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stripemeter: HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	} else if e.Title != "" {
		b.WriteString(": " + e.Title)
	}
	return b.String()
}

// Is matches the sentinel of the status class.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrPayloadTooLarge:
		return e.Status == http.StatusRequestEntityTooLarge
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.Status == http.StatusServiceUnavailable
	case ErrServer:
		return e.Status >= 500
	case ErrBadRequest:
		return e.Status >= 400 && e.Status < 500 && !knownClientStatus(e.Status)
	}
	return false
}

func knownClientStatus(status int) bool {
	switch status {
	case 401, 403, 404, 409, 413, 429:
		return true
	}
	return false
}

// Retryable reports whether the client retries this status: 408, 429 and 5xx.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

type problemBody struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Detail    string       `json:"detail"`
	Code      string       `json:"code"`
	Errors    []FieldError `json:"errors"`
	RequestID string       `json:"requestId"`
}

// newAPIError reads a problem body; a body that is not one still gives status and text.
func newAPIError(status int, header http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{Status: status, Body: body, RequestID: header.Get("X-Request-Id")}
	var p problemBody
	if json.Unmarshal(body, &p) == nil {
		e.Type, e.Title, e.Detail, e.Code, e.Errors = p.Type, p.Title, p.Detail, p.Code, p.Errors
		if p.RequestID != "" {
			e.RequestID = p.RequestID
		}
	} else if text := strings.TrimSpace(string(body)); text != "" && len(text) <= 200 {
		e.Detail = text
	}
	if e.Title == "" {
		e.Title = http.StatusText(status)
	}
	e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	return e
}

// ConnectionError means no node answered: connection refused or reset, DNS failure, TLS
// failure or a per-attempt timeout, on every attempt. Err is the last failure.
type ConnectionError struct {
	Attempts int
	Err      error
	timeout  bool
}

func (e *ConnectionError) Error() string {
	kind := "no stripemeter node answered"
	if e.timeout {
		kind = "stripemeter node timed out"
	}
	return fmt.Sprintf("stripemeter: %s after %d attempt(s): %v", kind, e.Attempts, e.Err)
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// Timeout reports whether the last failure was a timeout.
func (e *ConnectionError) Timeout() bool { return e.timeout }

// Is matches ErrTimeout when the last failure was a timeout.
func (e *ConnectionError) Is(target error) bool { return target == ErrTimeout && e.timeout }

// InputError is an argument the client refuses before sending anything.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("stripemeter: invalid %s: %s", e.Field, e.Reason)
}

// Is matches ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

func inputErrorf(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// EventRejectedError is what Track returns when the server answered but did not store the
// event (status "rejected" or "conflict"); Result holds the server's verdict.
type EventRejectedError struct {
	Result EventResult
}

func (e *EventRejectedError) Error() string {
	msg := "stripemeter: event " + string(e.Result.Status)
	if e.Result.Error != nil {
		msg += ": " + e.Result.Error.Code
		if e.Result.Error.Message != "" {
			msg += ": " + e.Result.Error.Message
		}
	}
	return msg
}
