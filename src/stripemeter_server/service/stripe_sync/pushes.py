"""The pushes as the API shows them: list (filters, keyset cursor), retry a parked one, the
per-customer subscription item for usage records, and the health figures. Records go out
typed; their wire shapes are rendered in ``api/schemas``."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations import audit
from stripemeter_server.service.stripe_sync.mappings import get_mapping
from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    SENT,
    PushRow,
    PushStats,
)
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    OVERRIDE,
    SubscriptionItemRecord,
)
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)

MAX_LIMIT = 500
STATUSES = (PENDING, SENT, FAILED)
_CURSOR = re.compile(r"(\d{1,19}):(smp_[0-9a-f]{1,60})", re.ASCII)
SUBSCRIPTION_ITEM_ID = re.compile(r"si_[A-Za-z0-9]{1,250}", re.ASCII)


@dataclass(frozen=True)
class PushPage:
    """One page of pushes, newest first; ``next_cursor`` continues after the last."""

    rows: list[PushRow]
    next_cursor: str | None


@dataclass(frozen=True)
class PushHealth:
    """Lag = age of the oldest pending push (seconds, 3 decimals); failed = parked pushes."""

    lag_seconds: float
    pending: int
    failed: int


def encode_cursor(row: PushRow) -> str:
    return base64.urlsafe_b64encode(f"{row.created_us}:{row.push_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        text = base64.urlsafe_b64decode(cursor[:200].encode("ascii")).decode("ascii")
    except (ValueError, binascii.Error, UnicodeError):
        text = ""
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise ValidationError(
            "cursor is not one this API returned", code="invalid_cursor", field="cursor"
        )
    return int(match.group(1)), match.group(2)


def list_pushes(
    uow: UnitOfWork,
    *,
    status: str | None,
    metric: str | None,
    customer_ref: str | None,
    cursor: str | None,
    limit: int,
) -> PushPage:
    if status is not None and status not in STATUSES:
        raise ValidationError(
            f"status must be one of: {', '.join(STATUSES)}", code="invalid_field", field="status"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be from 1 to {MAX_LIMIT}", code="invalid_field", field="limit"
        )
    before = decode_cursor(cursor) if cursor else None
    rows = uow.pushes.find(
        status=status, metric=metric, customer_ref=customer_ref, before=before, limit=limit + 1
    )
    page = rows[:limit]
    return PushPage(page, encode_cursor(page[-1]) if len(rows) > limit else None)


def retry_push(uow: UnitOfWork, push_id: str, now: datetime) -> PushRow:
    """A parked push back to pending, due now (a pending or sent one is left as it is)."""
    row = uow.pushes.get(push_id)
    if row is None:
        raise NotFoundError(f"no push {push_id!r}", code="push_not_found", field="id")
    uow.pushes.requeue([push_id], to_micros(now))
    found = uow.pushes.get(push_id)
    assert found is not None
    return found


def requeue_metric(uow: UnitOfWork, metric: str, now: datetime) -> int:
    """After a mapping change: give every parked push of the metric another go."""
    return uow.pushes.requeue(None, to_micros(now), metric=metric)


def set_subscription_item(
    uow: UnitOfWork, customer_ref: str, metric: str, item: str, now: datetime
) -> SubscriptionItemRecord:
    """Report the metric's usage records for the customer to ``item`` (parsed at the edge);
    the audit entry's ``before``/``after`` are stored JSON, not the wire."""
    get_mapping(uow, metric)  # 404 when the metric has no mapping
    previous = uow.subscription_items.get(customer_ref, metric)
    audit.record(
        uow,
        now,
        "subscription_item.put",
        "subscription_item",
        f"{metric}/{customer_ref}",
        before=None if previous is None else {"subscriptionItem": previous.subscription_item_id},
        after={"subscriptionItem": item},
    )
    uow.subscription_items.put(
        SubscriptionItemRecord(customer_ref, metric, item, None, OVERRIDE, to_micros(now))
    )
    requeue_metric(uow, metric, now)
    return subscription_item(uow, customer_ref, metric)


def subscription_item(uow: UnitOfWork, customer_ref: str, metric: str) -> SubscriptionItemRecord:
    record = uow.subscription_items.get(customer_ref, metric)
    if record is None:
        raise NotFoundError(
            "no subscription item is known for this customer and metric",
            code="subscription_item_not_found",
            field="metric",
        )
    return record


def delete_subscription_item(
    uow: UnitOfWork, customer_ref: str, metric: str, now: datetime
) -> None:
    previous = uow.subscription_items.get(customer_ref, metric)
    if previous is None or not uow.subscription_items.delete(customer_ref, metric):
        raise NotFoundError(
            "no subscription item is known for this customer and metric",
            code="subscription_item_not_found",
            field="metric",
        )
    audit.record(
        uow,
        now,
        "subscription_item.delete",
        "subscription_item",
        f"{metric}/{customer_ref}",
        before={"subscriptionItem": previous.subscription_item_id},
    )


def push_health(stats: PushStats, now: datetime) -> PushHealth:
    """Lag = age of the oldest pending push; failed = parked pushes (all tenants)."""
    lag = 0.0
    if stats.oldest_pending_us is not None:
        lag = max(0.0, (to_micros(now) - stats.oldest_pending_us) / 1_000_000)
    return PushHealth(round(lag, 3), stats.pending, stats.failed)


def current_push_health(uow: UnitOfWork, now: datetime) -> PushHealth:
    """``push_health`` of the outbox as it stands (all tenants)."""
    return push_health(uow.pushes.stats(), now)
