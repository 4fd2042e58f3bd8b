"""Counters (live totals) and the exact distinct-value sets behind ``unique_count``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import Any

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.engine import Connection, Row

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter
from stripemeter_server.storage.schema import counter_uniques, counters

STATE_COLUMNS = (
    "count",
    "sum",
    "max",
    "min",
    "latest_value",
    "latest_ts_us",
    "latest_key",
    "unique_count",
    "adjustments",
    "late_out",
    "watermark_us",
    "late_count",
)


def _state_of(row: Row[Any]) -> CounterState:
    mapping = row._mapping
    return CounterState(**{name: mapping[name] for name in STATE_COLUMNS})


def _stored(row: Row[Any]) -> StoredCounter:
    return StoredCounter(
        row.metric, row.customer_ref, row.period_start_us, row.period_end_us, _state_of(row)
    )


def lock_order(key: CounterKey) -> tuple[str, str, int]:
    """The one global order in which every transaction locks counters (no deadlocks)."""
    metric, customer_ref, period_start_us = key
    return (customer_ref, metric, period_start_us)


def _find_statement(
    customer: bool, metric: bool, start_from: bool, start_before: bool
) -> Select[Any]:
    query = select(counters).where(counters.c.tenant_id == bindparam("tenant"))
    if customer:
        query = query.where(counters.c.customer_ref == bindparam("customer"))
    if metric:
        query = query.where(counters.c.metric == bindparam("metric"))
    if start_from:
        query = query.where(counters.c.period_end_us > bindparam("start_from"))
    if start_before:
        query = query.where(counters.c.period_start_us < bindparam("start_before"))
    return query.order_by(counters.c.metric, counters.c.customer_ref, counters.c.period_start_us)


# Built once for each combination of filters: reads run them on every request (ADR 0830).
_ONE = select(counters).where(  # built once (ADR 0860)
    counters.c.tenant_id == bindparam("tenant"),
    counters.c.metric == bindparam("metric"),
    counters.c.customer_ref == bindparam("customer"),
    counters.c.period_start_us == bindparam("start"),
)
_FIND = {flags: _find_statement(*flags) for flags in product((False, True), repeat=4)}


class CountersRepository(ABC):
    """Counters, shared by both stores; the ingest hot path (``lock``, ``save``,
    ``add_uniques``) is written per store on the raw driver (``storage/sqlite``,
    ``storage/postgres``)."""

    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    @abstractmethod
    def lock(
        self, periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        """Lock and load the counters, with zero state for those that do not exist yet."""

    @abstractmethod
    def save(self, changed: Iterable[StoredCounter], now_us: int) -> None:
        """Write the locked counters back: one write per counter."""

    @abstractmethod
    def add_uniques(
        self, values: Sequence[tuple[str, str, int, str]]
    ) -> set[tuple[str, str, int, str]]:
        """Insert distinct values; returns those that were new (exact, concurrency-safe)."""

    def lock_if_open(
        self, periods: Mapping[CounterKey, int], now_us: int, checked: Sequence[CounterKey]
    ) -> dict[CounterKey, StoredCounter] | None:
        """Not offered here (None): the caller reads the closes, then ``lock``s."""
        return None

    def flush(self) -> None:
        """Writes held for the commit sent now: none here (PostgreSQL's group commits
        hold some, ADR 0974)."""
        return

    def get(self, key: CounterKey) -> StoredCounter | None:
        metric, customer, start = key
        params = {"tenant": self._tenant, "metric": metric, "customer": customer, "start": start}
        row = self._conn.execute(_ONE, params).first()
        return _stored(row) if row else None

    def find(
        self,
        *,
        customer_ref: str | None = None,
        metric: str | None = None,
        start_from_us: int | None = None,
        start_before_us: int | None = None,
    ) -> list[StoredCounter]:
        params = {
            "tenant": self._tenant,
            "customer": customer_ref,
            "metric": metric,
            "start_from": start_from_us,
            "start_before": start_before_us,
        }
        flags = (
            customer_ref is not None,
            metric is not None,
            start_from_us is not None,
            start_before_us is not None,
        )
        statement = _FIND[flags]
        return [
            _stored(row)
            for row in self._conn.execute(
                statement, {k: v for k, v in params.items() if v is not None}
            )
        ]

    def delete(self, *, metric: str, customer_ref: str | None = None) -> None:
        for table in (counters, counter_uniques):
            statement = delete(table).where(
                table.c.tenant_id == self._tenant, table.c.metric == metric
            )
            if customer_ref is not None:
                statement = statement.where(table.c.customer_ref == customer_ref)
            self._conn.execute(statement)

    @abstractmethod
    def insert_many(self, rebuilt: Iterable[StoredCounter], now_us: int) -> None:
        """Insert counters a rebuild computed (their old rows are deleted first)."""

    def insert_uniques(self, values: Iterable[tuple[str, str, int, str]]) -> None:
        rows = [
            {
                "tenant_id": self._tenant,
                "metric": m,
                "customer_ref": c,
                "period_start_us": p,
                "value": v,
            }
            for (m, c, p, v) in values
        ]
        if rows:
            self._conn.execute(counter_uniques.insert(), rows)


__all__ = ["STATE_COLUMNS", "ZERO", "CounterKey", "CountersRepository", "StoredCounter"]
