package stripemeter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// MetricUsage is one metric's value in the customer's current period.
type MetricUsage struct {
	Metric      string     `json:"metric"`
	Aggregation string     `json:"aggregation"`
	Unit        string     `json:"unit"`
	Value       *Decimal   `json:"value"` // nil for an empty max/min/latest/avg period
	PeriodStart time.Time  `json:"periodStart"`
	PeriodEnd   time.Time  `json:"periodEnd"`
	Status      string     `json:"status"` // open | closed
	Cost        *UsageCost `json:"cost"`   // nil when the metric has no price
}

// UsageCost is the priced amount of a metric's current value.
type UsageCost struct {
	Currency string  `json:"currency"`
	Amount   Decimal `json:"amount"`
}

// Usage is the customer's live totals, one entry per metric.
type Usage struct {
	CustomerRef string          `json:"customerRef"`
	AsOf        time.Time       `json:"asOf"`
	Metrics     []MetricUsage   `json:"metrics"`
	Raw         json.RawMessage `json:"-"`
}

// Metric returns the entry of one metric, if the customer has it.
func (u *Usage) Metric(code string) (MetricUsage, bool) {
	for _, m := range u.Metrics {
		if m.Metric == code {
			return m, true
		}
	}
	return MetricUsage{}, false
}

// GetCurrentUsage reads the live totals of every metric for the customer's current period
// (GET /v1/usage/current).
func (c *Client) GetCurrentUsage(ctx context.Context, customerRef string) (*Usage, error) {
	if customerRef == "" {
		return nil, inputErrorf("customerRef", "is required")
	}
	var raw json.RawMessage
	req := request{method: http.MethodGet, path: "/v1/usage/current", query: url.Values{"customerRef": {customerRef}}}
	if err := c.do(ctx, req, &raw); err != nil {
		return nil, err
	}
	usage := &Usage{Raw: raw}
	return usage, decodeInto(raw, usage)
}

// UsageQuery asks for every aggregate of one metric over the window [Start, End).
type UsageQuery struct {
	CustomerRef string
	Metric      string
	Start, End  time.Time
}

// Aggregates are all the aggregates of a window; Max, Min, Latest and Avg are nil when the
// window is empty.
type Aggregates struct {
	Count       int64    `json:"count"`
	Sum         Decimal  `json:"sum"`
	Max         *Decimal `json:"max"`
	Min         *Decimal `json:"min"`
	Latest      *Decimal `json:"latest"`
	UniqueCount int64    `json:"uniqueCount"`
	Avg         *Decimal `json:"avg"`
	Billable    *Decimal `json:"billable"` // the metric's own aggregation
}

// UsageQueryResult is the answer of QueryUsage.
type UsageQueryResult struct {
	CustomerRef string     `json:"customerRef"`
	Metric      string     `json:"metric"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	Source      string     `json:"source"` // counter | ledger
	Value       Aggregates `json:"value"`
}

// QueryUsage reads every aggregate of a metric over any window (POST /v1/usage/query).
func (c *Client) QueryUsage(ctx context.Context, q UsageQuery) (*UsageQueryResult, error) {
	if q.CustomerRef == "" || q.Metric == "" {
		return nil, inputErrorf("query", "customerRef and metric are required")
	}
	if !q.Start.Before(q.End) {
		return nil, inputErrorf("query", "start must be before end")
	}
	body, err := encodeJSON(map[string]string{
		"customerRef": q.CustomerRef,
		"metric":      q.Metric,
		"start":       FormatTimestamp(q.Start),
		"end":         FormatTimestamp(q.End),
	})
	if err != nil {
		return nil, err
	}
	var out UsageQueryResult
	if err := c.do(ctx, request{method: http.MethodPost, path: "/v1/usage/query", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Projection is the customer's current and projected quantities and cost for the current
// period. Metrics holds the per-metric lines as the server sent them; Raw the whole body.
type Projection struct {
	CustomerRef       string            `json:"customerRef"`
	AsOf              time.Time         `json:"asOf"`
	Currency          string            `json:"currency"`
	Subtotal          *Decimal          `json:"subtotal"`
	ProjectedSubtotal *Decimal          `json:"projectedSubtotal"`
	Credits           *Decimal          `json:"credits"`
	Total             *Decimal          `json:"total"`
	Metrics           []ProjectedMetric `json:"metrics"`
	Raw               json.RawMessage   `json:"-"`
}

// ProjectedMetric is one metric's line of a Projection.
type ProjectedMetric struct {
	Metric            string   `json:"metric"`
	Aggregation       string   `json:"aggregation"`
	Currency          string   `json:"currency"`
	CurrentQuantity   *Decimal `json:"currentQuantity"`
	ProjectedQuantity *Decimal `json:"projectedQuantity"`
	CurrentCost       *Decimal `json:"currentCost"`
	ProjectedCost     *Decimal `json:"projectedCost"`
}

// GetProjection projects the customer's period (POST /v1/usage/projection); metric ""
// means every metric.
func (c *Client) GetProjection(ctx context.Context, customerRef, metric string) (*Projection, error) {
	if customerRef == "" {
		return nil, inputErrorf("customerRef", "is required")
	}
	fields := map[string]string{"customerRef": customerRef}
	if metric != "" {
		fields["metric"] = metric
	}
	body, err := encodeJSON(fields)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.do(ctx, request{method: http.MethodPost, path: "/v1/usage/projection", body: body}, &raw); err != nil {
		return nil, err
	}
	projection := &Projection{Raw: raw}
	return projection, decodeInto(raw, projection)
}

func decodeInto(raw json.RawMessage, out any) error {
	if len(raw) == 0 {
		return nil
	}
	return decodeAnswer(http.StatusOK, raw, out)
}
