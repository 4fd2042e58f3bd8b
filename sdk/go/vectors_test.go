package stripemeter_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	stripemeter "github.com/stripemeter/stripemeter/sdk/go"
)

// The vectors shared by the server and every SDK (tests/vectors/idempotency.json).
type keyVector struct {
	Name  string `json:"name"`
	Input struct {
		TenantID    string         `json:"tenantId"`
		Metric      string         `json:"metric"`
		CustomerRef string         `json:"customerRef"`
		ResourceID  string         `json:"resourceId"`
		TS          string         `json:"ts"`
		Quantity    string         `json:"quantity"`
		Meta        map[string]any `json:"meta"`
	} `json:"input"`
	CanonicalTS       string `json:"canonicalTs"`
	CanonicalQuantity string `json:"canonicalQuantity"`
	Expected          string `json:"expected"`
}

func loadVectors(t *testing.T) []keyVector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "vectors", "idempotency.json"))
	if err != nil {
		t.Fatalf("reading the shared vectors: %v", err)
	}
	var file struct {
		Vectors []keyVector `json:"vectors"`
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber() // meta numbers keep their text, as the server reads them
	if err := decoder.Decode(&file); err != nil {
		t.Fatalf("decoding the shared vectors: %v", err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors in the shared file")
	}
	return file.Vectors
}

func TestSharedVectorsCanonicalTimestamp(t *testing.T) {
	for _, v := range loadVectors(t) {
		ts, err := stripemeter.ParseTimestamp(v.Input.TS)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if got := stripemeter.FormatTimestamp(ts); got != v.CanonicalTS {
			t.Errorf("%s: ts %q became %q, want %q", v.Name, v.Input.TS, got, v.CanonicalTS)
		}
	}
}

func TestSharedVectorsCanonicalQuantity(t *testing.T) {
	for _, v := range loadVectors(t) {
		q, err := stripemeter.ParseDecimal(v.Input.Quantity)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if q.String() != v.CanonicalQuantity {
			t.Errorf("%s: quantity %q became %q, want %q", v.Name, v.Input.Quantity, q, v.CanonicalQuantity)
		}
	}
}

func TestSharedVectorsIdempotencyKeys(t *testing.T) {
	for _, v := range loadVectors(t) {
		ts, err := stripemeter.ParseTimestamp(v.Input.TS)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		key, err := stripemeter.IdempotencyKey(v.Input.TenantID, stripemeter.Event{
			Metric:      v.Input.Metric,
			CustomerRef: v.Input.CustomerRef,
			ResourceID:  v.Input.ResourceID,
			Timestamp:   ts,
			Quantity:    stripemeter.MustDecimal(v.Input.Quantity),
			Meta:        v.Input.Meta,
		})
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if key != v.Expected {
			t.Errorf("%s: key %s, want %s", v.Name, key, v.Expected)
		}
	}
}

// Meta built from plain Go values (float64 numbers, as json.Unmarshal gives) hashes the same.
func TestSharedVectorsWithFloatMeta(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Input.Meta == nil {
			continue
		}
		raw, err := json.Marshal(v.Input.Meta)
		if err != nil {
			t.Fatal(err)
		}
		var meta map[string]any
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		ts, _ := stripemeter.ParseTimestamp(v.Input.TS)
		key, err := stripemeter.IdempotencyKey(v.Input.TenantID, stripemeter.Event{
			Metric: v.Input.Metric, CustomerRef: v.Input.CustomerRef, ResourceID: v.Input.ResourceID,
			Timestamp: ts, Quantity: stripemeter.MustDecimal(v.Input.Quantity), Meta: meta,
		})
		if err != nil || key != v.Expected {
			t.Errorf("%s: key %s (%v), want %s", v.Name, key, err, v.Expected)
		}
	}
}
