"""``GET /v1/usage/history`` reads its metric and the customer's record in one statement
with the key stamp (ADR 0967), then the ledger: the points computed from that equal
``usage_history``'s (the metric and the customer read one by one), on SQLite and
PostgreSQL — hourly, daily and monthly steps, metrics in several time zones (a clock
change in the range: the folded path), a customer's own time zone, a filtered metric, a
``groupBy``, an unknown metric and bad parameters (the same errors, in the same order)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.usage.current import history_from
from stripemeter_server.service.usage.reads import HistoryPoint, usage_history
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import ingest, make_tenant

BASE = datetime(2025, 3, 1, tzinfo=UTC)
METRICS: list[dict[str, Any]] = [
    {"code": "m", "aggregation": "sum"},
    {"code": "c", "aggregation": "count", "period": {"type": "month", "timezone": "Europe/Berlin"}},
    {"code": "x", "aggregation": "max", "period": {"type": "month", "timezone": "Asia/Tokyo"}},
    {"code": "f", "aggregation": "sum", "filter": {"meta.kind": "a"}},
]
CODES = [m["code"] for m in METRICS]
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOUR = 3600

rows = st.lists(
    st.fixed_dictionaries(
        {
            "metric": st.sampled_from(CODES),
            "customerRef": st.sampled_from(["cus_a", "cus_b"]),
            "quantity": st.sampled_from(["1", "2.50", "0.001", "40"]),
            "meta": st.sampled_from([{"kind": "a"}, {"kind": "b"}, {}]),
            "ts": st.integers(0, 60 * 24 * HOUR).map(
                lambda s: (BASE + timedelta(seconds=s)).isoformat()
            ),
        }
    ),
    max_size=25,
)
spans = st.tuples(st.integers(-2 * 24 * HOUR, 50 * 24 * HOUR), st.integers(HOUR, 40 * 24 * HOUR))
steps = st.sampled_from(["hour", "day", "month"])


def _plain(points: list[HistoryPoint]) -> list[tuple[Any, ...]]:
    return [(p.start, p.end, p.group, str(p.value), p.count) for p in points]


def _answer(store: Store, tenant: str, query: tuple[Any, ...], one: bool) -> Any:
    """The points, or the error's code, message and field."""
    metric, start, end, step, group_by = query
    try:
        with store.unit_of_work(tenant, read_only=True, shared_snapshot=False) as uow:
            if not one:
                return _plain(usage_history(uow, "cus_a", metric, start, end, step, group_by))
            inputs = uow.current_reads.history_inputs("cus_a", metric)
            window = (start, end)
            return _plain(history_from(uow, inputs, "cus_a", metric, window, step, group_by))
    except StripemeterError as error:
        return (type(error).__name__, error.code, error.message, error.field)


def _setup(store: Store, events: list[dict[str, Any]], zone: bool) -> str:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, BASE - timedelta(days=30), METRICS)
    if zone:  # the customer's own time zone: its buckets are that zone's
        with store.unit_of_work(tenant) as uow:
            uow.customers.upsert(CustomerRecord("cus_a", None, None, "America/New_York", 0, 0))
            uow.commit()
    for i, event in enumerate(events):  # each on time
        ts = datetime.fromisoformat(event["ts"])
        ingest(store, tenant, [{**event, "idempotencyKey": f"k{i}"}], ts + timedelta(seconds=1))
    return tenant


@SETTINGS
@given(events=rows, span=spans, step=steps, zone=st.booleans())
def test_the_two_statement_points_equal_usage_historys(
    store: Store, events: list[dict[str, Any]], span: Any, step: str, zone: bool
) -> None:
    tenant = _setup(store, events, zone)
    start = BASE + timedelta(seconds=span[0])
    end = start + timedelta(seconds=span[1])
    if step == "hour":
        end = min(end, start + timedelta(days=10))  # within the points' limit
    for code in CODES:
        for group_by in (None, "meta.kind"):
            query = (code, start, end, step, group_by)
            expected = _answer(store, tenant, query, one=False)
            assert _answer(store, tenant, query, one=True) == expected


@pytest.mark.parametrize(
    "query",
    [
        ("nope", BASE, BASE + timedelta(days=3), "day", None),
        ("nope", BASE, BASE + timedelta(days=3), "week", None),
        ("m", BASE, BASE + timedelta(days=3), "day", "kind"),
        ("m", BASE, BASE, "day", None),
        ("m", BASE, BASE + timedelta(days=400), "hour", None),
    ],
)
def test_errors_are_the_same_in_the_same_order(store: Store, query: tuple[Any, ...]) -> None:
    tenant = _setup(store, [], zone=False)
    expected = _answer(store, tenant, query, one=False)
    assert isinstance(expected, tuple)  # an error, not points
    assert _answer(store, tenant, query, one=True) == expected
