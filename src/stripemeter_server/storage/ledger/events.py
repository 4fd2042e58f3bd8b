"""The immutable event ledger. Rows are only ever inserted, or marked void / late."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Row

from stripemeter_server.domain.decimals import ARITHMETIC, ZERO
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.periods import Period
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ports.events import (
    CountingRow,
    CustomerSpan,
    PeriodBounds,
    PeriodTotals,
    StepGrid,
    StepTotal,
    StoredEvent,
)
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.driver_statements import DriverStatement
from stripemeter_server.storage.ledger.period_totals import (
    grouped_rows,
    load_periods,
    raw_rows,
    totals,
    totals_query,
)
from stripemeter_server.storage.schema import backfills, events


@functools.cache  # a pure function of the filter's shape: each statement is built once
def _page_statement(
    metric: bool,
    customer: bool,
    ts_from: bool,
    ts_to: bool,
    after: bool,
    live: bool,
    counting: bool,
    backfill: bool,
) -> Any:
    c = events.c
    query = select(events).where(c.tenant_id == bindparam("tenant"))
    conditions = (
        (metric, c.metric == bindparam("metric")),
        (customer, c.customer_ref == bindparam("customer")),
        (ts_from, c.ts_us >= bindparam("ts_from")),
        (ts_to, c.ts_us < bindparam("ts_to")),
        (after, c.seq > bindparam("after")),
        (live, c.voided_us.is_(None)),
    )
    for wanted, condition in conditions:
        if wanted:
            query = query.where(condition)
    if counting:
        closed = select(backfills.c.backfill_id).where(
            backfills.c.tenant_id == bindparam("tenant"), backfills.c.status == "closed"
        )
        query = query.where(or_(c.backfill_id.is_(None), c.backfill_id.in_(closed)))
    if backfill:
        query = query.where(c.backfill_id == bindparam("backfill"))
    return query.order_by(c.seq).limit(bindparam("limit"))


def _event(row: Row[Any]) -> StoredEvent:
    return StoredEvent(
        row.seq,
        row.idempotency_key,
        row.metric,
        row.customer_ref,
        row.quantity,
        row.ts_us,
        row.received_us,
        row.resource_id,
        row.meta,
        bool(row.late),
        bool(row.late_after_close),
        row.voided_us,
        row.backfill_id,
    )


@functools.cache  # one statement per store, built once
def _step_statement(sqlite: bool) -> Any:
    """The counting events of one customer's metric in a span, counted and summed per step.
    PostgreSQL adds ``numeric`` exactly; SQLite keeps decimals as text, so it hands each
    step's quantities over as one string for Python to add (``period_totals`` does the
    same). The step is grouped by its output name: PostgreSQL would not match two
    renderings of an expression with parameters."""
    c = events.c
    origin = bindparam("origin", type_=BigInteger)
    step = ((c.ts_us - origin) // bindparam("width", type_=BigInteger)).label("step")
    total = func.group_concat(c.quantity, ",", type_=String) if sqlite else func.sum(c.quantity)
    closed = select(backfills.c.backfill_id).where(
        backfills.c.tenant_id == bindparam("tenant"), backfills.c.status == "closed"
    )
    return (
        select(step, func.count().label("events"), total.label("total"))
        .where(
            c.tenant_id == bindparam("tenant"),
            c.metric == bindparam("metric"),
            c.customer_ref == bindparam("customer"),
            c.ts_us >= bindparam("ts_from"),
            c.ts_us < bindparam("ts_to"),
            c.voided_us.is_(None),  # what ``only_counting`` selects (``_filtered``)
            or_(c.backfill_id.is_(None), c.backfill_id.in_(closed)),
        )
        .group_by(literal_column("step"))
    )


# On the driver's cursor (ADR 0950's ``DriverStatement``; ADR 0967): a history's one ledger
# statement, without SQLAlchemy's execution context and result per call.
_STEP_STATEMENTS = {
    dialect: DriverStatement(_step_statement(dialect == "sqlite"))
    for dialect in ("sqlite", "postgresql")
}


def _added(text: str) -> Decimal:
    total = ZERO
    for part in text.split(","):
        total = ARITHMETIC.add(total, Decimal(part))
    return total


# Each key's event row as ``event_keys`` names it, one primary-key probe per key (ADR 0981).
_LOCATED = (
    "SELECT n.seq, n.received_us FROM unnest(CAST(:located_keys AS text[])) AS k(key) "
    "CROSS JOIN LATERAL (SELECT r.seq, r.received_us FROM event_keys r "
    "WHERE r.tenant_id = :located_tenant AND r.idempotency_key = k.key LIMIT 1) n"
)


class EventsRepository(ABC):
    """The ledger, shared by both stores; the ingest hot path is written per store on the
    raw driver (``storage/sqlite``, ``storage/postgres``)."""

    def __init__(self, conn: Connection, tenant_id: str) -> None:
        self._conn = conn
        self._tenant = tenant_id

    @abstractmethod
    def insert_new(self, entries: Sequence[LedgerEntry]) -> set[str]:
        """Insert events whose key is new; returns the keys actually inserted.

        Exact under concurrency: the unique (tenant, key) index makes a racing request with
        the same key wait for ours and then insert nothing.
        """

    @abstractmethod
    def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        """The stored payload fingerprint of each of ``keys`` that is in the ledger."""

    @abstractmethod
    def mark_late(self, keys: Sequence[str]) -> None:
        """Flag accepted events that arrived behind their counter's watermark."""

    def _keyed(self, keys: Sequence[str]) -> Any:
        """The condition naming the tenant's events of ``keys``. On PostgreSQL through
        ``event_keys``, whose rows name their events' (``seq``, ``received_us``): the ledger
        keeps no index of its keys there (ADR 0981). Each key's row comes from a ``LATERAL
        (… LIMIT 1)`` probe, one per key whatever the statistics (ADR 0943): as an ``IN``
        list the planner read all of ``event_keys`` for a thousand keys. SQLite's unique
        key is on ``events``."""
        if self._conn.dialect.name == "sqlite":
            return and_(events.c.tenant_id == self._tenant, events.c.idempotency_key.in_(keys))
        located = (
            text(_LOCATED)
            .bindparams(located_keys=list(keys), located_tenant=self._tenant)
            .columns(seq=BigInteger(), received_us=BigInteger())
            .subquery()
        )
        return and_(
            events.c.tenant_id == self._tenant,
            tuple_(events.c.seq, events.c.received_us).in_(
                select(located.c.seq, located.c.received_us)
            ),
        )

    def _set_flag(self, keys: Sequence[str], values: dict[str, Any]) -> None:
        for part in chunks(list(keys)):
            self._conn.execute(update(events).where(self._keyed(list(part))).values(**values))

    def get(self, key: str) -> StoredEvent | None:
        row = self._conn.execute(select(events).where(self._keyed([key]))).first()
        return _event(row) if row else None

    def void(self, key: str, now_us: int) -> None:
        self._set_flag([key], {"voided_us": now_us})

    def page(self, flt: EventFilter, limit: int) -> list[StoredEvent]:
        """One page in ledger order, through a statement built once per filter shape
        (usage history, windows and credit burn read pages on every request, ADR 0830)."""
        shape = (
            flt.metric is not None,
            flt.customer_ref is not None,
            flt.ts_from_us is not None,
            flt.ts_to_us is not None,
            flt.after_seq is not None,
            not flt.include_void or flt.only_counting,
            flt.only_counting,
            flt.backfill_id is not None,
        )
        params = {
            "tenant": self._tenant,
            "metric": flt.metric,
            "customer": flt.customer_ref,
            "ts_from": flt.ts_from_us,
            "ts_to": flt.ts_to_us,
            "after": flt.after_seq,
            "backfill": flt.backfill_id,
            "limit": limit,
        }
        statement = _page_statement(*shape)
        used = {k: v for k, v in params.items() if v is not None}
        return [_event(row) for row in self._conn.execute(statement, used)]

    def stream(self, flt: EventFilter, batch: int = 5000) -> Iterator[StoredEvent]:
        """All matching events in ledger order, fetched in keyset pages (bounded memory)."""
        after = flt.after_seq
        while True:
            page = self.page(replace(flt, after_seq=after), batch)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].seq

    def counting_rows(
        self, metric: str, customer_ref: str | None, batch: int = 10_000
    ) -> Iterator[CountingRow]:
        """What a rebuild needs of each counting event, in ledger order, fetched in keyset
        pages of plain tuples (bounded memory, no per-row objects)."""
        flt = EventFilter(metric=metric, customer_ref=customer_ref, only_counting=True)
        columns = [events.c[name] for name in CountingRow._fields]
        after = None
        while True:
            query = self._filtered(replace(flt, after_seq=after), columns)
            rows = self._raw_counting(query.order_by(events.c.seq).limit(batch))
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].seq

    def _raw_counting(self, query: Any) -> list[CountingRow]:
        """One page through the driver's own cursor: a rebuild reads every event of a metric,
        and SQLAlchemy's per-row result processing was a third of its time (ADR 0830).
        The quantity arrives as decimal text (SQLite) or a ``Decimal`` (PostgreSQL), the
        flag as 0/1 or a bool: both made exactly what the typed path gave."""
        fetched = raw_rows(self._conn, query)
        return [
            CountingRow(
                seq,
                key,
                customer,
                q if type(q) is Decimal else Decimal(q),
                ts_us,
                resource,
                meta,
                bool(late),
            )
            for seq, key, customer, q, ts_us, resource, meta, late in fetched
        ]

    def counting_spans(self, metric: str, customer_ref: str | None) -> list[CustomerSpan]:
        """From the ledger's index alone: void events and open backfills are not left out
        (that would read every event's row, a third of a rebuild on SQLite), so the spans
        may be wider than the counting events'; the periods this adds hold no counter."""
        c = events.c
        flt = EventFilter(metric=metric, customer_ref=customer_ref, include_void=True)
        query = self._filtered(flt, [c.customer_ref, func.min(c.ts_us), func.max(c.ts_us)])
        return [tuple(row) for row in raw_rows(self._conn, query.group_by(c.customer_ref))]

    def period_totals(
        self, metric: str, customer_ref: str | None, periods: Sequence[PeriodBounds]
    ) -> Iterator[PeriodTotals]:
        """One row per counter, aggregated in SQL over the given periods (ADR 0870, 0892)."""
        flt = EventFilter(metric=metric, customer_ref=customer_ref, only_counting=True)
        grouped = load_periods(self._conn, periods)
        sqlite = self._conn.dialect.name == "sqlite"
        rows = grouped_rows(self._conn, totals_query(self._filtered(flt), sqlite))
        return totals(self._conn, self._tenant, rows, grouped)

    def step_totals(
        self, metric: str, customer_ref: str, span_us: tuple[int, int], steps: StepGrid
    ) -> list[StepTotal]:
        """Aggregated in SQL, one row per step holding events (ADR 0955)."""
        sqlite = self._conn.dialect.name == "sqlite"
        params = {
            "tenant": self._tenant,
            "metric": metric,
            "customer": customer_ref,
            "ts_from": span_us[0],
            "ts_to": span_us[1],
            "origin": steps.origin_us,
            "width": steps.width_us,
        }
        rows = _STEP_STATEMENTS[self._conn.dialect.name].rows(self._conn, params)
        return [
            StepTotal(int(step), int(count), _added(total) if sqlite else total)
            for step, count, total in (row.values() for row in rows)
        ]

    def _filtered(self, flt: EventFilter, columns: Sequence[Any] | None = None) -> Any:
        query = select(*(columns or [events])).where(events.c.tenant_id == self._tenant)
        if flt.metric is not None:
            query = query.where(events.c.metric == flt.metric)
        if flt.customer_ref is not None:
            query = query.where(events.c.customer_ref == flt.customer_ref)
        if flt.ts_from_us is not None:
            query = query.where(events.c.ts_us >= flt.ts_from_us)
        if flt.ts_to_us is not None:
            query = query.where(events.c.ts_us < flt.ts_to_us)
        if flt.after_seq is not None:
            query = query.where(events.c.seq > flt.after_seq)
        if not flt.include_void or flt.only_counting:
            query = query.where(events.c.voided_us.is_(None))
        if flt.only_counting:
            closed = select(backfills.c.backfill_id).where(
                backfills.c.tenant_id == self._tenant, backfills.c.status == "closed"
            )
            query = query.where(
                or_(events.c.backfill_id.is_(None), events.c.backfill_id.in_(closed))
            )
        if flt.backfill_id is not None:
            query = query.where(events.c.backfill_id == flt.backfill_id)
        return query

    def void_many(self, keys: Sequence[str], now_us: int) -> None:
        self._set_flag(keys, {"voided_us": now_us})

    def mark_late_after_close(self, keys: Sequence[str]) -> None:
        self._set_flag(keys, {"late_after_close": True})

    def flag_backfill_range(
        self, backfill_id: str, customer_ref: str, period: Period, **values: Any
    ) -> int:
        """Flag a session's live events of one customer in one period; returns how many."""
        result = self._conn.execute(
            update(events)
            .where(
                events.c.tenant_id == self._tenant,
                events.c.backfill_id == backfill_id,
                events.c.customer_ref == customer_ref,
                events.c.ts_us >= to_micros(period.start),
                events.c.ts_us < to_micros(period.end),
                events.c.voided_us.is_(None),
            )
            .values(**values)
        )
        return int(result.rowcount)

    def backfill_tallies(self, backfill_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Per session: (events held, of which void)."""
        found: dict[str, tuple[int, int]] = {}
        for part in chunks(list(backfill_ids)):
            query = (
                select(
                    events.c.backfill_id,
                    func.count(),
                    func.count(events.c.voided_us),
                )
                .where(events.c.tenant_id == self._tenant, events.c.backfill_id.in_(list(part)))
                .group_by(events.c.backfill_id)
            )
            found.update({row[0]: (int(row[1]), int(row[2])) for row in self._conn.execute(query)})
        return found
