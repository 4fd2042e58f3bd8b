"""The ingest pipeline's stages before counting. Each takes the events still in play and
returns those that go on plus its verdicts on the others; none mutates what it was given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, Self

from stripemeter_server.domain.errors import EventRejected, RetryableConflict
from stripemeter_server.domain.event_batches import accept_plain_batch
from stripemeter_server.domain.events import EventLimits, ValidEvent, echoable_key, validate_fully
from stripemeter_server.domain.ledger import LedgerEntry
from stripemeter_server.domain.metric_codes import is_valid_code, unknown_metric_message
from stripemeter_server.domain.metrics import Aggregation, Metric, MetricValueError
from stripemeter_server.domain.periods import Period, PeriodSpec, period_containing
from stripemeter_server.domain.timestamps import EPOCH, to_micros
from stripemeter_server.service.catalog.definitions import (
    current_open_period,
    customers_for,
    encode_metric,
    is_closed,
    load_metrics,
    spec_for,
)
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.ingest.outcome import (
    CONFLICT_VERDICT,
    DUPLICATE_VERDICT,
    Verdict,
    rejected,
)
from stripemeter_server.service.ingest.ports import IngestUnitOfWork
from stripemeter_server.service.ports.counters import CounterKey

Verdicts = dict[int, Verdict]
_MICROSECOND = timedelta(microseconds=1)


class Candidate(NamedTuple):
    """A valid event with what it counts towards: its metric, period and measured value
    (a tuple: built per event, immutable)."""

    position: int  # in the group's events
    event: ValidEvent
    ts_us: int
    metric: Metric
    period: Period
    counter_key: CounterKey
    counts: bool
    value: Decimal
    unique: str | None
    held: bool = False  # in an open backfill session: stored, counted when it closes
    late_target: Period | None = None  # its period is closed: the effect goes here

    def held_back(self) -> Self:
        return self._replace(counts=False, held=True)


@dataclass(frozen=True, slots=True)
class Parsed:
    valid: list[tuple[int, ValidEvent]]
    keys: list[str | None]  # every event's key, to echo in its result
    verdicts: Verdicts


def parse(
    raw_events: Sequence[Any],
    tenant_id: str,
    received_at: Sequence[datetime],
    limits: EventLimits,
) -> Parsed:
    valid: list[tuple[int, ValidEvent]] = []
    keys: list[str | None] = []
    verdicts: Verdicts = {}
    plain = accept_plain_batch(raw_events, tenant_id, received_at, limits)
    for index, raw in enumerate(raw_events):
        event = plain[index]
        if event is not None:
            keys.append(event.idempotency_key)
            valid.append((index, event))
            continue
        try:
            event = validate_fully(
                raw, tenant_id=tenant_id, received_at=received_at[index], limits=limits
            )
        except EventRejected as error:
            verdicts[index] = rejected(error)
            keys.append(echoable_key(raw))
            continue
        keys.append(event.idempotency_key)
        valid.append((index, event))
    return Parsed(valid, keys, verdicts)


@dataclass(frozen=True, slots=True)
class Resolved:
    candidates: list[Candidate]
    customers: Mapping[str, CustomerRecord]
    verdicts: Verdicts


def resolve(uow: IngestUnitOfWork, valid: list[tuple[int, ValidEvent]], now: datetime) -> Resolved:
    """Each event's metric, measured value and billing period."""
    metrics = _metrics(uow, {e.metric for _, e in valid}, now)
    customers = customers_for(uow, [e.customer_ref for _, e in valid])
    periods = _PeriodFinder()
    new = tuple.__new__
    candidates: list[Candidate] = []
    verdicts: Verdicts = {}
    plain = {code: _measures_quantity(metric) for code, metric in metrics.items()}
    # The period of the event before: most events of a batch fall in the same one (ADR 0968).
    last: tuple[PeriodSpec | None, int, int, Period | None] = (None, 0, 0, None)
    for index, event in valid:
        code = event.metric
        metric = metrics.get(code)
        if metric is None:
            verdicts[index] = rejected(_unknown_metric(code, metrics))
            continue
        if plain[code]:  # no filter, the quantity is the value, no distinct key
            counts, value, unique = True, event.quantity, None
        else:
            measured = _measure(metric, event)
            if isinstance(measured, EventRejected):
                verdicts[index] = rejected(measured)
                continue
            counts, value, unique = measured
        ts = event.ts
        ts_us = (ts - EPOCH) // _MICROSECOND if ts.tzinfo is UTC else to_micros(ts)
        customer = customers.get(event.customer_ref) if customers else None
        spec = metric.period if customer is None else spec_for(metric, customer)
        last_spec, start_us, end_us, period = last
        if spec is not last_spec or not start_us <= ts_us < end_us or period is None:
            start_us, end_us, period = periods.containing(spec, ts, ts_us)
            last = (spec, start_us, end_us, period)
        key = (code, event.customer_ref, start_us)
        candidates.append(  # ``tuple.__new__``: no Python-level ``__new__`` (ADR 0976)
            new(
                Candidate,
                (index, event, ts_us, metric, period, key, counts, value, unique, False, None),
            )
        )
    return Resolved(candidates, customers, verdicts)


def _measures_quantity(metric: Metric) -> bool:
    """Every event counts with its quantity as its value and no distinct key: what
    ``matches`` and ``measure`` answer for a metric without a filter or a meta value."""
    aggregation = metric.aggregation
    return (
        not metric.filter
        and aggregation is not Aggregation.UNIQUE_COUNT
        and (aggregation is Aggregation.COUNT or metric.value_property == "quantity")
    )


def _measure(metric: Metric, event: ValidEvent) -> tuple[bool, Decimal, str | None] | EventRejected:
    """Whether the event counts, its value and distinct key, or why it has none."""
    counts = metric.matches(event.resource_id, event.meta)
    try:
        value, unique = metric.measure(
            event.quantity, event.resource_id, event.meta, counted=counts
        )
    except MetricValueError as exc:
        return EventRejected(str(exc), code="invalid_value", field=metric.value_property)
    return counts, value, unique


class _PeriodFinder:
    """Periods by spec: most events of a batch fall in a period already computed."""

    def __init__(self) -> None:
        self._known: dict[PeriodSpec, list[tuple[int, int, Period]]] = {}
        # The spec asked last and its periods: most events of a group share one (the metric's,
        # the same object), and hashing a spec cost more than the rest of the lookup.
        self._last: tuple[PeriodSpec | None, list[tuple[int, int, Period]]] = (None, [])

    def containing(self, spec: PeriodSpec, ts: datetime, ts_us: int) -> tuple[int, int, Period]:
        """The period with its start and end in microseconds."""
        last, known = self._last
        if spec is not last:
            known = self._known.setdefault(spec, [])
            self._last = (spec, known)
        for start_us, end_us, period in known:
            if start_us <= ts_us < end_us:
                return start_us, end_us, period
        period = period_containing(spec, ts)
        found = (to_micros(period.start), to_micros(period.end), period)
        known.append(found)
        return found


def _metrics(uow: IngestUnitOfWork, codes: set[str], now: datetime) -> dict[str, Metric]:
    metrics = load_metrics(uow)
    missing = codes - metrics.keys()
    if not missing:
        return metrics
    tenant = uow.tenants.get(uow.tenant_id)
    if tenant is None or not tenant.auto_create_metrics:
        return metrics
    for code in sorted(c for c in missing if is_valid_code(c)):  # new codes: the alphabet
        metric = Metric(code=code)
        if uow.metrics.add(code, encode_metric(metric), to_micros(now)):
            metrics[code] = metric
    return load_metrics(uow) if missing - metrics.keys() else metrics


def _unknown_metric(name: str, metrics: Mapping[str, Metric]) -> EventRejected:
    """No such metric: the nearest codes named (a typo is refused, never a new metric), or
    why auto-creation could not make it."""
    if is_valid_code(name):
        return EventRejected(
            unknown_metric_message(name, metrics), code="unknown_metric", field="metric"
        )
    return EventRejected(
        f"metric {name!r} is not defined, and a new metric code must be a "
        "letter, then up to 127 letters, digits, '_', '.', ':' or '-'",
        code="unknown_metric",
        field="metric",
    )


def dedupe_in_batch(candidates: list[Candidate]) -> tuple[list[Candidate], Verdicts]:
    """The first event of each key goes on; a later one is a duplicate or a conflict."""
    first: dict[str, Candidate] = {}
    verdicts = {}
    for item in candidates:
        seen = first.setdefault(item.event.idempotency_key, item)
        if seen is not item:
            same = seen.event.fingerprint == item.event.fingerprint
            verdicts[item.position] = DUPLICATE_VERDICT if same else CONFLICT_VERDICT
    return list(first.values()), verdicts


def ledger_keys(valid: list[tuple[int, ValidEvent]]) -> list[str]:
    """The distinct keys whose stored fingerprints the ledger check asks for."""
    return list({event.idempotency_key for _, event in valid})


def dedupe_against_ledger(
    uow: IngestUnitOfWork,
    valid: list[tuple[int, ValidEvent]],
    stored: Mapping[str, str] | None = None,
) -> tuple[list[tuple[int, ValidEvent]], Verdicts]:
    """Keys already in the ledger: a duplicate when the payload matches, else a conflict.

    Runs before anything else reads the database, so a replay costs one query; ``stored``
    when the caller read the fingerprints of (at least) these keys already, in this
    transaction (the group committer's first round trip, ADR 0969)."""
    if stored is None:
        stored = uow.events.fingerprints(ledger_keys(valid))
    if not stored:
        return valid, {}
    new, verdicts = [], {}
    for index, event in valid:
        fingerprint = stored.get(event.idempotency_key)
        if fingerprint is None:
            new.append((index, event))
        else:
            verdicts[index] = _against(fingerprint, event)
    return new, verdicts


def _against(stored_fingerprint: str, event: ValidEvent) -> Verdict:
    return DUPLICATE_VERDICT if stored_fingerprint == event.fingerprint else CONFLICT_VERDICT


def apply_close_policy(
    uow: IngestUnitOfWork,
    fresh: list[Candidate],
    customers: Mapping[str, CustomerRecord],
    now: datetime,
) -> tuple[list[Candidate], Verdicts]:
    """Events of closed periods: rejected, or kept with the open period their effect goes to."""
    closes = uow.period_closes.find_many(list({p.counter_key for p in fresh}))
    kept, verdicts = [], {}
    # Whether the clock closed the period of the event before: most events of a group share
    # its metric and period (the same objects, from ``resolve``), so it is asked once (ADR 0976).
    last: tuple[Metric | None, Period | None, bool] = (None, None, False)
    for item in fresh:
        if item.held:
            kept.append(item)
            continue
        lock = closes.get(item.counter_key) if closes else None
        if lock is None:
            metric, period = item.metric, item.period
            if metric is not last[0] or period is not last[1]:
                last = (metric, period, is_closed(metric, period, None, now))
            closed = last[2]
        else:  # rare: asked with its lock, so the rule stays ``is_closed``'s alone
            closed = is_closed(item.metric, item.period, lock, now)
        if not closed:
            kept.append(item)
        elif item.metric.late_policy.value == "reject":
            verdicts[item.position] = rejected(
                EventRejected(
                    "the event's billing period is closed and the metric's latePolicy is reject",
                    code="period_closed",
                    field="ts",
                )
            )
        else:
            spec = spec_for(item.metric, customers.get(item.event.customer_ref))
            target = current_open_period(uow, item.metric, spec, item.event.customer_ref, now)
            kept.append(item._replace(late_target=target))
    return kept, verdicts


def record(
    uow: IngestUnitOfWork,
    fresh: list[Candidate],
    received_us: Sequence[int],
    request_ids: Sequence[str],
    late: AbstractSet[int],
) -> None:
    """Append the new events to the ledger, each with its late flag (counting ran first).

    A key a concurrent request stored after the ledger check (PostgreSQL only: SQLite's
    transaction holds the write lock from the check on) leaves the events counted that are
    not stored: the transaction is run again from the start, where the ledger check finds
    the key and answers duplicate or conflict, as if it had been there all along."""
    entry, new = LedgerEntry, tuple.__new__
    entries: list[LedgerEntry] = [
        new(  # ``tuple.__new__``: no Python-level ``__new__`` per row (ADR 0976)
            entry,
            (
                key,
                metric,
                customer_ref,
                quantity,
                ts_us,
                received_us[position],
                resource_id,
                meta_json,
                fingerprint,
                position in late,
                late_target is not None,
                None,
                request_ids[position],
                backfill_id,
            ),
        )
        # Unpacked, not read field by field: this runs once per stored event (ADR 0968).
        for position, event, ts_us, _, _, _, _, _, _, _, late_target in fresh  # no list per row
        for metric, customer_ref, quantity, _, resource_id, _, meta_json, key, fingerprint, (
            backfill_id
        ) in (event,)
    ]
    if len(uow.events.insert_new(entries)) != len(entries):
        raise RetryableConflict("an idempotency key was stored by a concurrent request")
