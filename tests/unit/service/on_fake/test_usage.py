"""Usage reads (current period, windows, history, breakdown) on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.service.corrections.adjustments import void_event
from stripemeter_server.service.usage.breakdown import window_breakdown
from stripemeter_server.service.usage.reads import current_usage, query_window, usage_history
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW, TENANT, event, ingest

MARCH = datetime(2025, 3, 1, tzinfo=UTC)
APRIL = datetime(2025, 4, 1, tzinfo=UTC)


def test_current_usage_lists_every_metric_of_the_period(store: FakeStore) -> None:
    ingest(store, event(quantity="5"), event(quantity="2", metric="peak"))
    with store.unit_of_work(TENANT) as uow:
        usage = current_usage(uow, "cus_a", NOW)
    assert [(u.metric.code, u.value, u.status) for u in usage] == [
        ("calls", Decimal("5"), "open"),
        ("peak", Decimal("2"), "open"),
    ]


def test_a_customer_without_events_reads_zero_and_null(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        usage = current_usage(uow, "cus_new", NOW)
    assert [u.value for u in usage] == [Decimal("0"), None]


def test_a_window_sums_only_its_events(store: FakeStore) -> None:
    ingest(
        store,
        event(quantity="5", ts="2025-03-02T00:00:00Z"),
        event(quantity="7", ts="2025-03-15T00:00:00Z"),
    )
    with store.unit_of_work(TENANT) as uow:
        early = query_window(uow, "cus_a", "calls", MARCH, datetime(2025, 3, 10, tzinfo=UTC))
    assert early.value == Decimal("5")


def test_history_has_a_point_per_day_with_events(store: FakeStore) -> None:
    ingest(
        store,
        event(quantity="5", ts="2025-03-02T10:00:00Z"),
        event(quantity="1", ts="2025-03-02T11:00:00Z"),
        event(quantity="7", ts="2025-03-04T00:00:00Z"),
    )
    with store.unit_of_work(TENANT) as uow:
        points = usage_history(
            uow, "cus_a", "calls", MARCH, datetime(2025, 3, 5, tzinfo=UTC), "day", None
        )
    assert [p.value for p in points if p.value] == [Decimal("6"), Decimal("7")]


def test_history_refuses_an_unknown_step(store: FakeStore) -> None:
    with store.unit_of_work(TENANT) as uow, pytest.raises(ValidationError) as refused:
        usage_history(uow, "cus_a", "calls", MARCH, APRIL, "week", None)
    assert refused.value.field == "step"


def test_a_void_event_leaves_the_breakdown(store: FakeStore) -> None:
    ingest(
        store,
        event(quantity="5", idempotencyKey="a", meta={"region": "eu"}),
        event(quantity="2", idempotencyKey="b", meta={"region": "us"}),
    )
    with store.unit_of_work(TENANT) as uow:
        void_event(uow, "a", NOW)
        uow.commit()
    with store.unit_of_work(TENANT) as uow:
        _, cells = window_breakdown(uow, "cus_a", "calls", MARCH, APRIL, ["region"])
    assert [(c.dims, c.state.sum) for c in cells] == [((("region", "us"),), Decimal("2"))]
