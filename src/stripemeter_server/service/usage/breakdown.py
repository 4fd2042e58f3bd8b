"""Usage over a window split by event properties (``meta`` keys): one aggregate per
distinct combination of the keys' values, folded from the ledger like any window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain import json_text
from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Metric, lookup
from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.service.usage.ports import UsageUnitOfWork as UnitOfWork
from stripemeter_server.service.usage.reads import fold_events, window_filter

MAX_GROUPS = 10_000


@dataclass(frozen=True, slots=True)
class BreakdownCell:
    dims: tuple[tuple[str, str], ...]  # (key, value); value "" when the event lacks the key
    state: CounterState


def window_breakdown(
    uow: UnitOfWork,
    customer_ref: str,
    metric_code: str,
    start: datetime,
    end: datetime,
    keys: Sequence[str],
) -> tuple[Metric, list[BreakdownCell]]:
    """The metric's state over [start, end) per combination of the ``meta`` values of
    ``keys`` (at most ``MAX_GROUPS`` combinations)."""
    if end <= start:
        raise ValidationError("end must be after start", code="invalid_range", field="end")
    metric = get_metric(uow, metric_code)
    groups: dict[tuple[str, ...], list[StoredEvent]] = {}
    for event in uow.events.stream(window_filter(metric_code, customer_ref, start, end)):
        meta = json_text.loads(event.meta) if event.meta else None
        group = tuple(_value(key, meta) for key in keys)
        if group not in groups and len(groups) >= MAX_GROUPS:
            raise ValidationError(
                f"more than {MAX_GROUPS} groups", code="range_too_large", field="groupBy"
            )
        groups.setdefault(group, []).append(event)
    return metric, [
        BreakdownCell(tuple(zip(keys, group, strict=True)), fold_events(metric, events))
        for group, events in sorted(groups.items())
    ]


def _value(key: str, meta: object) -> str:
    found, raw = lookup(f"meta.{key}", None, meta if isinstance(meta, dict) else None)
    if not found or raw is None:
        return ""
    return raw if isinstance(raw, str) else json_text.dumps(raw)
