package stripemeter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Aggregation is how a metric folds its events in a period.
type Aggregation string

// The aggregations (Unimeter's names are accepted by the server as aliases too).
const (
	AggCount       Aggregation = "count"
	AggSum         Aggregation = "sum"
	AggMax         Aggregation = "max"
	AggMin         Aggregation = "min"
	AggLatest      Aggregation = "latest"
	AggUniqueCount Aggregation = "unique_count"
	AggAvg         Aggregation = "avg"
)

// PeriodType is a metric's billing period.
type PeriodType string

// The period types. PeriodCalendar is a month anchored on BillingCycleDay.
const (
	PeriodMonth    PeriodType = "month"
	PeriodCalendar PeriodType = "month"
	PeriodWeek     PeriodType = "week"
	PeriodDay      PeriodType = "day"
	PeriodHour     PeriodType = "hour"
)

// MetricSchema defines a metric for CreateMetric. Zero fields take the server's defaults;
// BillingCycleDay (1..31) anchors monthly periods.
type MetricSchema struct {
	Code            string
	AggType         Aggregation // default AggCount
	PeriodType      PeriodType  // default PeriodMonth
	BillingCycleDay int         // default 1
	Timezone        string      // default "UTC"
	DisplayName     string
	Unit            string
	ValueProperty   string // meta path read as the value (sum/max/min/latest/avg)
	UniqueProperty  string // meta path counted by unique_count
	Filter          map[string]any
	LatenessWindow  string // ISO 8601 duration, e.g. "PT48H"
	LatePolicy      string // adjust | reject
}

// Period is a metric's period definition as the server stores it.
type Period struct {
	Type      PeriodType `json:"type"`
	AnchorDay int        `json:"anchorDay,omitempty"`
	Timezone  string     `json:"timezone,omitempty"`
}

// Metric is a metric as stored by the server; Raw is its JSON object.
type Metric struct {
	Code           string          `json:"code"`
	DisplayName    string          `json:"displayName,omitempty"`
	Unit           string          `json:"unit,omitempty"`
	Aggregation    Aggregation     `json:"aggregation"`
	ValueProperty  string          `json:"valueProperty,omitempty"`
	UniqueProperty string          `json:"uniqueProperty,omitempty"`
	Filter         map[string]any  `json:"filter,omitempty"`
	Period         Period          `json:"period"`
	LatenessWindow string          `json:"latenessWindow,omitempty"`
	LatePolicy     string          `json:"latePolicy,omitempty"`
	Raw            json.RawMessage `json:"-"`
}

func (s MetricSchema) body() Metric {
	m := Metric{
		Code:           s.Code,
		DisplayName:    s.DisplayName,
		Unit:           s.Unit,
		Aggregation:    s.AggType,
		ValueProperty:  s.ValueProperty,
		UniqueProperty: s.UniqueProperty,
		Filter:         s.Filter,
		Period:         Period{Type: s.PeriodType, Timezone: s.Timezone},
		LatenessWindow: s.LatenessWindow,
		LatePolicy:     s.LatePolicy,
	}
	if m.Aggregation == "" {
		m.Aggregation = AggCount
	}
	if m.Period.Type == "" {
		m.Period.Type = PeriodMonth
	}
	if m.Period.Timezone == "" {
		m.Period.Timezone = "UTC"
	}
	if m.Period.Type == PeriodMonth {
		m.Period.AnchorDay = s.BillingCycleDay
		if m.Period.AnchorDay == 0 {
			m.Period.AnchorDay = 1
		}
	}
	return m
}

// CreateMetric defines a metric (POST /v1/metrics). Creating the same definition again
// returns it unchanged; a different definition under an existing code is a 409
// (errors.Is(err, ErrConflict), code "metric_exists").
func (c *Client) CreateMetric(ctx context.Context, schema MetricSchema) (*Metric, error) {
	if schema.Code == "" {
		return nil, inputErrorf("code", "is required")
	}
	body, err := encodeJSON(schema.body())
	if err != nil {
		return nil, err
	}
	return c.metricCall(ctx, request{method: http.MethodPost, path: "/v1/metrics", body: body})
}

// GetMetric reads one metric (404: errors.Is(err, ErrNotFound)).
func (c *Client) GetMetric(ctx context.Context, code string) (*Metric, error) {
	if code == "" {
		return nil, inputErrorf("code", "is required")
	}
	return c.metricCall(ctx, request{method: http.MethodGet, path: "/v1/metrics/" + url.PathEscape(code)})
}

// ListMetrics lists the tenant's metrics.
func (c *Client) ListMetrics(ctx context.Context) ([]Metric, error) {
	var answer struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/metrics"}, &answer); err != nil {
		return nil, err
	}
	metrics := make([]Metric, 0, len(answer.Data))
	for _, raw := range answer.Data {
		m, err := decodeMetric(raw)
		if err != nil {
			return nil, err
		}
		metrics = append(metrics, *m)
	}
	return metrics, nil
}

// DeleteMetric deletes a metric definition.
func (c *Client) DeleteMetric(ctx context.Context, code string) error {
	if code == "" {
		return inputErrorf("code", "is required")
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/metrics/" + url.PathEscape(code)}, nil)
}

func (c *Client) metricCall(ctx context.Context, req request) (*Metric, error) {
	var raw json.RawMessage
	if err := c.do(ctx, req, &raw); err != nil {
		return nil, err
	}
	return decodeMetric(raw)
}

func decodeMetric(raw json.RawMessage) (*Metric, error) {
	m := &Metric{Raw: raw}
	if err := decodeInto(raw, m); err != nil {
		return nil, err
	}
	return m, nil
}
