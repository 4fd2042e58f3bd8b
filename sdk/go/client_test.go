package stripemeter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

var apiCallEvent = Event{Metric: "api_calls", CustomerRef: "cus_1", Quantity: MustDecimal("1.50")}

func TestRetriesA503WithTheSameBytes(t *testing.T) {
	fake := newFakeServer(t, reply{status: 503, body: `{"status":503,"code":"store_unavailable"}`})
	c, _ := testClient(t, []string{fake.URL()}, WithTenant("default"))
	res, err := c.Ingest(context.Background(), []Event{apiCallEvent})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || fake.requests() != 2 {
		t.Fatalf("accepted %d after %d requests", res.Accepted, fake.requests())
	}
	if !bytes.Equal(fake.bodies[0], fake.bodies[1]) {
		t.Errorf("the retry sent other bytes:\n%s\n%s", fake.bodies[0], fake.bodies[1])
	}
}

func TestSendsTheKeyTheServerWouldDerive(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()}, WithTenant("default"))
	res, err := c.Ingest(context.Background(), []Event{apiCallEvent})
	if err != nil {
		t.Fatal(err)
	}
	var sent struct{ Events []wireEvent }
	if err := json.Unmarshal(fake.bodies[0], &sent); err != nil {
		t.Fatal(err)
	}
	e := sent.Events[0]
	ts, _ := ParseTimestamp(e.TS)
	want, _ := IdempotencyKey("default", Event{Metric: e.Metric, CustomerRef: e.CustomerRef, Timestamp: ts, Quantity: e.Quantity})
	if e.IdempotencyKey != want || res.Results[0].IdempotencyKey != want {
		t.Errorf("sent key %s, result key %s, want %s", e.IdempotencyKey, res.Results[0].IdempotencyKey, want)
	}
}

func TestWithoutTenantSendsTheStampedTimeAndNoKey(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	if _, err := c.Track(context.Background(), apiCallEvent); err != nil {
		t.Fatal(err)
	}
	var sent struct{ Events []map[string]any }
	if err := json.Unmarshal(fake.bodies[0], &sent); err != nil {
		t.Fatal(err)
	}
	e := sent.Events[0]
	if _, hasKey := e["idempotencyKey"]; hasKey || e["ts"] == nil || e["quantity"] != "1.5" {
		t.Errorf("sent %v", e)
	}
}

func TestQuantityIsAJSONStringOnTheWire(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	e := apiCallEvent
	e.Quantity = MustDecimal("12345678901234567.891")
	if _, err := c.Track(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(fake.bodies[0], []byte(`"quantity":"12345678901234567.891"`)) {
		t.Errorf("body %s", fake.bodies[0])
	}
}

func TestHonoursRetryAfterOnTheSameNode(t *testing.T) {
	fake := newFakeServer(t, reply{status: 429, header: map[string]string{"Retry-After": "2"}, body: `{"status":429}`})
	other := newFakeServer(t)
	c, rec := testClient(t, []string{fake.URL(), other.URL()})
	if _, err := c.Track(context.Background(), apiCallEvent); err != nil {
		t.Fatal(err)
	}
	if got := rec.recorded(); len(got) != 1 || got[0] != 2*time.Second {
		t.Errorf("waits %v, want [2s]", got)
	}
	if fake.requests() != 2 || other.requests() != 0 {
		t.Errorf("requests: %d on the limited node, %d on the other", fake.requests(), other.requests())
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	fake := newFakeServer(t, reply{status: 429, header: map[string]string{"Retry-After": "3600"}})
	c, rec := testClient(t, []string{fake.URL()}, WithRetry(RetryPolicy{MaxAttempts: 3, MaxRetryAfter: 5 * time.Second}))
	if _, err := c.Track(context.Background(), apiCallEvent); err != nil {
		t.Fatal(err)
	}
	if got := rec.recorded(); len(got) != 1 || got[0] != 5*time.Second {
		t.Errorf("waits %v, want [5s]", got)
	}
}

func TestRetryAfterBeyondTheCallersDeadlineReturnsTheAnswer(t *testing.T) {
	fake := newFakeServer(t, reply{status: 429, header: map[string]string{"Retry-After": "30"}, body: `{"code":"rate_limited"}`})
	c, rec := testClient(t, []string{fake.URL()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Track(ctx, apiCallEvent)
	if !errors.Is(err, ErrRateLimited) || len(rec.recorded()) != 0 {
		t.Errorf("got %v after waits %v", err, rec.recorded())
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2025, 1, 16, 14, 30, 0, 0, time.UTC)
	if got := parseRetryAfter("Thu, 16 Jan 2025 14:30:07 GMT", now); got != 7*time.Second {
		t.Errorf("got %v", got)
	}
	if got := parseRetryAfter("soon", now); got != 0 {
		t.Errorf("unreadable header gave %v", got)
	}
}

func TestFailsOverToTheNextNodeAtOnce(t *testing.T) {
	live := newFakeServer(t)
	c, rec := testClient(t, []string{deadURL(t), live.URL()})
	for i := 0; i < 3; i++ { // the rotating start node makes some calls begin on the dead one
		if _, err := c.Track(context.Background(), apiCallEvent); err != nil {
			t.Fatal(err)
		}
	}
	if live.stored() != 3 || len(rec.recorded()) != 0 {
		t.Errorf("stored %d, waits %v", live.stored(), rec.recorded())
	}
}

func TestFailsOverOn5xx(t *testing.T) {
	broken := newFakeServer(t, reply{status: 502}, reply{status: 502}, reply{status: 502})
	live := newFakeServer(t)
	c, _ := testClient(t, []string{broken.URL(), live.URL()})
	if _, err := c.Track(context.Background(), apiCallEvent); err != nil {
		t.Fatal(err)
	}
	if live.stored() != 1 || broken.requests() != 1 {
		t.Errorf("stored %d on the live node; %d requests on the broken one", live.stored(), broken.requests())
	}
}

func TestBacksOffOnceEveryNodeWasTried(t *testing.T) {
	c, rec := testClient(t, []string{deadURL(t), deadURL(t)}, WithRetry(RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}))
	_, err := c.Track(context.Background(), apiCallEvent)
	var connErr *ConnectionError
	if !errors.As(err, &connErr) || connErr.Attempts != 5 {
		t.Fatalf("got %v", err)
	}
	delays := rec.recorded()
	if len(delays) != 3 {
		t.Fatalf("waits %v: want an immediate failover, then three backoffs", delays)
	}
	for i, d := range delays {
		if ceiling := 100 * time.Millisecond << i; d < 0 || d > ceiling {
			t.Errorf("backoff %d is %v, outside [0, %v]", i+1, d, ceiling)
		}
	}
}

func TestFullJitterStaysUnderTheCappedExponential(t *testing.T) {
	j := newJitter(42)
	p := RetryPolicy{BaseDelay: 250 * time.Millisecond, MaxDelay: 8 * time.Second}
	for n := 1; n <= 12; n++ {
		ceiling := p.BaseDelay << (n - 1)
		if ceiling > p.MaxDelay {
			ceiling = p.MaxDelay
		}
		for i := 0; i < 200; i++ {
			if d := j.backoff(p, n); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", n, d, ceiling)
			}
		}
	}
}

func TestGivesUpWithAnAPIErrorAfterTheLastAttempt(t *testing.T) {
	script := make([]reply, 6)
	for i := range script {
		script[i] = reply{status: 500, body: `{"title":"Internal Server Error","status":500}`}
	}
	fake := newFakeServer(t, script...)
	c, _ := testClient(t, []string{fake.URL()})
	_, err := c.Track(context.Background(), apiCallEvent)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 || apiErr.Attempts != 6 || !errors.Is(err, ErrServer) {
		t.Fatalf("got %v", err)
	}
}

func TestProblemBodyBecomesATypedErrorWithoutRetry(t *testing.T) {
	problem := `{"type":"about:blank","title":"Unprocessable Content","status":422,"detail":"quantity must be ≥ 0",
		"code":"invalid_quantity","errors":[{"field":"events.0.quantity","code":"invalid_quantity","message":"negative"}],"requestId":"req_9"}`
	fake := newFakeServer(t, reply{status: 422, body: problem})
	c, _ := testClient(t, []string{fake.URL()})
	_, err := c.Track(context.Background(), apiCallEvent)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v", err)
	}
	if apiErr.Code != "invalid_quantity" || apiErr.Detail != "quantity must be ≥ 0" || apiErr.Title != "Unprocessable Content" ||
		apiErr.RequestID != "req_9" || len(apiErr.Errors) != 1 || apiErr.Errors[0].Field != "events.0.quantity" {
		t.Errorf("parsed %+v", apiErr)
	}
	if !errors.Is(err, ErrBadRequest) || errors.Is(err, ErrNotFound) || fake.requests() != 1 {
		t.Errorf("class or retries wrong: %v after %d requests", err, fake.requests())
	}
}

func TestStatusClassesMatchTheirSentinels(t *testing.T) {
	cases := map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound, 409: ErrConflict,
		413: ErrPayloadTooLarge, 429: ErrRateLimited, 503: ErrUnavailable, 502: ErrServer, 400: ErrBadRequest}
	for status, sentinel := range cases {
		err := error(newAPIError(status, http.Header{}, nil, time.Now()))
		if !errors.Is(err, sentinel) {
			t.Errorf("%d does not match %v", status, sentinel)
		}
	}
}

func TestPerAttemptTimeoutIsATimeoutError(t *testing.T) {
	release := make(chan struct{})
	slow := newFakeServer(t)
	slow.server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c, _ := testClient(t, []string{slow.URL()}, WithTimeout(50*time.Millisecond), WithRetry(RetryPolicy{MaxAttempts: 2}))
	err := c.Ping(context.Background())
	var connErr *ConnectionError
	if !errors.As(err, &connErr) || !connErr.Timeout() || !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v", err)
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	c, _ := testClient(t, []string{deadURL(t)}, WithRetry(RetryPolicy{MaxAttempts: 100}))
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := c.Ping(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestTrackReturnsTheRejectionAsATypedError(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	_, err := c.Track(context.Background(), Event{Metric: "unknown", CustomerRef: "cus_1"})
	var rejected *EventRejectedError
	if !errors.As(err, &rejected) || rejected.Result.Error.Code != "unknown_metric" {
		t.Fatalf("got %v", err)
	}
}

func TestIngestSplitsLargeBatchesAndKeepsTheCallersIndexes(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	events := make([]Event, 2500)
	for i := range events {
		events[i] = Event{Metric: "api_calls", CustomerRef: fmt.Sprintf("cus_%d", i)}
	}
	res, err := c.Ingest(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	if fake.requests() != 3 || res.Accepted != 2500 || len(res.Results) != 2500 || len(res.RequestIDs) != 3 {
		t.Fatalf("%d requests, %d accepted, %d results", fake.requests(), res.Accepted, len(res.Results))
	}
	for i, r := range res.Results {
		if r.Index != i {
			t.Fatalf("result %d has index %d", i, r.Index)
		}
	}
}

func TestSendsTheAPIKeyAndUserAgent(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()}, WithUserAgent("billing-app/2"))
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := fake.headers[0]
	if h.Get("Authorization") != "Bearer smk_test_key_0123456789" || h.Get("User-Agent") != "billing-app/2 stripemeter-go/"+Version {
		t.Errorf("headers %v", h)
	}
}

func TestInvalidEventsAreRefusedBeforeSending(t *testing.T) {
	fake := newFakeServer(t)
	c, _ := testClient(t, []string{fake.URL()})
	bad := []Event{
		{CustomerRef: "cus_1"},
		{Metric: "m"},
		{Metric: "m\xff", CustomerRef: "c"},
		{Metric: "m", CustomerRef: "c\x00"},
		{Metric: "m", CustomerRef: "c", Timestamp: time.Date(9001, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Metric: "m", CustomerRef: "c", Meta: map[string]any{"f": func() {}}},
	}
	for i, e := range bad {
		if _, err := c.Track(context.Background(), e); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("event %d: got %v", i, err)
		}
	}
	if fake.requests() != 0 {
		t.Errorf("%d requests sent", fake.requests())
	}
}

func TestStampsAreStrictlyIncreasing(t *testing.T) {
	frozen := time.Date(2025, 1, 16, 14, 30, 0, 0, time.UTC)
	s := &stamper{now: func() time.Time { return frozen }}
	first, second := s.stamp(), s.stamp()
	if !second.After(first) || second.Sub(first) != time.Microsecond {
		t.Errorf("stamps %v then %v", first, second)
	}
}

func TestBaseURLsFromAListAndBareHostPorts(t *testing.T) {
	urls, err := baseURLs([]string{"http://a:3000/, b:3000", "https://c"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://a:3000", "http://b:3000", "https://c"}
	if fmt.Sprint(urls) != fmt.Sprint(want) {
		t.Errorf("got %v", urls)
	}
	if _, err := baseURLs([]string{"ftp://x"}); err == nil {
		t.Error("ftp:// accepted")
	}
}
