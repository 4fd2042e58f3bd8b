package stripemeter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// Server limits of one ingest request; bigger inputs are split.
const (
	MaxBatchEvents = 1000
	maxBatchBytes  = 900 << 10 // the server takes 1 MiB; room for the envelope
	maxIDRunes     = 255
)

// Event is one usage event.
type Event struct {
	Metric      string  // metric code, e.g. "api_calls"
	CustomerRef string  // your customer's id
	Quantity    Decimal // unset means 1, the API's default
	// Timestamp is when the usage happened. Zero means "now": the client stamps it once,
	// before the first attempt, so its retries are deduplicated. To make your own re-send of
	// an event deduplicate too, set it (or IdempotencyKey) yourself.
	Timestamp      time.Time
	ResourceID     string         // optional: tells apart events that are otherwise identical
	Meta           map[string]any // optional JSON object (≤ 4 KiB); empty counts as absent
	IdempotencyKey string         // optional: your own key; default: the server's derivation
	BackfillID     string         // optional: import into that open backfill session
}

// EventStatus is the server's verdict on one event.
type EventStatus string

// The verdicts: accepted (stored now), duplicate (stored before: not counted again),
// conflict (the key was stored with another payload), rejected (invalid, not stored).
const (
	StatusAccepted  EventStatus = "accepted"
	StatusDuplicate EventStatus = "duplicate"
	StatusConflict  EventStatus = "conflict"
	StatusRejected  EventStatus = "rejected"
)

// EventError says why an event was not stored.
type EventError struct {
	Code    string `json:"code"` // e.g. "unknown_metric", "invalid_quantity"
	Message string `json:"message"`
	Field   string `json:"field"`
}

// EventResult is the verdict on one event; Index is its position in the caller's slice.
type EventResult struct {
	Index          int         `json:"index"`
	IdempotencyKey string      `json:"idempotencyKey"`
	Status         EventStatus `json:"status"`
	Error          *EventError `json:"error"`
	Late           bool        `json:"late"`
}

// Stored reports whether the event is in the ledger: accepted now or a duplicate.
func (r EventResult) Stored() bool {
	return r.Status == StatusAccepted || r.Status == StatusDuplicate
}

// IngestResult holds the counts and one EventResult per event, in the caller's order.
type IngestResult struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Rejected   int           `json:"rejected"`
	Conflicts  int           `json:"conflicts"`
	Results    []EventResult `json:"results"`
	RequestIDs []string      `json:"-"` // one per HTTP request the batch was split into
}

// Failed lists the results of events that were not stored.
func (r *IngestResult) Failed() []EventResult {
	var failed []EventResult
	for _, item := range r.Results {
		if !item.Stored() {
			failed = append(failed, item)
		}
	}
	return failed
}

type ingestAnswer struct {
	IngestResult
	RequestID string `json:"requestId"`
}

// wireEvent is an event as sent: quantity a decimal string, ts the canonical text.
type wireEvent struct {
	TenantID       string          `json:"tenantId,omitempty"`
	Metric         string          `json:"metric"`
	CustomerRef    string          `json:"customerRef"`
	Quantity       Decimal         `json:"quantity"`
	TS             string          `json:"ts"`
	ResourceID     string          `json:"resourceId,omitempty"`
	Meta           json.RawMessage `json:"meta,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	BackfillID     string          `json:"backfillId,omitempty"`
}

// Track records one event and returns its verdict (accepted or duplicate). An event the
// server refuses gives an *EventRejectedError holding the verdict.
func (c *Client) Track(ctx context.Context, e Event) (*EventResult, error) {
	res, err := c.Ingest(ctx, []Event{e})
	if err != nil {
		return nil, err
	}
	if len(res.Results) != 1 {
		return nil, fmt.Errorf("stripemeter: the server answered %d results for 1 event", len(res.Results))
	}
	item := res.Results[0]
	if !item.Stored() {
		return &item, &EventRejectedError{Result: item}
	}
	return &item, nil
}

// Ingest records events (split into requests of at most 1000 events and ~900 KiB) and
// returns one verdict per event in order. A per-event refusal is in the results, not an
// error; an error means a whole request failed after its retries — then earlier requests
// of the same call may have been stored, and sending the same events again is safe.
func (c *Client) Ingest(ctx context.Context, events []Event) (*IngestResult, error) {
	payloads := make([][]byte, len(events))
	for i, e := range events {
		prepared, err := c.prepare(e)
		if err != nil {
			return nil, err
		}
		if payloads[i], err = encodeJSON(prepared); err != nil {
			return nil, err
		}
	}
	total := &IngestResult{Results: make([]EventResult, 0, len(events))}
	for start := 0; start < len(payloads); {
		end := chunkEnd(payloads, start)
		body := []byte(`{"events":[`)
		for i := start; i < end; i++ {
			if i > start {
				body = append(body, ',')
			}
			body = append(body, payloads[i]...)
		}
		body = append(body, "]}"...)
		var answer ingestAnswer
		req := request{method: http.MethodPost, path: "/v1/events/ingest", body: body}
		if err := c.do(ctx, req, &answer); err != nil {
			return nil, err
		}
		total.merge(answer, start)
		start = end
	}
	return total, nil
}

func chunkEnd(payloads [][]byte, start int) int {
	end, size := start, 0
	for end < len(payloads) && end-start < MaxBatchEvents {
		if end > start && size+len(payloads[end])+1 > maxBatchBytes {
			break
		}
		size += len(payloads[end]) + 1
		end++
	}
	return end
}

func (r *IngestResult) merge(answer ingestAnswer, offset int) {
	r.Accepted += answer.Accepted
	r.Duplicates += answer.Duplicates
	r.Rejected += answer.Rejected
	r.Conflicts += answer.Conflicts
	for _, item := range answer.Results {
		item.Index += offset
		r.Results = append(r.Results, item)
	}
	if answer.RequestID != "" {
		r.RequestIDs = append(r.RequestIDs, answer.RequestID)
	}
}

// Stamp returns e with its Timestamp set (now, if unset) and, when the client knows its
// tenant, its IdempotencyKey computed. Sending a stamped event twice is deduplicated. The
// stamped event holds its own copy of Meta, so changing your map later changes nothing.
func (c *Client) Stamp(e Event) (Event, error) {
	_, stamped, err := c.prepareEvent(e)
	return stamped, err
}

func (c *Client) prepare(e Event) (wireEvent, error) {
	wire, _, err := c.prepareEvent(e)
	return wire, err
}

func (c *Client) prepareEvent(e Event) (wireEvent, Event, error) {
	if err := checkEventIDs(e); err != nil {
		return wireEvent{}, e, err
	}
	if e.Timestamp.IsZero() {
		e.Timestamp = c.stamps.stamp()
	} else if err := checkInstant(e.Timestamp, "ts"); err != nil {
		return wireEvent{}, e, err
	}
	if !e.Quantity.IsSet() {
		e.Quantity = DecimalFromInt(1)
	}
	meta, err := encodeMeta(e.Meta)
	if err != nil {
		return wireEvent{}, e, err
	}
	if e.Meta, err = copyMeta(meta); err != nil {
		return wireEvent{}, e, err
	}
	if e.IdempotencyKey == "" && c.tenantID != "" {
		if e.IdempotencyKey, err = deriveKey(c.tenantID, e, meta); err != nil {
			return wireEvent{}, e, err
		}
	}
	return wireEvent{
		TenantID:       c.tenantID,
		Metric:         e.Metric,
		CustomerRef:    e.CustomerRef,
		Quantity:       e.Quantity,
		TS:             FormatTimestamp(e.Timestamp),
		ResourceID:     e.ResourceID,
		Meta:           meta,
		IdempotencyKey: e.IdempotencyKey,
		BackfillID:     e.BackfillID,
	}, e, nil
}

// checkEventIDs refuses locally what the server would refuse per event and what could not
// be hashed the same on both sides (text that is not UTF-8).
func checkEventIDs(e Event) error {
	fields := []struct {
		name, value string
		required    bool
	}{
		{"metric", e.Metric, true},
		{"customerRef", e.CustomerRef, true},
		{"resourceId", e.ResourceID, false},
		{"idempotencyKey", e.IdempotencyKey, false},
		{"backfillId", e.BackfillID, false},
	}
	for _, f := range fields {
		switch {
		case f.value == "" && f.required:
			return inputErrorf(f.name, "is required")
		case !utf8.ValidString(f.value):
			return inputErrorf(f.name, "is not valid UTF-8")
		case utf8.RuneCountInString(f.value) > maxIDRunes:
			return inputErrorf(f.name, "is longer than %d characters", maxIDRunes)
		}
		for _, r := range f.value {
			if r == 0 {
				return inputErrorf(f.name, "contains a NUL character")
			}
		}
	}
	return nil
}

// copyMeta decodes the wire meta again (numbers as json.Number, so they re-encode to the same
// text): a private copy that the caller's later changes cannot reach.
func copyMeta(wire json.RawMessage) (map[string]any, error) {
	if wire == nil {
		return nil, nil
	}
	var meta map[string]any
	decoder := json.NewDecoder(bytes.NewReader(wire))
	decoder.UseNumber()
	if err := decoder.Decode(&meta); err != nil {
		return nil, inputErrorf("meta", "%v", err)
	}
	return meta, nil
}
