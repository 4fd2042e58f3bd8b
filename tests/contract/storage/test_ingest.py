"""Ingest semantics, run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import ingest, make_tenant

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)
METRICS = [
    {"code": "calls", "aggregation": "sum"},
    {"code": "hits", "aggregation": "count"},
    {"code": "users", "aggregation": "unique_count", "uniqueProperty": "meta.user"},
    {"code": "peak", "aggregation": "max"},
    {"code": "last", "aggregation": "latest"},
    {"code": "strict", "aggregation": "sum", "latePolicy": "reject", "latenessWindow": "PT1H"},
]


def event(
    metric: str = "calls",
    customer: str = "cus_1",
    quantity: str = "1",
    ts: str = "2025-01-10T00:00:00Z",
    **extra: object,
) -> dict[str, object]:
    return {"metric": metric, "customerRef": customer, "quantity": quantity, "ts": ts, **extra}


def value_of(store: Store, metric: str, now: datetime, customer: str = "cus_1") -> Decimal | None:
    with store.unit_of_work("acme", read_only=True) as uow:
        found = current_usage(uow, customer, now, metric)
    return found[0].value


def test_accepted_events_are_counted_in_the_same_transaction(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    outcome = ingest(
        store,
        "acme",
        [event(quantity="1.5"), event(quantity="2.25", ts="2025-01-11T00:00:00Z")],
        clock.now(),
    )
    assert [r.status for r in outcome.results] == ["accepted", "accepted"]
    assert value_of(store, "calls", clock.now()) == Decimal("3.75")


def test_a_repeat_with_the_same_payload_is_a_duplicate_and_counted_once(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [event(quantity="5")], clock.now())
    again = ingest(store, "acme", [event(quantity="5.0")], clock.now())
    assert again.results[0].status == "duplicate"
    assert value_of(store, "calls", clock.now()) == Decimal("5")


def test_a_reused_key_with_another_payload_is_a_conflict(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [event(quantity="5", idempotencyKey="k1")], clock.now())
    again = ingest(store, "acme", [event(quantity="6", idempotencyKey="k1")], clock.now())
    assert (again.results[0].status, again.results[0].error_code) == (
        "conflict",
        "idempotency_conflict",
    )
    assert value_of(store, "calls", clock.now()) == Decimal("5")


def test_duplicates_inside_one_batch_count_once(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    outcome = ingest(
        store,
        "acme",
        [
            event(idempotencyKey="k"),
            event(idempotencyKey="k"),
            event(idempotencyKey="k", quantity="2"),
        ],
        clock.now(),
    )
    assert [r.status for r in outcome.results] == ["accepted", "duplicate", "conflict"]
    assert value_of(store, "calls", clock.now()) == Decimal("1")


def test_dedupe_is_per_tenant(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    make_tenant(store, "other", clock.now(), METRICS)
    ingest(store, "acme", [event(idempotencyKey="same")], clock.now())
    outcome = ingest(store, "other", [event(idempotencyKey="same")], clock.now())
    assert outcome.results[0].status == "accepted"


def test_a_bad_event_is_rejected_alone(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    outcome = ingest(
        store, "acme", [event(quantity="NaN"), event(metric="nope"), event()], clock.now()
    )
    assert [(r.status, r.error_code) for r in outcome.results] == [
        ("rejected", "invalid_quantity"),
        ("rejected", "unknown_metric"),
        ("accepted", None),
    ]


def test_unknown_metrics_are_created_when_the_tenant_allows_it(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), auto_create=True)
    outcome = ingest(store, "acme", [event(metric="fresh", quantity="3")], clock.now())
    assert outcome.results[0].status == "accepted"
    assert value_of(store, "fresh", clock.now()) == Decimal("3")


def test_unique_count_is_exact_across_batches(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(
        store,
        "acme",
        [
            event("users", meta={"user": u}, idempotencyKey=f"a{i}")
            for i, u in enumerate(["x", "y", "x"])
        ],
        clock.now(),
    )
    ingest(
        store,
        "acme",
        [
            event("users", meta={"user": u}, idempotencyKey=f"b{i}")
            for i, u in enumerate(["y", "z"])
        ],
        clock.now(),
    )
    assert value_of(store, "users", clock.now()) == Decimal(3)


def test_latest_breaks_timestamp_ties_by_the_greatest_key(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(
        store,
        "acme",
        [
            event("last", quantity="7", idempotencyKey="b"),
            event("last", quantity="9", idempotencyKey="a"),
        ],
        clock.now(),
    )
    assert value_of(store, "last", clock.now()) == Decimal("7")


def test_an_event_older_than_the_watermark_is_marked_late(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [event(ts="2025-01-12T00:00:00Z")], clock.now())
    outcome = ingest(store, "acme", [event(ts="2025-01-11T00:00:00Z")], clock.now())
    assert outcome.results[0].late is True
    assert value_of(store, "calls", clock.now()) == Decimal(2)


def test_late_event_after_close_is_booked_on_the_open_period(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(
        store,
        "acme",
        [event(quantity="10", ts="2025-01-20T00:00:00Z")],
        datetime(2025, 1, 21, tzinfo=UTC),
    )
    clock.set(FEB + timedelta(days=3))  # January closed at Feb 1 + 48 h
    outcome = ingest(store, "acme", [event(quantity="4", ts="2025-01-30T00:00:00Z")], clock.now())
    assert outcome.results[0].late_after_close is True
    with store.unit_of_work("acme", read_only=True) as uow:
        adjustments = uow.adjustments.find(metric="calls")
    assert [(a.reason, a.delta) for a in adjustments] == [("late_event", Decimal(4))]
    assert value_of(store, "calls", clock.now()) == Decimal(4)  # February carries it
    assert value_of(store, "calls", datetime(2025, 1, 31, tzinfo=UTC)) == Decimal(10)  # frozen


def test_late_event_after_close_is_rejected_under_reject_policy(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    clock.set(FEB + timedelta(hours=2))
    outcome = ingest(store, "acme", [event("strict", ts="2025-01-30T00:00:00Z")], clock.now())
    assert (outcome.results[0].status, outcome.results[0].error_code) == (
        "rejected",
        "period_closed",
    )
    with store.unit_of_work("acme", read_only=True) as uow:
        assert uow.events.get(outcome.results[0].idempotency_key or "") is None


def test_an_event_inside_the_lateness_window_counts_in_its_own_period(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    clock.set(FEB + timedelta(hours=47))
    outcome = ingest(store, "acme", [event(quantity="2", ts="2025-01-31T23:00:00Z")], clock.now())
    assert outcome.results[0].late_after_close is False
    assert value_of(store, "calls", datetime(2025, 1, 31, tzinfo=UTC)) == Decimal(2)


def test_a_customer_anchor_overrides_the_metric_anchor(store: Store, clock: FrozenClock) -> None:
    from stripemeter_server.api.schemas.catalog import customer_terms
    from stripemeter_server.service.catalog.metrics import put_customer

    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        put_customer(uow, customer_terms("cus_1", {"anchorDay": 15}), clock.now())
        uow.commit()
    ingest(
        store,
        "acme",
        [event(ts="2025-01-14T00:00:00Z"), event(ts="2025-01-15T00:00:00Z")],
        clock.now(),
    )
    with store.unit_of_work("acme", read_only=True) as uow:
        found = current_usage(uow, "cus_1", clock.now(), "calls")[0]
    assert (found.period.start, found.value) == (datetime(2025, 1, 15, tzinfo=UTC), Decimal(1))
