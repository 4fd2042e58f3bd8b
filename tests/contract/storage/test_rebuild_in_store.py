"""The rebuild's in-store aggregation (ADR 0870) against live counters and against folding
row by row, on SQLite and PostgreSQL, where it is easiest to get wrong: timestamps that tie
(``latest`` then goes by key, compared by code point), keys that are prefixes of each other
or not ASCII, quantities with trailing zeros, late arrivals, several periods per customer,
one customer's rebuild, and metrics that must still be folded in Python (a filter)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.corrections import rebuild
from stripemeter_server.service.corrections.rebuild import rebuild_metric
from stripemeter_server.storage.ledger.period_totals import Periods, planner_settings
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import counters, ingest, make_tenant, us

NOW = datetime(2025, 3, 20, tzinfo=UTC)
METRICS: list[dict[str, Any]] = [
    {"code": "s", "aggregation": "sum"},
    {"code": "c", "aggregation": "count"},
    {"code": "mx", "aggregation": "max"},
    {"code": "mn", "aggregation": "min"},
    {"code": "l", "aggregation": "latest"},
    {"code": "a", "aggregation": "avg"},
    {"code": "w", "aggregation": "sum", "period": {"type": "week", "timezone": "Asia/Tokyo"}},
    {"code": "f", "aggregation": "latest", "filter": {"meta.r": "eu"}},
]
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE = datetime(2025, 1, 1, tzinfo=UTC)

rows = st.lists(
    st.fixed_dictionaries(
        {
            "metric": st.sampled_from([m["code"] for m in METRICS]),
            "customerRef": st.sampled_from(["cus_a", "cus_b"]),
            "quantity": st.sampled_from(["0", "1.5", "1.50", "1.500", "20", "7.25", "0.001"]),
            # few distinct instants, months apart: ties, and several periods per customer
            "ts": st.sampled_from([0, 1, 40 * 86_400, 70 * 86_400]).map(
                lambda s: (BASE + timedelta(seconds=s)).isoformat()
            ),
            "meta": st.fixed_dictionaries({"r": st.sampled_from(["eu", "us"])}),
        }
    ),
    min_size=1,
    max_size=30,
)
keys = st.lists(st.text(alphabet="abZü€", min_size=1, max_size=3), min_size=30, unique=True)


def _rebuild_all(store: Store, tenant: str, customer_ref: str | None) -> None:
    with store.unit_of_work(tenant) as uow:
        for definition in METRICS:
            metric = get_metric(uow, definition["code"])
            rebuild_metric(uow, metric, customer_ref=customer_ref, now_us=us(NOW))
        uow.commit()


def _stream(events: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    return [{**row, "idempotencyKey": key} for row, key in zip(events, names, strict=False)]


@SETTINGS
@given(events=rows, names=keys, split=st.integers(0, 30), one=st.booleans())
def test_rebuilt_in_store_equals_live(
    store: Store, events: list[dict[str, Any]], names: list[str], split: int, one: bool
) -> None:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, NOW, METRICS)
    stream = _stream(events, names)
    # two batches, the second possibly older: its events arrive late
    ingest(store, tenant, stream[split:], NOW)
    ingest(store, tenant, stream[:split], NOW)
    live = counters(store, tenant)
    _rebuild_all(store, tenant, "cus_a" if one else None)
    assert counters(store, tenant) == live


@SETTINGS
@given(events=rows, names=keys)
def test_in_store_and_row_by_row_rebuilds_agree(
    store: Store, events: list[dict[str, Any]], names: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, NOW, METRICS)
    ingest(store, tenant, _stream(events, names), NOW)
    _rebuild_all(store, tenant, None)
    in_store = counters(store, tenant)
    with monkeypatch.context() as patched:
        patched.setattr(rebuild, "_sql_foldable", lambda metric: False)
        _rebuild_all(store, tenant, None)
    assert counters(store, tenant) == in_store


def test_void_events_far_from_the_counting_ones_add_no_counter(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spans come from the ledger's index alone, void events included (ADR 0892): a
    void event before the counting ones widens the customer's periods, and those periods
    (and the months between, with no event at all) must yield nothing."""
    tenant = f"t{uuid.uuid4().hex[:10]}"
    make_tenant(store, tenant, NOW, METRICS)
    old = [
        {"metric": code, "customerRef": "cus_a", "quantity": "5", "ts": ts, "idempotencyKey": key}
        for code in ("s", "l", "w")
        for ts, key in (("2024-01-10T00:00:00Z", f"old-{code}"), ("2024-02-10T00:00:00Z", None))
    ]
    counted = [
        {"metric": code, "customerRef": customer, "quantity": q, "ts": ts}
        for code in ("s", "l", "w")
        for customer in ("cus_a", "cus_b")
        for q, ts in (("1.5", "2025-01-03T00:00:00Z"), ("2", "2025-03-01T12:00:00Z"))
    ]
    ingest(store, tenant, [{k: v for k, v in e.items() if v is not None} for e in old], NOW)
    ingest(store, tenant, counted, NOW)
    with store.unit_of_work(tenant) as uow:  # voided long ago, while their period was open
        for code in ("s", "l", "w"):
            uow.events.void(f"old-{code}", us(NOW))
        uow.commit()
    with monkeypatch.context() as patched:
        patched.setattr(rebuild, "_sql_foldable", lambda metric: False)
        _rebuild_all(store, tenant, None)
    folded = counters(store, tenant)
    _rebuild_all(store, tenant, None)
    assert counters(store, tenant) == folded
    # January 2024 holds only void events: no events counted there (a counter may exist
    # for the late-event correction its other event booked, with a count of zero)
    january = us(datetime(2024, 2, 1, tzinfo=UTC))
    assert all(state[0] == 0 for (_, _, start), (_, state) in folded.items() if start < january)
    assert any(state[0] > 0 for (_, _, start), (_, state) in folded.items() if start >= january)


def test_buckets_map_back_to_the_given_periods_only() -> None:
    """PostgreSQL groups by an event's bucket in its customer's sorted bounds: a bucket
    below, past or between a customer's periods is no period, as the join on ranges had."""
    periods = Periods([("a", 0, 10), ("a", 20, 30), ("b", 0, 10), ("b", 10, 20)])
    assert [periods.period("a", bucket) for bucket in range(5)] == [
        None, (0, 10), None, (20, 30), None,
    ]  # fmt: skip
    assert [periods.period("b", bucket) for bucket in range(4)] == [None, (0, 10), (10, 20), None]


def test_the_grouped_querys_settings_are_set_back(store: Store) -> None:
    """The grouped query's own settings (PostgreSQL's planner, SQLite's mapped file) hold
    for it alone: the rest of the transaction, and the pooled connection, see the old ones."""
    sqlite = store.dialect == "sqlite"
    probe = "PRAGMA mmap_size" if sqlite else "SHOW work_mem"
    with store.engine.begin() as conn:
        before = conn.exec_driver_sql(probe).scalar()
        with planner_settings(conn):
            inside = conn.exec_driver_sql(probe).scalar()
        after = conn.exec_driver_sql(probe).scalar()
    assert inside != before
    assert after == before
