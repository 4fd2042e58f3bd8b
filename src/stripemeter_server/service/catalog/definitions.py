"""Loading the tenant's metric definitions and resolving each customer's billing period."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from stripemeter_server.domain.metrics import Metric, metric_from_dict, metric_to_dict
from stripemeter_server.domain.periods import (
    Period,
    PeriodSpec,
    period_after,
    period_containing,
    with_customer_overrides,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.ingest.ports import IngestUnitOfWork


def load_metrics(uow: IngestUnitOfWork) -> dict[str, Metric]:
    return {code: decode_metric(text) for code, text in uow.metrics.all().items()}


@lru_cache(maxsize=4096)
def decode_metric(text: str) -> Metric:
    """Parse a stored definition; memoised by its text (a pure function of an immutable value)."""
    return metric_from_dict(json.loads(text))


def encode_metric(metric: Metric) -> str:
    return json.dumps(metric_to_dict(metric), sort_keys=True, separators=(",", ":"))


def spec_for(metric: Metric, customer: CustomerRecord | None) -> PeriodSpec:
    """A customer's own billing anchor and time zone override the metric's."""
    if customer is None or (customer.anchor_day is None and customer.timezone is None):
        return metric.period
    return with_customer_overrides(metric.period, customer.anchor_day, customer.timezone)


def is_closed(metric: Metric, period: Period, lock: PeriodClose | None, now: datetime) -> bool:
    """Closed at ``end + latenessWindow`` (wall clock), or early by an explicit lock."""
    return lock is not None or now >= period.end + metric.lateness_window


def current_open_period(
    uow: IngestUnitOfWork, metric: Metric, spec: PeriodSpec, customer_ref: str, now: datetime
) -> Period:
    """The period a late event's effect is billed on: the first one at or after now not closed."""
    period = period_containing(spec, now)
    for _ in range(24):  # bounded: a run of early-closed periods ahead of now is not expected
        key = (metric.code, customer_ref, to_micros(period.start))
        lock = uow.period_closes.find_many([key]).get(key)
        if not is_closed(metric, period, lock, now):
            return period
        period = period_after(spec, period)
    return period


def customers_for(uow: IngestUnitOfWork, refs: list[str]) -> Mapping[str, CustomerRecord]:
    return uow.customers.get_many(sorted(set(refs)))
