"""The event ledger: stored events, the read filter and the repository ports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.periods import Period
from stripemeter_server.domain.queries import EventFilter


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    idempotency_key: str
    metric: str
    customer_ref: str
    quantity: Decimal
    ts_us: int
    received_us: int
    resource_id: str | None
    meta: str | None
    late: bool
    late_after_close: bool
    voided_us: int | None
    backfill_id: str | None = None


class CountingRow(NamedTuple):
    """An event as a rebuild folds it: no more than that, read as a plain tuple."""

    seq: int
    idempotency_key: str
    customer_ref: str
    quantity: Decimal
    ts_us: int
    resource_id: str | None
    meta: str | None
    late: bool


class StepGrid(NamedTuple):
    """Steps of one width: step ``i`` is ``[origin_us + i * width_us, origin_us + (i + 1) *
    width_us)``."""

    origin_us: int
    width_us: int


class StepTotal(NamedTuple):
    """One step's counting events, aggregated by the store (a usage history's fast path)."""

    step: int
    events: int
    sum: Decimal


class PeriodTotals(NamedTuple):
    """One counter's worth of counting events, aggregated by the store (a rebuild's fast
    path): everything ``CounterState`` keeps except uniques and corrections."""

    customer_ref: str
    period_start_us: int
    period_end_us: int
    events: int
    late_count: int
    watermark_us: int
    sum: Decimal
    max: Decimal
    min: Decimal
    latest_value: Decimal
    latest_ts_us: int
    latest_key: str


# A customer's counting events of one metric: customer ref, first and last ts_us.
CustomerSpan = tuple[str, int, int]
# One customer's period: customer ref, period start and end in microseconds.
PeriodBounds = tuple[str, int, int]


class IngestEvents(Protocol):
    """The ledger as ingest writes it: insert the new keys, compare the rest, flag late ones."""

    def insert_new(self, entries: Sequence[LedgerEntry]) -> set[str]:
        """Insert the entries whose key is new; returns the keys actually inserted (exact
        under concurrency: a racing insert of the same key waits, then inserts nothing)."""
        ...

    def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        """The stored payload fingerprint of each key that exists."""
        ...

    def mark_late(self, keys: Sequence[str]) -> None: ...


class EventsRepository(IngestEvents, Protocol):
    """The immutable ledger: rows are only inserted, or marked void / late."""

    def get(self, key: str) -> StoredEvent | None: ...

    def void(self, key: str, now_us: int) -> None: ...

    def page(self, flt: EventFilter, limit: int) -> list[StoredEvent]: ...

    def stream(self, flt: EventFilter, batch: int = 5000) -> Iterator[StoredEvent]: ...

    def counting_rows(
        self, metric: str, customer_ref: str | None, batch: int = 10_000
    ) -> Iterator[CountingRow]:
        """What a rebuild needs of each counting event, in ledger order."""
        ...

    def counting_spans(self, metric: str, customer_ref: str | None) -> list[CustomerSpan]:
        """Each customer's first and last event time of the metric: at least the span of
        its counting events (a store may include void or held events when that is cheaper;
        the periods they add then yield nothing)."""
        ...

    def period_totals(
        self, metric: str, customer_ref: str | None, periods: Sequence[PeriodBounds]
    ) -> Iterator[PeriodTotals]:
        """The counting events of the metric aggregated per given period (periods of one
        customer do not overlap; periods without events yield nothing)."""
        ...

    def step_totals(
        self, metric: str, customer_ref: str, span_us: tuple[int, int], steps: StepGrid
    ) -> list[StepTotal]:
        """The counting events of one customer's metric in ``span_us`` (from, to), per step
        of ``steps`` holding any: how many, and the exact sum of their quantities."""
        ...

    def void_many(self, keys: Sequence[str], now_us: int) -> None: ...

    def mark_late_after_close(self, keys: Sequence[str]) -> None: ...

    def flag_backfill_range(
        self, backfill_id: str, customer_ref: str, period: Period, **values: Any
    ) -> int: ...

    def backfill_tallies(self, backfill_ids: Sequence[str]) -> dict[str, tuple[int, int]]: ...
