// Command unimeter is the Unimeter "Stripe integration" walkthrough rewritten for the
// stripemeter Go client, as one program that checks itself:
//
//  1. define the api_calls metric (a count per calendar month, cycle day 1);
//  2. record one api_calls event per request in an HTTP middleware (X-Account-ID header);
//  3. read an account's usage for a billing period and build the invoice line a Stripe
//     invoice.created webhook would add (quantity, unit amount, idempotency key).
//
// It reads STRIPEMETER_URL (one or more comma-separated nodes), STRIPEMETER_API_KEY and,
// optionally, STRIPEMETER_TENANT. It serves a small API on 127.0.0.1, calls it, and prints
// OK when every call was counted exactly once.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	billing "github.com/stripemeter/stripemeter/sdk/go"
)

const metricCode = "api_calls"

func main() {
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("OK")
}

func run(ctx context.Context) error {
	client, err := billing.New() // STRIPEMETER_URL, STRIPEMETER_API_KEY, STRIPEMETER_TENANT
	if err != nil {
		return err
	}
	defer client.Close()

	// Step 1: define the metric. Creating the same definition again is a no-op.
	_, err = client.CreateMetric(ctx, billing.MetricSchema{
		Code:            metricCode,
		AggType:         billing.AggCount,
		PeriodType:      billing.PeriodCalendar,
		BillingCycleDay: 1,
	})
	if err != nil {
		return fmt.Errorf("step 1: %w", err)
	}

	period := billing.CurrentBillingPeriod(1, time.Now())
	before := map[uint64]int64{}
	for _, account := range []uint64{1, 2} {
		if before[account], err = callCount(ctx, client, account, period); err != nil {
			return err
		}
	}

	// Step 2: record usage from a middleware, through a background batcher.
	batcher := client.NewBatcher(billing.BatcherOptions{FlushInterval: 200 * time.Millisecond})
	api := usageMiddleware(http.HandlerFunc(hello), batcher)
	calls := map[uint64]int{1: 3, 2: 2, 0: 1} // account 0: no X-Account-ID, not billed
	if err := callAPI(ctx, api, calls); err != nil {
		return fmt.Errorf("step 2: %w", err)
	}
	if err := batcher.Close(ctx); err != nil { // flushes what is queued
		return fmt.Errorf("step 2: %w", err)
	}

	// Step 3: what the invoice.created webhook would put on each account's invoice.
	for _, account := range []uint64{1, 2} {
		count, err := callCount(ctx, client, account, period)
		if err != nil {
			return fmt.Errorf("step 3: %w", err)
		}
		if got, want := count-before[account], int64(calls[account]); got != want {
			return fmt.Errorf("step 3: account %d: %d new calls counted, want %d", account, got, want)
		}
		line := invoiceLine(account, count, period)
		fmt.Printf("account %d: %d API calls -> invoice item %q x%d at %d (idempotency key %s)\n",
			account, count, line.description, line.quantity, line.unitAmount, line.idempotencyKey)
	}
	return nil
}

// usageMiddleware records one api_calls event per request that names an account.
func usageMiddleware(next http.Handler, batcher *billing.Batcher) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		accountID, _ := strconv.ParseUint(r.Header.Get("X-Account-ID"), 10, 64)
		if accountID == 0 {
			return
		}
		// Add stamps the event now and returns at once; the batcher sends it in the
		// background and retries it safely (same timestamp, same idempotency key).
		_, err := batcher.Add(r.Context(), billing.Event{
			Metric:      metricCode,
			CustomerRef: strconv.FormatUint(accountID, 10),
			Quantity:    billing.DecimalFromInt(1),
		})
		if err != nil {
			log.Printf("usage not recorded: %v", err)
		}
	})
}

func hello(w http.ResponseWriter, _ *http.Request) {
	_, _ = fmt.Fprintln(w, "hello")
}

// callAPI serves api on a local port and calls it calls[account] times per account.
func callAPI(ctx context.Context, api http.Handler, calls map[uint64]int) error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(listener) }()
	defer server.Close()
	for account, n := range calls {
		for i := 0; i < n; i++ {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+listener.Addr().String()+"/hello", nil)
			if err != nil {
				return err
			}
			if account != 0 {
				req.Header.Set("X-Account-ID", strconv.FormatUint(account, 10))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			_ = resp.Body.Close()
		}
	}
	return nil
}

// callCount is the account's api_calls count over the billing period.
func callCount(ctx context.Context, client *billing.Client, accountID uint64, period billing.BillingPeriod) (int64, error) {
	usage, err := client.QueryUsage(ctx, billing.UsageQuery{
		CustomerRef: strconv.FormatUint(accountID, 10),
		Metric:      metricCode,
		Start:       period.Start,
		End:         period.End,
	})
	if err != nil {
		return 0, err
	}
	return usage.Value.Count, nil
}

type invoiceItem struct {
	description    string
	quantity       int64
	unitAmount     int64 // in cents
	idempotencyKey string
}

// invoiceLine is the Stripe invoice item for an account's period: the key makes a replayed
// webhook add nothing (Stripe drops a repeated idempotency key).
func invoiceLine(accountID uint64, count int64, period billing.BillingPeriod) invoiceItem {
	return invoiceItem{
		description:    "API calls",
		quantity:       count,
		unitAmount:     10,
		idempotencyKey: fmt.Sprintf("stripemeter-%d-%s-%s", accountID, metricCode, period.Start.Format("2006-01")),
	}
}
