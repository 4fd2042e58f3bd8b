package stripemeter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// IdempotencyKey is the key the server derives for an event it receives without one:
//
//	"evt_" + the first 32 hex digits of SHA-256 over the RFC 8785 canonical JSON of
//	[tenantId, metric, customerRef, resourceId or "", ts, quantity, meta or null]
//
// where ts is FormatTimestamp(e.Timestamp), quantity the canonical Decimal text (an unset
// quantity is 1) and an empty meta counts as null. e.Timestamp must be set: the key of an
// event without a time would depend on when it reaches the server.
func IdempotencyKey(tenantID string, e Event) (string, error) {
	if e.Timestamp.IsZero() {
		return "", inputErrorf("ts", "is required to derive an idempotency key")
	}
	meta, err := encodeMeta(e.Meta)
	if err != nil {
		return "", err
	}
	return deriveKey(tenantID, e, meta)
}

// deriveKey hashes the event with its meta as encoded for the wire (nil when empty), so the
// key covers exactly the meta the server will read.
func deriveKey(tenantID string, e Event, wireMeta json.RawMessage) (string, error) {
	var metaTree any
	if wireMeta != nil {
		decoder := json.NewDecoder(bytes.NewReader(wireMeta))
		decoder.UseNumber()
		if err := decoder.Decode(&metaTree); err != nil {
			return "", inputErrorf("meta", "%v", err)
		}
	}
	quantity := e.Quantity
	if !quantity.IsSet() {
		quantity = DecimalFromInt(1)
	}
	canonical, err := Canonicalize([]any{
		tenantID,
		e.Metric,
		e.CustomerRef,
		e.ResourceID,
		FormatTimestamp(e.Timestamp),
		quantity.String(),
		metaTree,
	})
	if err != nil {
		return "", inputErrorf("event", "%v", err)
	}
	sum := sha256.Sum256(canonical)
	return "evt_" + hex.EncodeToString(sum[:])[:32], nil
}

// encodeMeta is the meta's wire JSON, nil for an absent or empty meta. Numbers keep the
// text encoding/json gives them (json.Number keeps yours), so a value the server reads as an
// exact decimal is never rounded on the way.
func encodeMeta(meta map[string]any) (json.RawMessage, error) {
	if len(meta) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, inputErrorf("meta", "%v", err)
	}
	return raw, nil
}
