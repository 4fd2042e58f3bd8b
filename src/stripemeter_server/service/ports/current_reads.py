"""The one-statement read behind ``GET /v1/usage/current``'s fast path (ADR 0941)."""

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


class CurrentReads(Protocol):
    def current_inputs(self, customer_ref: str, now_us: int) -> CurrentInputs:
        """Everything above; the adapter reads it in one statement (both stores)."""
        ...
