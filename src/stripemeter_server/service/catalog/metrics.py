"""Metric definitions and customer records: create, read, change (rebuilding when needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.metric_codes import check_new_code, unknown_metric_message
from stripemeter_server.domain.metrics import Metric, metric_from_dict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.commands import CustomerTerms, MetricChanges
from stripemeter_server.service.catalog.definitions import (
    decode_metric,
    encode_metric,
    load_metrics,
)
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.ports.unit_of_work import CatalogUnitOfWork as UnitOfWork
from stripemeter_server.service.corrections.rebuild import rebuild_metric
from stripemeter_server.service.operations import audit


@dataclass(frozen=True, slots=True)
class SavedMetric:
    metric: Metric
    created: bool
    rebuilt: bool = False


def create_metric(uow: UnitOfWork, metric: Metric, now: datetime) -> SavedMetric:
    """Idempotent create: the same definition again is fine, a different one is a conflict."""
    existing = uow.metrics.get(metric.code)
    if existing is None:
        check_new_code(metric.code)  # an older code outside the alphabet keeps working
    else:
        if decode_metric(existing) == metric:
            return SavedMetric(metric, created=False)
        raise ConflictError(
            f"metric {metric.code!r} already exists with another definition; change it with PATCH",
            code="metric_exists",
            field="code",
        )
    if not uow.metrics.add(metric.code, encode_metric(metric), to_micros(now)):
        raise ConflictError(
            f"metric {metric.code!r} was just created by another request",
            code="metric_exists",
            field="code",
        )
    audit.record(uow, now, "metric.create", "metric", metric.code, after=_state(metric))
    return SavedMetric(metric, created=True)


def put_metric(uow: UnitOfWork, changes: MetricChanges, now: datetime) -> SavedMetric:
    """Create the metric, or make the existing one say ``changes`` (a change of how events
    count rebuilds its counters): the upsert of protocols whose one verb is "put"."""
    metric = metric_from_dict(changes.as_dict())
    existing = uow.metrics.get(metric.code)
    if existing is None:
        return create_metric(uow, metric, now)
    if decode_metric(existing) == metric:
        return SavedMetric(metric, created=False)
    return update_metric(uow, metric.code, changes, now)


def _state(metric: Metric) -> dict[str, Any]:
    return dict(json.loads(encode_metric(metric)))


def get_metric(uow: UnitOfWork, code: str) -> Metric:
    text = uow.metrics.get(code)
    if text is None:
        raise metric_not_found(code)
    return decode_metric(text)


def metric_not_found(code: str) -> NotFoundError:
    return NotFoundError(f"metric {code!r} does not exist", code="metric_not_found", field="code")


def require_metric(uow: UnitOfWork, code: str, field: str = "metric") -> Metric:
    """A request naming a metric to act on (a backfill, a rebuild, a reconciliation run):
    an unknown name is a 422 naming the field and the nearest known codes."""
    text = uow.metrics.get(code)
    if text is None:
        raise ValidationError(
            unknown_metric_message(code, uow.metrics.all()), code="unknown_metric", field=field
        )
    return decode_metric(text)


def list_metrics(uow: UnitOfWork) -> list[Metric]:
    return list(load_metrics(uow).values())


def update_metric(uow: UnitOfWork, code: str, changes: MetricChanges, now: datetime) -> SavedMetric:
    """Apply a partial change; a change of how events count rebuilds the metric's counters."""
    current = get_metric(uow, code)
    data = changes.as_dict()
    if "code" in data and data["code"] != code:
        raise ValidationError("a metric's code cannot change", code="invalid_metric", field="code")
    updated = metric_from_dict(data, base=current)
    uow.metrics.replace(code, encode_metric(updated), to_micros(now))
    rebuilt = updated.counting_shape != current.counting_shape
    if rebuilt:
        rebuild_metric(uow, updated, customer_ref=None, now_us=to_micros(now))
    audit.record(
        uow,
        now,
        "metric.update",
        "metric",
        code,
        before=_state(current),
        after={**_state(updated), "rebuilt": rebuilt},
    )
    return SavedMetric(updated, created=False, rebuilt=rebuilt)


def delete_metric(uow: UnitOfWork, code: str, now: datetime) -> None:
    """Remove the definition only; the ledger and counters stay (history is never deleted)."""
    current = get_metric(uow, code)
    if not uow.metrics.delete(code):
        raise NotFoundError(
            f"metric {code!r} does not exist", code="metric_not_found", field="code"
        )
    audit.record(uow, now, "metric.delete", "metric", code, before=_state(current))


def put_customer(
    uow: UnitOfWork, change: CustomerTerms, now: datetime
) -> tuple[CustomerRecord, bool]:
    """Create or replace a customer record; a new anchor or time zone rebuilds its counters."""
    customer_ref, anchor, timezone = change.customer_ref, change.anchor_day, change.timezone
    previous = uow.customers.get(customer_ref)
    record = CustomerRecord(
        customer_ref,
        change.stripe_customer_id,
        anchor,
        timezone,
        previous.created_us if previous else to_micros(now),
        to_micros(now),
    )
    uow.customers.upsert(record)
    moved = previous is None or (previous.anchor_day, previous.timezone) != (anchor, timezone)
    if moved and (anchor is not None or timezone is not None or previous is not None):
        for metric in load_metrics(uow).values():
            rebuild_metric(uow, metric, customer_ref=customer_ref, now_us=to_micros(now))
    audit.record(
        uow,
        now,
        "customer.put",
        "customer",
        customer_ref,
        before=None if previous is None else _customer_state(previous),
        after=_customer_state(record),
    )
    return record, moved


def get_customer(uow: UnitOfWork, customer_ref: str) -> CustomerRecord:
    record = uow.customers.get(customer_ref)
    if record is None:
        raise NotFoundError(
            f"customer {customer_ref!r} has no record",
            code="customer_not_found",
            field="customerRef",
        )
    return record


def _customer_state(record: CustomerRecord) -> dict[str, Any]:
    return {
        "stripeCustomerId": record.stripe_customer_id,
        "anchorDay": record.anchor_day,
        "timezone": record.timezone,
    }
