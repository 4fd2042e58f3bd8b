"""Reads of the operator dashboard (``/ui``) that the JSON API has no use case for: the
customer list, the ledger newest first, one event, and the overview (its status counts are
the per-minute ingest tallies, never a count of ledger rows). Writes go through the same use
cases as the API (``corrections``, ``pushes``, ``reconciliation_runs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.alerts.ports import AlertEventRecord
from stripemeter_server.service.dashboard.ports import (
    ClosingPeriod,
    DashboardReads,
    TenantPushStats,
)
from stripemeter_server.service.dashboard.ports import DashboardUnitOfWork as UnitOfWork
from stripemeter_server.service.ingest.ports import IngestTally
from stripemeter_server.service.ingest.tallies import MINUTE_US
from stripemeter_server.service.ports.events import StoredEvent
from stripemeter_server.service.reconciliation.ports import GateVerdict, RunRecord
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    SubscriptionItemRecord,
)

PAGE = 50
CLOSING_WITHIN = timedelta(days=3)
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Overview:
    last_hour: IngestTally
    last_day: IngestTally
    closing: list[ClosingPeriod]
    pushes: TenantPushStats
    last_run: RunRecord | None
    held_invoices: int
    alert_events: list[AlertEventRecord]


def _reads(uow: UnitOfWork) -> DashboardReads:
    return uow.dashboard


def customer_page(uow: UnitOfWork, prefix: str, after: str | None, limit: int = PAGE) -> Page[str]:
    """Customers in reference order, optionally those starting with ``prefix``."""
    prefix = check_identifier(prefix, "q") if prefix else ""
    found = _reads(uow).customer_refs(prefix=prefix, after=after or None, limit=limit + 1)
    return Page(found[:limit], found[limit - 1] if len(found) > limit else None)


def require_customer(uow: UnitOfWork, customer_ref: str) -> None:
    """404 for a customer this tenant has never counted nor recorded."""
    if not _reads(uow).customer_known(customer_ref):
        raise NotFoundError(
            f"no customer {customer_ref!r}", code="customer_not_found", field="customerRef"
        )


def ledger_page(
    uow: UnitOfWork,
    *,
    metric: str | None,
    customer_ref: str | None,
    before: int | None,
    limit: int = PAGE,
) -> Page[StoredEvent]:
    """The ledger newest first; the cursor is the last shown event's position."""
    found = _reads(uow).events_newest_first(
        metric=metric or None, customer_ref=customer_ref or None, before_seq=before, limit=limit + 1
    )
    shown = found[:limit]
    return Page(shown, str(shown[-1].seq) if len(found) > limit else None)


def event_detail(uow: UnitOfWork, key: str) -> StoredEvent:
    event = uow.events.get(key)
    if event is None:
        raise NotFoundError(
            f"no event with idempotencyKey {key!r}", code="event_not_found", field="idempotencyKey"
        )
    return event


def overview(uow: UnitOfWork, now: datetime) -> Overview:
    reads, now_us = _reads(uow), to_micros(now)
    finished = uow.reconciliation.list_runs(before=None, limit=1)
    return Overview(
        last_hour=uow.ingest_tallies.sums(_minute_of(now - timedelta(hours=1))),
        last_day=uow.ingest_tallies.sums(_minute_of(now - timedelta(days=1))),
        closing=reads.periods_closing(now_us, to_micros(now + CLOSING_WITHIN), 10),
        pushes=reads.push_stats(),
        last_run=finished[0] if finished else None,
        held_invoices=uow.reconciliation.held_count(),
        alert_events=uow.alerts.events(after_seq=0, limit=10),
    )


def _minute_of(at: datetime) -> int:
    """The start of ``at``'s minute: tallies are per minute, so a window spans 60 to 61."""
    return to_micros(at) // MINUTE_US * MINUTE_US


def stripe_mapping(
    uow: UnitOfWork, customer_ref: str, metrics: list[str]
) -> tuple[str | None, dict[str, SubscriptionItemRecord]]:
    """The customer's Stripe customer id and the subscription items its metrics go to."""
    record = uow.customers.get(customer_ref)
    stripe_id = uow.stripe_customers.get(customer_ref) or (
        record.stripe_customer_id if record else None
    )
    items = {
        code: found
        for code in metrics
        if (found := uow.subscription_items.get(customer_ref, code)) is not None
    }
    return stripe_id, items


def held_invoices(uow: UnitOfWork, limit: int = 50) -> list[GateVerdict]:
    """Draft invoices the reconciliation gate holds back (newest first)."""
    return uow.reconciliation.verdicts(state="held", limit=limit)
