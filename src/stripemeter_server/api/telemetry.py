"""Prometheus metrics, one registry per app (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
