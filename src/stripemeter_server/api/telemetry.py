"""Prometheus metrics, one registry per app (no process-global state).

Two kinds of series:

* **Event series** (counters, histograms) recorded as requests happen. Under
  ``serve --workers N`` each HTTP process has its own memory, so ``serve`` sets
  ``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory for the run before the processes start:
  prometheus-client then keeps these values in per-process files, and a scrape — whichever
  process answers it — aggregates every process's files (``MultiProcessCollector``).
* **State gauges** (push lag, open periods, worker heartbeats) read from the database at
  scrape time: every process would report the same value, so they are computed by the one
  answering and never stored per process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "stripemeter_ingest_events_total",
            "Ingested events by result (accepted, duplicate, conflict, rejected)",
            ["status"],
            registry=self.registry,
        )
        self.late_events = Counter(
            "stripemeter_late_events_total",
            "Events older than their counter's watermark",
            registry=self.registry,
        )
        self.counter_updates = Counter(
            "stripemeter_counter_updates_total",
            "Live counters changed by ingest (one per counter per batch)",
            registry=self.registry,
        )
        self.requests = Histogram(
            "stripemeter_http_request_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )
        self._event_series: dict[str, Counter] = {}

    def events_of(self, status: str) -> Counter:
        """The ingested-events series of one result status. ``labels`` takes a lock and
        builds its key on every call, once per status per ingest request; the series is
        the same object every time, so it is looked up once (ADR 0975)."""
        series = self._event_series.get(status)
        if series is None:
            series = self._event_series[status] = self.events.labels(status)
        return series

    def exposition(self, gauges: Iterable[Metric]) -> bytes:
        """The text format: the event series (of every process, in multiprocess mode), then
        the state gauges read for this scrape."""
        directory = os.environ.get(MULTIPROC_ENV)
        if directory:
            events = CollectorRegistry()
            MultiProcessCollector(events, path=directory)  # type: ignore[no-untyped-call]
        else:
            events = self.registry
        state = CollectorRegistry()
        state.register(_Fixed(list(gauges)))
        return generate_latest(events) + generate_latest(state)


class _Fixed(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics


def gauge(
    name: str,
    documentation: str,
    value: float | None = None,
    labels: dict[tuple[str, ...], float] | None = None,
    label_names: tuple[str, ...] = (),
) -> GaugeMetricFamily:
    """A state gauge: one value, or one value per label tuple."""
    family = GaugeMetricFamily(name, documentation, labels=list(label_names) or None)
    if labels is not None:
        for values, number in sorted(labels.items()):
            family.add_metric(list(values), number)
    elif value is not None:
        family.add_metric([], value)
    return family
