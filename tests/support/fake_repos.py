"""In-memory repositories with the SQL adapters' semantics, for the ingest pipeline's ports.

Each mirrors its SQL counterpart in ``storage/``: ``insert_new`` keeps the first row of a
key and returns only the keys it inserted; ``add_uniques`` returns only the values that were
new; ``lock`` creates the missing counters (with the given period end) and hands out copies
that the caller changes and ``save``s back; ``fire`` stores an alert once per (rule,
customer, period). They hold one tenant's slice of a ``FakeStore``'s data (``fake_store.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.counters import Contribution, CounterState
from stripemeter_server.domain.decimals import ARITHMETIC
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.periods import Period
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord, PeriodClose
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.ingest.ports import TALLY_FIELDS, IngestTally
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter
from stripemeter_server.service.ports.events import (
    CountingRow,
    CustomerSpan,
    PeriodBounds,
    PeriodTotals,
    StepGrid,
    StepTotal,
    StoredEvent,
)
from tests.support.fake_alerts import AlertTables

UniqueValue = tuple[str, str, int, str]  # (metric, customer_ref, period_start_us, value)


@dataclass
class LedgerTables:
    """One tenant's ledger-side rows, as the tables would hold them."""

    events: dict[str, StoredEvent] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    counters: dict[CounterKey, StoredCounter] = field(default_factory=dict)
    counters_written: dict[CounterKey, int] = field(default_factory=dict)  # updated_us
    uniques: set[UniqueValue] = field(default_factory=set)
    adjustments: list[AdjustmentRecord] = field(default_factory=list)
    period_closes: dict[CounterKey, PeriodClose] = field(default_factory=dict)
    backfills: dict[str, BackfillRecord] = field(default_factory=dict)
    alerts: AlertTables = field(default_factory=AlertTables)
    tallies: dict[tuple[int, int], IngestTally] = field(default_factory=dict)  # (minute, slot)


class FakeIngestTallies:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def add(self, minute_us: int, counts: IngestTally, slot: int = 0) -> None:
        before = self._t.tallies.get((minute_us, slot), IngestTally())
        self._t.tallies[(minute_us, slot)] = IngestTally(
            *(getattr(before, name) + getattr(counts, name) for name in TALLY_FIELDS)
        )

    def sums(self, since_us: int) -> IngestTally:
        rows = [t for (minute, _), t in self._t.tallies.items() if minute >= since_us]
        return IngestTally(*(sum(getattr(t, name) for t in rows) for name in TALLY_FIELDS))

    def prune(self, before_us: int, limit: int) -> int:
        """Whole minutes, oldest first, up to the minute of the ``limit``-th oldest row."""
        minutes = sorted(m for (m, _) in self._t.tallies if m < before_us)[:limit]
        if not minutes:
            return 0
        doomed = [k for k in self._t.tallies if k[0] <= minutes[-1]]
        for key in doomed:
            del self._t.tallies[key]
        return len(doomed)


class FakeEvents:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def insert_new(self, entries: Sequence[LedgerEntry]) -> set[str]:
        inserted: set[str] = set()
        for e in sorted(entries):
            key = e.idempotency_key
            if key in self._t.events:
                continue
            self._t.events[key] = StoredEvent(
                len(self._t.events) + 1,
                key,
                e.metric,
                e.customer_ref,
                e.quantity,
                e.ts_us,
                e.received_us,
                e.resource_id,
                e.meta,
                e.late,
                e.late_after_close,
                e.voided_us,
                e.backfill_id,
            )
            self._t.fingerprints[key] = e.fingerprint
            inserted.add(key)
        return inserted

    def fingerprints(self, keys: Sequence[str]) -> dict[str, str]:
        return {k: self._t.fingerprints[k] for k in keys if k in self._t.fingerprints}

    def mark_late(self, keys: Sequence[str]) -> None:
        for key in keys:
            if key in self._t.events:
                self._t.events[key] = replace(self._t.events[key], late=True)

    def get(self, key: str) -> StoredEvent | None:
        return self._t.events.get(key)

    def void(self, key: str, now_us: int) -> None:
        self.void_many([key], now_us)

    def void_many(self, keys: Sequence[str], now_us: int) -> None:
        self._flag(keys, voided_us=now_us)

    def mark_late_after_close(self, keys: Sequence[str]) -> None:
        self._flag(keys, late_after_close=True)

    def _flag(self, keys: Sequence[str], **values: Any) -> None:
        for key in keys:
            if key in self._t.events:
                self._t.events[key] = replace(self._t.events[key], **values)

    def page(self, flt: EventFilter, limit: int) -> list[StoredEvent]:
        return self._matching(flt)[:limit]

    def step_totals(
        self, metric: str, customer_ref: str, span_us: tuple[int, int], steps: StepGrid
    ) -> list[StepTotal]:
        flt = EventFilter(metric, customer_ref, *span_us, only_counting=True)
        found: dict[int, StepTotal] = {}
        for e in self._matching(flt):
            step = (e.ts_us - steps.origin_us) // steps.width_us
            was = found.get(step, StepTotal(step, 0, Decimal(0)))
            found[step] = StepTotal(step, was.events + 1, ARITHMETIC.add(was.sum, e.quantity))
        return list(found.values())

    def stream(self, flt: EventFilter, batch: int = 5000) -> Iterator[StoredEvent]:
        yield from self._matching(flt)

    def counting_rows(
        self, metric: str, customer_ref: str | None, batch: int = 10_000
    ) -> Iterator[CountingRow]:
        flt = EventFilter(metric=metric, customer_ref=customer_ref, only_counting=True)
        for e in self._matching(flt):
            yield CountingRow(
                e.seq,
                e.idempotency_key,
                e.customer_ref,
                e.quantity,
                e.ts_us,
                e.resource_id,
                e.meta,
                e.late,
            )

    def counting_spans(self, metric: str, customer_ref: str | None) -> list[CustomerSpan]:
        spans: dict[str, tuple[int, int]] = {}
        for e in self.counting_rows(metric, customer_ref):
            first, last = spans.get(e.customer_ref, (e.ts_us, e.ts_us))
            spans[e.customer_ref] = (min(first, e.ts_us), max(last, e.ts_us))
        return [(customer, first, last) for customer, (first, last) in spans.items()]

    def period_totals(
        self, metric: str, customer_ref: str | None, periods: Sequence[PeriodBounds]
    ) -> Iterator[PeriodTotals]:
        """The SQL adapter's aggregation, folded here event by event with ``CounterState``."""
        states: dict[PeriodBounds, CounterState] = {}
        late: dict[PeriodBounds, int] = {}
        for e in self.counting_rows(metric, customer_ref):
            bounds = next(p for p in periods if p[0] == e.customer_ref and p[1] <= e.ts_us < p[2])
            states.setdefault(bounds, CounterState()).apply(
                Contribution(e.quantity, e.ts_us, e.idempotency_key)
            )
            late[bounds] = late.get(bounds, 0) + int(e.late)  # the ledger's flag, as in SQL
        for (customer, start_us, end_us), s in states.items():
            s.late_count = late[(customer, start_us, end_us)]
            assert s.max is not None and s.min is not None and s.latest_value is not None
            assert s.latest_ts_us is not None and s.latest_key is not None
            assert s.watermark_us is not None
            yield PeriodTotals(
                customer, start_us, end_us, s.count, s.late_count, s.watermark_us,
                s.sum, s.max, s.min, s.latest_value, s.latest_ts_us, s.latest_key,
            )  # fmt: skip

    def _matching(self, flt: EventFilter) -> list[StoredEvent]:
        """The SQL adapter's ``_filtered``, as a list comprehension, in ledger order."""
        closed = {b.backfill_id for b in self._t.backfills.values() if b.status == "closed"}
        return sorted(
            (
                e
                for e in self._t.events.values()
                if (flt.metric is None or e.metric == flt.metric)
                and (flt.customer_ref is None or e.customer_ref == flt.customer_ref)
                and (flt.ts_from_us is None or e.ts_us >= flt.ts_from_us)
                and (flt.ts_to_us is None or e.ts_us < flt.ts_to_us)
                and (flt.after_seq is None or e.seq > flt.after_seq)
                and ((flt.include_void and not flt.only_counting) or e.voided_us is None)
                and (not flt.only_counting or e.backfill_id is None or e.backfill_id in closed)
                and (flt.backfill_id is None or e.backfill_id == flt.backfill_id)
            ),
            key=lambda e: e.seq,
        )

    def flag_backfill_range(
        self, backfill_id: str, customer_ref: str, period: Period, **values: Any
    ) -> int:
        start, end = to_micros(period.start), to_micros(period.end)
        keys = [
            e.idempotency_key
            for e in self._t.events.values()
            if e.backfill_id == backfill_id
            and e.customer_ref == customer_ref
            and start <= e.ts_us < end
            and e.voided_us is None
        ]
        self._flag(keys, **values)
        return len(keys)

    def backfill_tallies(self, backfill_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for e in self._t.events.values():
            session = e.backfill_id
            if session is not None and session in backfill_ids:
                held, void = found.get(session, (0, 0))
                found[session] = (held + 1, void + (e.voided_us is not None))
        return found


class FakeCounters:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def lock(
        self, periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        for key, end_us in periods.items():
            if key not in self._t.counters:
                self._t.counters[key] = StoredCounter(*key, end_us, CounterState())
                self._t.counters_written[key] = now_us
        return {key: copy.deepcopy(self._t.counters[key]) for key in periods}

    def lock_if_open(
        self, periods: Mapping[CounterKey, int], now_us: int, checked: Sequence[CounterKey]
    ) -> dict[CounterKey, StoredCounter] | None:
        """Not offered (the SQLite store's answer): the caller reads the closes first."""
        return None

    def save(self, changed: Iterable[StoredCounter], now_us: int) -> None:
        for counter in changed:
            if counter.key in self._t.counters:  # an UPDATE: it touches existing rows only
                self._t.counters[counter.key] = copy.deepcopy(counter)
                self._t.counters_written[counter.key] = now_us

    def add_uniques(self, values: Sequence[UniqueValue]) -> set[UniqueValue]:
        new = set(values) - self._t.uniques
        self._t.uniques |= new
        return new

    def flush(self) -> None:
        """Nothing is held back here."""

    def get(self, key: CounterKey) -> StoredCounter | None:
        found = self._t.counters.get(key)
        return copy.deepcopy(found) if found is not None else None

    def delete(self, *, metric: str, customer_ref: str | None = None) -> None:
        def doomed(m: str, c: str) -> bool:
            return m == metric and (customer_ref is None or c == customer_ref)

        self._t.counters = {k: v for k, v in self._t.counters.items() if not doomed(k[0], k[1])}
        self._t.counters_written = {
            k: v for k, v in self._t.counters_written.items() if not doomed(k[0], k[1])
        }
        self._t.uniques = {u for u in self._t.uniques if not doomed(u[0], u[1])}

    def insert_many(self, rebuilt: Iterable[StoredCounter], now_us: int) -> None:
        for counter in rebuilt:
            self._t.counters[counter.key] = copy.deepcopy(counter)
            self._t.counters_written[counter.key] = now_us

    def insert_uniques(self, values: Iterable[UniqueValue]) -> None:
        self._t.uniques |= set(values)

    def find(
        self,
        *,
        customer_ref: str | None = None,
        metric: str | None = None,
        start_from_us: int | None = None,
        start_before_us: int | None = None,
    ) -> list[StoredCounter]:
        return [
            copy.deepcopy(c)
            for _, c in sorted(self._t.counters.items())
            if (customer_ref is None or c.customer_ref == customer_ref)
            and (metric is None or c.metric == metric)
            and (start_from_us is None or c.period_end_us > start_from_us)
            and (start_before_us is None or c.period_start_us < start_before_us)
        ]


class FakeAdjustments:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def add_many(self, records: Iterable[AdjustmentRecord]) -> None:
        self._t.adjustments.extend(records)

    def get(self, adjustment_id: str) -> AdjustmentRecord | None:
        return next((a for a in self._t.adjustments if a.adjustment_id == adjustment_id), None)

    def set_status(self, adjustment_id: str, status: str) -> None:
        self._t.adjustments = [
            replace(a, status=status) if a.adjustment_id == adjustment_id else a
            for a in self._t.adjustments
        ]

    def find(
        self,
        *,
        metric: str | None = None,
        customer_ref: str | None = None,
        reverts: str | None = None,
    ) -> list[AdjustmentRecord]:
        found = [
            a
            for a in self._t.adjustments
            if (metric is None or a.metric == metric)
            and (customer_ref is None or a.customer_ref == customer_ref)
            and (reverts is None or a.reverts == reverts)
        ]
        return sorted(found, key=lambda a: (a.created_us, a.adjustment_id))


class FakePeriodCloses:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def find_many(
        self, keys: Sequence[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], PeriodClose]:
        return {k: self._t.period_closes[k] for k in keys if k in self._t.period_closes}

    def find(
        self, *, metric: str | None = None, customer_ref: str | None = None
    ) -> list[PeriodClose]:
        return [
            c
            for c in self._t.period_closes.values()
            if (metric is None or c.metric == metric)
            and (customer_ref is None or c.customer_ref == customer_ref)
        ]

    def add(self, lock: PeriodClose) -> bool:
        key = (lock.metric, lock.customer_ref, lock.period_start_us)
        if key in self._t.period_closes:
            return False
        self._t.period_closes[key] = lock
        return True


class FakeBackfills:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def add(self, record: BackfillRecord) -> None:
        self._t.backfills[record.backfill_id] = record

    def get(self, backfill_id: str, *, lock: bool = False) -> BackfillRecord | None:
        return self._t.backfills.get(backfill_id)

    def get_shared(self, backfill_ids: Sequence[str]) -> dict[str, BackfillRecord]:
        return {i: self._t.backfills[i] for i in backfill_ids if i in self._t.backfills}

    def save(self, record: BackfillRecord) -> None:
        if record.backfill_id in self._t.backfills:
            self._t.backfills[record.backfill_id] = record

    def find(
        self, *, statuses: Sequence[str] | None = None, metric: str | None = None
    ) -> list[BackfillRecord]:
        found = [
            b
            for b in self._t.backfills.values()
            if (statuses is None or b.status in statuses) and (metric is None or b.metric == metric)
        ]
        return sorted(found, key=lambda b: (b.created_us, b.backfill_id))
