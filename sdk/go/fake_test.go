package stripemeter

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// reply is one scripted answer of the fake server.
type reply struct {
	status int
	header map[string]string
	body   string
}

// fakeServer is a local stripemeter stand-in: it answers from a script, then serves ingest
// with a ledger deduplicated by idempotency key (the key the client sent, else the server's
// derivation for tenant "default").
type fakeServer struct {
	t      *testing.T
	server *httptest.Server

	mu      sync.Mutex
	script  []reply
	bodies  [][]byte
	headers []http.Header
	ledger  map[string]bool
}

func newFakeServer(t *testing.T, script ...reply) *fakeServer {
	f := &fakeServer{t: t, script: script, ledger: map[string]bool{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeServer) URL() string { return f.server.URL }

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	var next *reply
	if len(f.script) > 0 {
		next = &f.script[0]
		f.script = f.script[1:]
	}
	f.mu.Unlock()
	if next != nil {
		for k, v := range next.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(next.status)
		_, _ = io.WriteString(w, next.body)
		return
	}
	switch r.URL.Path {
	case "/v1/events/ingest":
		f.ingest(w, body)
	default:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}
}

func (f *fakeServer) ingest(w http.ResponseWriter, body []byte) {
	var req struct {
		Events []wireEvent `json:"events"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	answer := ingestAnswer{RequestID: "req_fake"}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, e := range req.Events {
		key := e.IdempotencyKey
		if key == "" {
			ts, _ := ParseTimestamp(e.TS)
			var meta map[string]any
			_ = json.Unmarshal(e.Meta, &meta)
			key, _ = IdempotencyKey("default", Event{Metric: e.Metric, CustomerRef: e.CustomerRef,
				ResourceID: e.ResourceID, Timestamp: ts, Quantity: e.Quantity, Meta: meta})
		}
		item := EventResult{Index: i, IdempotencyKey: key, Status: StatusAccepted}
		switch {
		case e.Metric == "unknown":
			item.Status = StatusRejected
			item.Error = &EventError{Code: "unknown_metric", Message: "no such metric", Field: "metric"}
			answer.Rejected++
		case f.ledger[key]:
			item.Status = StatusDuplicate
			answer.Duplicates++
		default:
			f.ledger[key] = true
			answer.Accepted++
		}
		answer.Results = append(answer.Results, item)
	}
	out, _ := json.Marshal(answer)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (f *fakeServer) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func (f *fakeServer) stored() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ledger)
}

// deadURL is a base URL nothing listens on (a port just released).
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// sleepRecorder replaces the client's sleep: it records each delay and does not wait.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// testClient is a client for the fake server whose retries do not wait.
func testClient(t *testing.T, urls []string, opts ...Option) (*Client, *sleepRecorder) {
	t.Helper()
	base := []Option{WithAPIKey("smk_test_key_0123456789"), WithBaseURL(urls...), WithTenant(""), WithJitterSeed(1)}
	c, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	rec := &sleepRecorder{}
	c.sleep = rec.sleep
	return c, rec
}
