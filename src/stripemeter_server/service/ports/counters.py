"""Live counters: the key, the stored record and the repository ports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from stripemeter_server.domain.counters import CounterState

CounterKey = tuple[str, str, int]  # (metric, customer_ref, period_start_us)


@dataclass(slots=True)
class StoredCounter:
    metric: str
    customer_ref: str
    period_start_us: int
    period_end_us: int
    state: CounterState

    @property
    def key(self) -> CounterKey:
        return (self.metric, self.customer_ref, self.period_start_us)


class IngestCounters(Protocol):
    """Live counters as ingest and alert evaluation update and read them."""

    def lock(
        self, periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        """Lock and load the counters (``periods`` maps each to its period end), creating
        the missing ones at zero; the caller changes them and ``save``s them back."""
        ...

    def lock_if_open(
        self, periods: Mapping[CounterKey, int], now_us: int, checked: Sequence[CounterKey]
    ) -> dict[CounterKey, StoredCounter] | None:
        """``lock``, unless a period of ``checked`` is closed by a lock (an invoice's or an
        operator's): then nothing is locked and the answer is None, as it is from a store
        that does not check both at once (the caller then reads the closes and ``lock``s).
        PostgreSQL checks and claims in one statement (ADR 0974)."""
        ...

    def save(self, changed: Iterable[StoredCounter], now_us: int) -> None: ...

    def add_uniques(
        self, values: Sequence[tuple[str, str, int, str]]
    ) -> set[tuple[str, str, int, str]]:
        """Record distinct values; returns those that were new (exact, concurrency-safe)."""
        ...

    def flush(self) -> None:
        """Send the writes this transaction held back for its commit (PostgreSQL's group
        commits hold the counters' write-back and the ledger insert, ADR 0974): a read of
        what they wrote, in the same transaction, calls this first."""
        ...

    def get(self, key: CounterKey) -> StoredCounter | None: ...

    def find(
        self,
        *,
        customer_ref: str | None = None,
        metric: str | None = None,
        start_from_us: int | None = None,
        start_before_us: int | None = None,
    ) -> list[StoredCounter]: ...


class CountersRepository(IngestCounters, Protocol):
    """Live counters and the distinct-value sets behind ``unique_count`` (rebuilds too)."""

    def delete(self, *, metric: str, customer_ref: str | None = None) -> None: ...

    def insert_many(self, rebuilt: Iterable[StoredCounter], now_us: int) -> None: ...

    def insert_uniques(self, values: Iterable[tuple[str, str, int, str]]) -> None: ...
