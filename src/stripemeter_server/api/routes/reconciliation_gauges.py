"""Reconciliation gauges for ``/metrics``, read from the database at scrape time.

Any node may serve ``/metrics`` while another ran the last run, so the figures come from the
stored runs (each tenant's latest finished run) rather than from process memory. A short
cache keeps a burst of scrapes to one query.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.reconciliation.ports import RunRecord
from stripemeter_server.service.reconciliation.runs import latest_results
from stripemeter_server.service.runner import run_use_case

CACHE_SECONDS = 5.0
RUN_STATUSES = ("done", "failed")


class ReconciliationCollector(Collector):
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # collected lazily: registering must not touch the database

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or self._cached[0] < time.monotonic():
                self._cached = (time.monotonic() + CACHE_SECONDS, self._read())
            yield from self._cached[1]

    def _read(self) -> list[Metric]:
        try:
            runs, held = run_use_case(self._ctx.store, "", latest_results, read_only=True)
        except StripemeterError:
            return []
        return families(runs, held)


def families(runs: list[RunRecord], held: int) -> list[Metric]:
    drift = GaugeMetricFamily(
        "stripemeter_reconciliation_drift_units",
        "Sum of |Stripe - ledger| over the lines needing attention of the latest run, in "
        "the metric's own unit",
        labels=["tenant", "metric"],
    )
    lines = GaugeMetricFamily(
        "stripemeter_reconciliation_drift_lines",
        "Lines of the latest run that are not ok or pending (drift, missing_in_stripe, "
        "missing_locally)",
        labels=["tenant", "metric"],
    )
    money = GaugeMetricFamily(
        "stripemeter_reconciliation_drift_amount",
        "Money at stake of the latest run's lines needing attention, in the currency's "
        "major unit (positive: Stripe bills too much)",
        labels=["tenant", "metric"],
    )
    last = GaugeMetricFamily(
        "stripemeter_reconciliation_last_run_timestamp_seconds",
        "When the tenant's latest reconciliation run finished",
        labels=["tenant"],
    )
    status = GaugeMetricFamily(
        "stripemeter_reconciliation_last_run_status",
        "1 for the status of the tenant's latest run (done or failed)",
        labels=["tenant", "status"],
    )
    unresolved = GaugeMetricFamily(
        "stripemeter_reconciliation_unresolved_lines",
        "Lines of the latest run still needing attention after any repair",
        labels=["tenant"],
    )
    held_gauge = GaugeMetricFamily(
        "stripemeter_reconciliation_held_invoices",
        "Draft invoices the invoice gate holds from finalizing (all tenants)",
    )
    held_gauge.add_metric([], held)
    for run in runs:
        last.add_metric([run.tenant_id], (run.finished_us or 0) / 1_000_000)
        for name in RUN_STATUSES:
            status.add_metric([run.tenant_id, name], 1.0 if run.status == name else 0.0)
        summary = json.loads(run.summary) if run.summary else {}
        unresolved.add_metric([run.tenant_id], float(summary.get("unresolved", 0)))
        for metric, entry in (summary.get("metrics") or {}).items():
            by_status = entry.get("byStatus") or {}
            bad = sum(n for s, n in by_status.items() if s not in ("ok", "pending"))
            lines.add_metric([run.tenant_id, metric], float(bad))
            drift.add_metric(
                [run.tenant_id, metric], float(Decimal(entry.get("attentionDrift") or "0"))
            )
            money.add_metric(
                [run.tenant_id, metric], float(Decimal(entry.get("attentionMoney") or "0"))
            )
    return [drift, lines, money, last, status, unresolved, held_gauge]
