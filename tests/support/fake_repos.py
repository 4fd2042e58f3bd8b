"""In-memory repositories with the SQL adapters' semantics, for the ingest pipeline's ports.

Each mirrors its SQL counterpart in ``storage/``: ``insert_new`` keeps the first row of a
key and returns only the keys it inserted; ``add_uniques`` returns only the values that were
new; ``lock`` creates the missing counters (with the given period end) and hands out copies
that the caller changes and ``save``s back; ``fire`` stores an alert once per (rule,
customer, period). They hold one tenant's slice of a ``FakeStore``'s data (``fake_store.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.service.alerts.ports import AlertEventRecord, AlertRuleRecord
from stripemeter_server.service.corrections.ports.adjustments import AdjustmentRecord, PeriodClose
from stripemeter_server.service.corrections.ports.backfills import BackfillRecord
from stripemeter_server.service.ingest.ports import TALLY_FIELDS, IngestTally
from stripemeter_server.service.ports.counters import CounterKey, StoredCounter
from stripemeter_server.service.ports.events import StoredEvent

UniqueValue = tuple[str, str, int, str]  # (metric, customer_ref, period_start_us, value)


@dataclass
class AlertTables:
    rules: dict[str, AlertRuleRecord] = field(default_factory=dict)
    events: list[AlertEventRecord] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LedgerTables:
    """One tenant's ledger-side rows, as the tables would hold them."""

    events: dict[str, StoredEvent] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    counters: dict[CounterKey, StoredCounter] = field(default_factory=dict)
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
        self._t.tallies[(minute_us, slot)] = IngestTally(*(
            getattr(before, name) + getattr(counts, name) for name in TALLY_FIELDS))

    def sums(self, since_us: int) -> IngestTally:
        rows = [t for (minute, _), t in self._t.tallies.items() if minute >= since_us]
        return IngestTally(*(sum(getattr(t, name) for t in rows) for name in TALLY_FIELDS))


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
                len(self._t.events) + 1, key, e.metric, e.customer_ref, e.quantity, e.ts_us,
                e.received_us, e.resource_id, e.meta, e.late, e.late_after_close, e.voided_us,
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


class FakeCounters:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def lock(
        self, periods: Mapping[CounterKey, int], now_us: int
    ) -> dict[CounterKey, StoredCounter]:
        for key, end_us in periods.items():
            if key not in self._t.counters:
                self._t.counters[key] = StoredCounter(*key, end_us, CounterState())
        return {key: copy.deepcopy(self._t.counters[key]) for key in periods}

    def save(self, changed: Iterable[StoredCounter], now_us: int) -> None:
        for counter in changed:
            if counter.key in self._t.counters:  # an UPDATE: it touches existing rows only
                self._t.counters[counter.key] = copy.deepcopy(counter)

    def add_uniques(self, values: Sequence[UniqueValue]) -> set[UniqueValue]:
        new = set(values) - self._t.uniques
        self._t.uniques |= new
        return new

    def get(self, key: CounterKey) -> StoredCounter | None:
        found = self._t.counters.get(key)
        return copy.deepcopy(found) if found is not None else None

    def find(self, *, customer_ref: str | None = None, metric: str | None = None,
             start_from_us: int | None = None,
             start_before_us: int | None = None) -> list[StoredCounter]:
        return [
            copy.deepcopy(c) for _, c in sorted(self._t.counters.items())
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
        self._t.adjustments = [replace(a, status=status) if a.adjustment_id == adjustment_id
                               else a for a in self._t.adjustments]

    def find(self, *, metric: str | None = None, customer_ref: str | None = None,
             reverts: str | None = None) -> list[AdjustmentRecord]:
        found = [a for a in self._t.adjustments
                 if (metric is None or a.metric == metric)
                 and (customer_ref is None or a.customer_ref == customer_ref)
                 and (reverts is None or a.reverts == reverts)]
        return sorted(found, key=lambda a: (a.created_us, a.adjustment_id))


class FakePeriodCloses:
    def __init__(self, tables: LedgerTables) -> None:
        self._t = tables

    def find_many(
        self, keys: Sequence[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], PeriodClose]:
        return {k: self._t.period_closes[k] for k in keys if k in self._t.period_closes}

    def find(self, *, metric: str | None = None,
             customer_ref: str | None = None) -> list[PeriodClose]:
        return [c for c in self._t.period_closes.values()
                if (metric is None or c.metric == metric)
                and (customer_ref is None or c.customer_ref == customer_ref)]

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

    def find(self, *, statuses: Sequence[str] | None = None,
             metric: str | None = None) -> list[BackfillRecord]:
        found = [b for b in self._t.backfills.values()
                 if (statuses is None or b.status in statuses)
                 and (metric is None or b.metric == metric)]
        return sorted(found, key=lambda b: (b.created_us, b.backfill_id))


class FakeAlerts:
    """The firing side of alerts (``AlertFiring``), plus ``add_rule`` to set tests up."""

    def __init__(self, tables: AlertTables) -> None:
        self._t = tables

    def add_rule(self, rule: AlertRuleRecord) -> None:
        self._t.rules[rule.rule_id] = rule

    def rules(self) -> list[AlertRuleRecord]:
        return sorted(self._t.rules.values(), key=lambda r: (r.created_us, r.rule_id))

    def lock_customers(self, customer_refs: list[str]) -> None:
        """Nothing to serialise: the fake has one writer."""

    def has_fired(self, rule_id: str, customer_ref: str, period_start_us: int | None) -> bool:
        return any(e.rule_id == rule_id and e.customer_ref == customer_ref
                   and period_start_us in (None, e.period_start_us) for e in self._t.events)

    def fire(self, *, event_id: str, rule_id: str, customer_ref: str, metric: str | None,
             period_start_us: int, period_end_us: int, payload: str,
             now_us: int) -> AlertEventRecord | None:
        if self.has_fired(rule_id, customer_ref, period_start_us):
            return None  # the unique key; the sequence number is not spent
        event = AlertEventRecord(len(self._t.events) + 1, event_id, rule_id, customer_ref,
                                 metric, period_start_us, period_end_us, payload, now_us)
        self._t.events.append(event)
        return event

    def enqueue(self, *, delivery_id: str, event_seq: int, rule_id: str, url: str,
                now_us: int) -> None:
        self._t.outbox.append({"delivery_id": delivery_id, "event_seq": event_seq,
                               "rule_id": rule_id, "url": url, "created_us": now_us})
