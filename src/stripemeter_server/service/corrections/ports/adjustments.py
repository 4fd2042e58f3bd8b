"""Adjustments and period closes (a closed period's record): records and ports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AdjustmentRecord:
    adjustment_id: str
    metric: str
    customer_ref: str
    period_start_us: int
    delta: Decimal
    reason: str
    note: str | None
    actor: str
    status: str
    event_key: str | None
    source_period_start_us: int | None
    reverts: str | None
    created_us: int


@dataclass(frozen=True, slots=True)
class PeriodClose:
    metric: str
    customer_ref: str
    period_start_us: int
    period_end_us: int
    reason: str
    final_value: Decimal | None
    closed_us: int


class AdjustmentsRepository(Protocol):
    def add_many(self, records: Iterable[AdjustmentRecord]) -> None: ...

    def get(self, adjustment_id: str) -> AdjustmentRecord | None: ...

    def set_status(self, adjustment_id: str, status: str) -> None: ...

    def find(
        self,
        *,
        metric: str | None = None,
        customer_ref: str | None = None,
        reverts: str | None = None,
    ) -> list[AdjustmentRecord]: ...


class PeriodClosesRepository(Protocol):
    def find_many(
        self, keys: Sequence[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], PeriodClose]: ...

    def find(
        self, *, metric: str | None = None, customer_ref: str | None = None
    ) -> list[PeriodClose]: ...

    def add(self, lock: PeriodClose) -> bool: ...
