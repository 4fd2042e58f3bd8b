"""The one-statement reads behind ``GET /v1/usage/current`` (ADR 0941),
``GET /v1/usage/periods`` (ADR 0961) and the first of ``GET /v1/usage/history``'s two
(ADR 0967)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from stripemeter_server.service.catalog.ports.definitions import CustomerRecord, KeyStamp
from stripemeter_server.service.catalog.ports.prices import StoredPrice
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.ports.counters import StoredCounter


@dataclass(frozen=True, slots=True)
class CurrentInputs:
    """What a current-usage answer is computed from, read at once: the tenant's key stamp,
    every metric's stored definition, the customer's record, its counters whose period
    contains the instant, all its period closes, the default prices with its overrides
    (defaults first, as ``PricesRepository.for_customer``), and the tenant's open and
    pending backfill sessions (oldest first, as ``BackfillsRepository.find``)."""

    stamp: KeyStamp
    metrics: dict[str, str]
    customer: CustomerRecord | None
    counters: list[StoredCounter]
    closes: list[PeriodClose]
    prices: list[StoredPrice]
    backfills: list[BackfillRecord]


@dataclass(frozen=True, slots=True)
class PeriodInputs:
    """What a billing-periods answer is computed from, read at once: the tenant's key
    stamp, the metric's stored definition (``None``: no such metric), the customer's
    record, its counters of the metric whose period overlaps the range (as
    ``CountersRepository.find`` orders them), all its period closes, and the tenant's open
    and pending backfill sessions of the metric (oldest first)."""

    stamp: KeyStamp
    metric: str | None
    customer: CustomerRecord | None
    counters: list[StoredCounter]
    closes: list[PeriodClose]
    backfills: list[BackfillRecord]


@dataclass(frozen=True, slots=True)
class HistoryInputs:
    """What a usage history needs before it reads the ledger, read at once: the tenant's
    key stamp, the metric's stored definition (``None``: no such metric) and the
    customer's record (its time zone)."""

    stamp: KeyStamp
    metric: str | None
    customer: CustomerRecord | None


class CurrentReads(Protocol):
    def current_inputs(self, customer_ref: str, now_us: int) -> CurrentInputs:
        """Everything above; the adapter reads it in one statement (both stores)."""
        ...

    def period_inputs(
        self, customer_ref: str, metric: str, start_us: int, end_us: int
    ) -> PeriodInputs:
        """``PeriodInputs`` for ``[start_us, end_us)``, in one statement (both stores)."""
        ...

    def history_inputs(self, customer_ref: str, metric: str) -> HistoryInputs:
        """``HistoryInputs``, in one statement (both stores)."""
        ...


class LoopCurrentReads(Protocol):
    """The current-usage read awaited on the caller's event loop (PostgreSQL, ADR 0971):
    one statement, no transaction, no worker thread."""

    async def current_inputs(
        self, tenant_id: str, customer_ref: str, now_us: int
    ) -> CurrentInputs | None:
        """``CurrentReads.current_inputs`` for ``tenant_id``; ``None`` when the loop has no
        connection free for it (the caller then reads through a unit of work)."""
        ...
