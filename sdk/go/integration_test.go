package stripemeter_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"os"
	"testing"
	"time"

	stripemeter "github.com/stripemeter/stripemeter/sdk/go"
)

// These tests run against a real stripemeter server named by STRIPEMETER_URL and
// STRIPEMETER_API_KEY (scripts/test-go.sh, run by `make test`, starts one and sets both).
// Without them they are skipped, saying so; with STRIPEMETER_GO_INTEGRATION=required they
// fail instead, so a run that must reach a server can never pass without one.

func serverClient(t *testing.T, opts ...stripemeter.Option) *stripemeter.Client {
	t.Helper()
	url, key := os.Getenv("STRIPEMETER_URL"), os.Getenv("STRIPEMETER_API_KEY")
	if url == "" || key == "" {
		if os.Getenv("STRIPEMETER_GO_INTEGRATION") == "required" {
			t.Fatal("STRIPEMETER_URL and STRIPEMETER_API_KEY must name a running server")
		}
		t.Skip("no server: set STRIPEMETER_URL and STRIPEMETER_API_KEY (make test does)")
	}
	base := []stripemeter.Option{stripemeter.WithBaseURL(url), stripemeter.WithAPIKey(key), stripemeter.WithTenant(serverTenant())}
	c, err := stripemeter.New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serverTenant is the tenant of the key: the bootstrap tenant unless told otherwise.
func serverTenant() string {
	if tenant := os.Getenv("STRIPEMETER_TENANT"); tenant != "" {
		return tenant
	}
	return "default"
}

// unique names a metric or customer of this run, so tests never see each other's data.
func unique(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano(), rand.Int63n(1_000_000))
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createSumMetric(t *testing.T, c *stripemeter.Client) string {
	t.Helper()
	code := unique("go_sdk")
	if _, err := c.CreateMetric(testContext(t), stripemeter.MetricSchema{Code: code, AggType: stripemeter.AggSum}); err != nil {
		t.Fatal(err)
	}
	return code
}

func stampedEvents(t *testing.T, c *stripemeter.Client, metric, customer string, quantities ...string) []stripemeter.Event {
	t.Helper()
	events := make([]stripemeter.Event, len(quantities))
	for i, q := range quantities {
		e, err := c.Stamp(stripemeter.Event{Metric: metric, CustomerRef: customer, Quantity: stripemeter.MustDecimal(q)})
		if err != nil {
			t.Fatal(err)
		}
		events[i] = e
	}
	return events
}

func TestIntegrationIngestThenReplayIsAllDuplicates(t *testing.T) {
	c := serverClient(t)
	metric, customer := createSumMetric(t, c), unique("cus")
	events := stampedEvents(t, c, metric, customer, "1.25", "2", "0.000000000001", "1E+2")
	first, err := c.Ingest(testContext(t), events)
	if err != nil {
		t.Fatal(err)
	}
	if first.Accepted != len(events) || first.Duplicates != 0 {
		t.Fatalf("first send: %+v", first)
	}
	replay, err := c.Ingest(testContext(t), events)
	if err != nil {
		t.Fatal(err)
	}
	if replay.Accepted != 0 || replay.Duplicates != len(events) {
		t.Fatalf("replay: %+v", replay)
	}
	for i, r := range replay.Results {
		if r.IdempotencyKey != first.Results[i].IdempotencyKey || r.Status != stripemeter.StatusDuplicate {
			t.Errorf("event %d: replay %+v, first %+v", i, r, first.Results[i])
		}
	}
}

// The server derives the key of an event sent without one; it must equal the client's,
// byte for byte, meta with tricky keys, numbers and escapes included.
func TestIntegrationServerDerivesTheClientsKey(t *testing.T) {
	c := serverClient(t, stripemeter.WithTenant("")) // send no key: let the server derive it
	metric := createSumMetric(t, c)
	e, err := c.Stamp(stripemeter.Event{
		Metric: metric, CustomerRef: unique("cüs_😀"), ResourceID: "req/42", Quantity: stripemeter.MustDecimal("12.50"),
		Meta: map[string]any{"\u20ac": 1, "\r": 2, "\ufb33": 3, "😀": 0.1, "big": 1e21, "tiny": 1e-7,
			"q": "say \"hi\" <b>&\u2028", "nested": map[string]any{"b": []any{true, nil}, "a": -0.0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Track(testContext(t), e)
	if err != nil {
		t.Fatal(err)
	}
	want, err := stripemeter.IdempotencyKey(serverTenant(), e)
	if err != nil {
		t.Fatal(err)
	}
	if res.IdempotencyKey != want {
		t.Errorf("server key %s, client key %s", res.IdempotencyKey, want)
	}
}

func TestIntegrationUsageReadsTheExactSum(t *testing.T) {
	c := serverClient(t)
	metric, customer := createSumMetric(t, c), unique("cus")
	events := stampedEvents(t, c, metric, customer, "0.1", "0.2", "12345678.901234567891")
	if _, err := c.Ingest(testContext(t), events); err != nil {
		t.Fatal(err)
	}
	usage, err := c.GetCurrentUsage(testContext(t), customer)
	if err != nil {
		t.Fatal(err)
	}
	current, ok := usage.Metric(metric)
	if !ok || current.Value == nil || current.Value.String() != "12345679.201234567891" {
		t.Fatalf("current usage of %s: %+v", metric, current)
	}
	now := time.Now()
	window, err := c.QueryUsage(testContext(t), stripemeter.UsageQuery{
		CustomerRef: customer, Metric: metric, Start: now.Add(-time.Hour), End: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if window.Value.Count != 3 || window.Value.Sum.String() != "12345679.201234567891" || window.Value.Max.String() != "12345678.901234567891" {
		t.Errorf("query: %+v", window.Value)
	}
}

func TestIntegrationProjectionAnswers(t *testing.T) {
	c := serverClient(t)
	metric, customer := createSumMetric(t, c), unique("cus")
	if _, err := c.Track(testContext(t), stripemeter.Event{Metric: metric, CustomerRef: customer}); err != nil {
		t.Fatal(err)
	}
	projection, err := c.GetProjection(testContext(t), customer, metric)
	if err != nil {
		t.Fatal(err)
	}
	if projection.CustomerRef != customer || len(projection.Metrics) != 1 || projection.Metrics[0].CurrentQuantity.String() != "1" {
		t.Errorf("projection: %s", projection.Raw)
	}
}

func TestIntegrationMetricsCreateGetListAndConflict(t *testing.T) {
	c := serverClient(t)
	schema := stripemeter.MetricSchema{Code: unique("go_sdk_calls"), AggType: stripemeter.AggCount,
		PeriodType: stripemeter.PeriodCalendar, BillingCycleDay: 15, Unit: "call"}
	created, err := c.CreateMetric(testContext(t), schema)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateMetric(testContext(t), schema)
	if err != nil || again.Code != created.Code {
		t.Fatalf("creating the same definition again: %v", err)
	}
	got, err := c.GetMetric(testContext(t), schema.Code)
	if err != nil || got.Aggregation != stripemeter.AggCount || got.Period.AnchorDay != 15 || got.Unit != "call" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	list, err := c.ListMetrics(testContext(t))
	if err != nil || !containsMetric(list, schema.Code) {
		t.Fatalf("list (%d metrics) lacks %s: %v", len(list), schema.Code, err)
	}
	schema.AggType = stripemeter.AggMax
	_, err = c.CreateMetric(testContext(t), schema)
	var apiErr *stripemeter.APIError
	if !errors.Is(err, stripemeter.ErrConflict) || !errors.As(err, &apiErr) || apiErr.Code != "metric_exists" {
		t.Errorf("a different definition under the same code: %v", err)
	}
}

func containsMetric(list []stripemeter.Metric, code string) bool {
	for _, m := range list {
		if m.Code == code {
			return true
		}
	}
	return false
}

func TestIntegrationUnknownMetricIsNotFound(t *testing.T) {
	c := serverClient(t)
	_, err := c.GetMetric(testContext(t), unique("no_such_metric"))
	var apiErr *stripemeter.APIError
	if !errors.Is(err, stripemeter.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("got %v", err)
	}
}

func TestIntegrationWrongKeyIsUnauthorized(t *testing.T) {
	c := serverClient(t, stripemeter.WithAPIKey("smk_not_a_real_key_0123456789"))
	_, err := c.ListMetrics(testContext(t))
	if !errors.Is(err, stripemeter.ErrUnauthorized) {
		t.Errorf("got %v", err)
	}
}

func TestIntegrationNegativeQuantityIsRejected(t *testing.T) {
	c := serverClient(t)
	metric := createSumMetric(t, c)
	_, err := c.Track(testContext(t), stripemeter.Event{Metric: metric, CustomerRef: unique("cus"), Quantity: stripemeter.MustDecimal("-1")})
	var rejected *stripemeter.EventRejectedError
	if !errors.As(err, &rejected) || rejected.Result.Status != stripemeter.StatusRejected || rejected.Result.Error == nil {
		t.Errorf("got %v", err)
	}
}

func TestIntegrationBatcherDeliversEverything(t *testing.T) {
	c := serverClient(t)
	metric, customer := createSumMetric(t, c), unique("cus")
	b := c.NewBatcher(stripemeter.BatcherOptions{MaxEvents: 50, FlushInterval: 50 * time.Millisecond})
	for i := 0; i < 120; i++ {
		if _, err := b.Add(testContext(t), stripemeter.Event{Metric: metric, CustomerRef: customer, Quantity: stripemeter.MustDecimal("0.5")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	window, err := c.QueryUsage(testContext(t), stripemeter.UsageQuery{
		CustomerRef: customer, Metric: metric, Start: now.Add(-time.Hour), End: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if window.Value.Count != 120 || window.Value.Sum.String() != "60" {
		t.Errorf("after the batcher: %+v", window.Value)
	}
}

func TestIntegrationFailsOverFromADeadNode(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	_ = l.Close()
	c := serverClient(t, stripemeter.WithBaseURL(dead, os.Getenv("STRIPEMETER_URL")))
	metric, customer := createSumMetric(t, c), unique("cus")
	for i := 0; i < 4; i++ { // the start node rotates: some calls begin on the dead one
		if _, err := c.Track(testContext(t), stripemeter.Event{Metric: metric, CustomerRef: customer}); err != nil {
			t.Fatal(err)
		}
	}
	usage, err := c.GetCurrentUsage(testContext(t), customer)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := usage.Metric(metric); !ok || m.Value == nil || m.Value.String() != "4" {
		t.Errorf("usage after failover: %+v", m)
	}
}
