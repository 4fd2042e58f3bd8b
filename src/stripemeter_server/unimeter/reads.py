"""The read packets: usage over a window, the live period, a breakdown, the ledger and the
fired alerts of one account, each one read-only use case."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Final

from stripemeter_server.domain.alerts import AlertKind
from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.service.alerts.events import list_events
from stripemeter_server.service.alerts.rules import list_rules
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.usage.breakdown import window_breakdown
from stripemeter_server.service.usage.ledger import events_page
from stripemeter_server.service.usage.reads import current_usage, window_state
from stripemeter_server.unimeter import mapping as um
from stripemeter_server.unimeter import replies
from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.payloads import (
    AccountMetric,
    AlertsSince,
    EventsWindow,
    RangeQuery,
)
from stripemeter_server.unimeter.replies import AggValue
from stripemeter_server.unimeter.times import instant

# A reply's entries are bounded: a client asks again from where a full answer stopped.
MAX_EVENT_RECORDS: Final = 10_000
MAX_ALERT_RECORDS: Final = 1_000


async def window(backend: Backend, query: RangeQuery) -> AggValue:
    """USAGE_QUERY: the counter when the window is one billing period, else the ledger;
    with filters, the one cell of a breakdown by the filters' keys."""
    ref, start, end = (
        um.customer_ref(query.account_id),
        instant(query.start_ns),
        instant(query.end_ns),
    )
    if query.filters:
        if any(len(f.values) != 1 for f in query.filters):
            raise um.MappingError("a query filter has one value")
        wanted = tuple((f.key, f.values[0]) for f in query.filters)
        keys = [f.key for f in query.filters]
        (metric, cells), rules = await backend.run(
            lambda uow: (
                window_breakdown(uow, ref, query.metric, start, end, keys),
                thresholds(uow),
            ),
            read_only=True,
        )
        state = next((c.state for c in cells if c.dims == wanted), CounterState())
        return um.aggregate(metric, state, rules)
    (metric, state, _), rules = await backend.run(
        lambda uow: (window_state(uow, ref, query.metric, start, end), thresholds(uow)),
        read_only=True,
    )
    return um.aggregate(metric, state, rules)


async def realtime(backend: Backend, asked: AccountMetric) -> AggValue:
    """USAGE_REALTIME: the account's open period of the metric, as of now."""
    ref, now = um.customer_ref(asked.account_id), backend.now()
    usage, rules = await backend.run(
        lambda uow: (current_usage(uow, ref, now, asked.metric), thresholds(uow)), read_only=True
    )
    return um.aggregate(usage[0].metric, usage[0].state, rules)


async def breakdown(
    backend: Backend, query: RangeQuery
) -> list[tuple[tuple[tuple[str, str], ...], AggValue]]:
    ref = um.customer_ref(query.account_id)
    start, end = instant(query.start_ns), instant(query.end_ns)
    (metric, cells), rules = await backend.run(
        lambda uow: (
            window_breakdown(uow, ref, query.metric, start, end, list(query.group_by)),
            thresholds(uow),
        ),
        read_only=True,
    )
    return [(c.dims, um.aggregate(metric, c.state, rules)) for c in cells if c.state.count]


def thresholds(uow: UnitOfWork) -> list[tuple[str | None, Decimal]]:
    """Every quantity rule's name and threshold (the aggregate flags are read from them)."""
    return [
        (v.rule.name, v.rule.threshold)
        for v in list_rules(uow)
        if v.rule.kind is AlertKind.QUANTITY
    ]


async def events(backend: Backend, asked: EventsWindow) -> bytes:
    """EVENTS_LIST: the account's counting events in [since, until), oldest first."""
    where = EventFilter(
        customer_ref=um.customer_ref(asked.account_id),
        ts_from_us=asked.since_ns // 1000,
        ts_to_us=asked.until_ns // 1000,
        only_counting=True,
    )
    page = await backend.run(lambda uow: events_page(uow, where, MAX_EVENT_RECORDS), read_only=True)
    return replies.event_records(
        [
            (e.seq, e.ts_us * 1000, asked.account_id, e.metric, replies.whole(e.quantity), 0)
            for e in page
        ]
    )


async def alerts(backend: Backend, asked: AlertsSince) -> list[bytes]:
    """ALERTS_LIST: the account's fired alerts from ``since_offset`` (our per-tenant alert
    sequence) on."""
    ref = um.customer_ref(asked.account_id)
    after = max(0, min(asked.since_offset, 2**63) - 1)
    found = await backend.run(
        lambda uow: list_events(uow, after_seq=after, limit=MAX_ALERT_RECORDS, customer_ref=ref),
        read_only=True,
    )
    return [
        alert_record(e.seq, asked.account_id, e.metric or "", e.payload, e.created_us)
        for e in found
    ]


def alert_record(seq: int, account: int, metric: str, payload: str, created_us: int) -> bytes:
    """One fired alert as Unimeter's record: the threshold's code, the value that crossed."""
    body = json.loads(payload)
    code = um.threshold_code(body.get("ruleName"), metric, str(body.get("ruleId", "")))
    value = replies.whole(Decimal(str(body.get("value", "0"))))
    return replies.alert_record(seq, account, metric, code, value, created_us * 1000)
