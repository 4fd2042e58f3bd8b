"""Prometheus metrics, one registry per app (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "stripemeter_ingest_events_total",
            "Ingested events by result",
            ["status"],
            registry=self.registry,
        )
        self.late_events = Counter(
            "stripemeter_late_events_total",
            "Events older than their counter's watermark",
            registry=self.registry,
        )
        self.requests = Histogram(
            "stripemeter_http_request_seconds",
            "HTTP request latency",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.push_lag = Gauge(
            "stripemeter_push_lag_seconds",
            "Age of the oldest pending push to Stripe (0 when none is pending)",
            registry=self.registry,
        )
        self.push_pending = Gauge(
            "stripemeter_push_pending", "Pushes to Stripe waiting to be sent",
            registry=self.registry,
        )
        self.push_failed = Gauge(
            "stripemeter_push_failed",
            "Pushes to Stripe parked as failed (act on GET /v1/pushes?status=failed)",
            registry=self.registry,
        )
