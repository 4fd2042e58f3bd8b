"""Period close, adjustments, voids and rebuilds, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ConflictError
from stripemeter_server.service.catalog.commands import MetricChanges
from stripemeter_server.service.catalog.metrics import get_metric, update_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.corrections.adjustments import (
    close_period,
    create_adjustment,
    revert_adjustment,
    void_event,
)
from stripemeter_server.service.corrections.commands import adjustment_command
from stripemeter_server.service.corrections.rebuild import rebuild_metric
from stripemeter_server.service.usage.reads import billing_periods, current_usage
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import counters, ingest, make_tenant, us

METRICS = [{"code": "calls", "aggregation": "sum"}, {"code": "peak", "aggregation": "max"}]


def ev(quantity: str, ts: str, metric: str = "calls", key: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "metric": metric,
        "customerRef": "cus_1",
        "quantity": quantity,
        "ts": ts,
    }
    if key:
        body["idempotencyKey"] = key
    return body


def value(store: Store, now: datetime, metric: str = "calls") -> Decimal | None:
    with store.unit_of_work("acme", read_only=True) as uow:
        return current_usage(uow, "cus_1", now, metric)[0].value


def test_closing_a_period_freezes_its_value_and_books_later_events_forward(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [ev("3", "2025-01-05T00:00:00Z")], clock.now())
    with store.unit_of_work("acme") as uow:
        lock = close_period(uow, "cus_1", "calls", clock.now(), clock.now(), "invoice")
        uow.commit()
    assert lock.final_value == Decimal(3)
    outcome = ingest(store, "acme", [ev("2", "2025-01-06T00:00:00Z")], clock.now())
    assert outcome.results[0].late_after_close is True
    with store.unit_of_work("acme", read_only=True) as uow:
        periods = billing_periods(
            uow,
            "cus_1",
            "calls",
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2025, 3, 1, tzinfo=UTC),
            clock.now(),
        )
    assert [(p.status, p.value) for p in periods] == [("closed", Decimal(3)), ("open", Decimal(2))]


def test_a_late_max_event_books_only_the_increase(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [ev("5", "2025-01-05T00:00:00Z", "peak")], clock.now())
    with store.unit_of_work("acme") as uow:
        close_period(uow, "cus_1", "peak", clock.now(), clock.now())
        uow.commit()
    ingest(store, "acme", [ev("8", "2025-01-06T00:00:00Z", "peak")], clock.now())
    with store.unit_of_work("acme", read_only=True) as uow:
        deltas = [a.delta for a in uow.adjustments.find(metric="peak")]
    assert deltas == [Decimal(3)]


def test_adjustments_change_the_value_and_revert_appends_the_negative_twin(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [ev("10", "2025-01-05T00:00:00Z")], clock.now())
    with store.unit_of_work("acme") as uow:
        adj = create_adjustment(
            uow,
            adjustment_command(
                metric="calls",
                customer_ref="cus_1",
                delta_raw="-2.5",
                reason="credit",
                note=None,
                at=None,
            ),
            actor="test",
            now=clock.now(),
        )
        uow.commit()
    assert value(store, clock.now()) == Decimal("7.5")
    with store.unit_of_work("acme") as uow:
        twin = revert_adjustment(uow, adj.adjustment_id, "test", clock.now())
        uow.commit()
    assert (twin.delta, twin.reverts) == (Decimal("2.5"), adj.adjustment_id)
    assert value(store, clock.now()) == Decimal(10)


def test_adjusting_a_closed_period_is_refused(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        close_period(uow, "cus_1", "calls", clock.now(), clock.now())
        with pytest.raises(ConflictError):
            create_adjustment(
                uow,
                adjustment_command(
                    metric="calls",
                    customer_ref="cus_1",
                    delta_raw="1",
                    reason="credit",
                    note=None,
                    at=None,
                ),
                actor="t",
                now=clock.now(),
            )


def test_voiding_an_event_recomputes_the_counter_without_it(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(
        store,
        "acme",
        [
            ev("9", "2025-01-05T00:00:00Z", "peak", "k9"),
            ev("4", "2025-01-06T00:00:00Z", "peak", "k4"),
        ],
        clock.now(),
    )
    with store.unit_of_work("acme") as uow:
        void_event(uow, "k9", clock.now())
        uow.commit()
    assert value(store, clock.now(), "peak") == Decimal(4)


def test_rebuild_reproduces_live_counters_including_late_bookings(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(
        store,
        "acme",
        [ev("5", "2025-01-05T00:00:00Z"), ev("1", "2025-01-04T00:00:00Z")],
        clock.now(),
    )
    clock.set(datetime(2025, 2, 10, tzinfo=UTC))
    ingest(
        store,
        "acme",
        [ev("2", "2025-01-20T00:00:00Z"), ev("3", "2025-02-02T00:00:00Z")],
        clock.now(),
    )
    live = counters(store, "acme", "calls")
    with store.unit_of_work("acme") as uow:
        rebuild_metric(uow, get_metric(uow, "calls"), customer_ref=None, now_us=us(clock.now()))
        uow.commit()
    assert counters(store, "acme", "calls") == live


def test_changing_the_aggregation_rebuilds_the_counters(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(
        store,
        "acme",
        [ev("5", "2025-01-05T00:00:00Z"), ev("7", "2025-01-06T00:00:00Z")],
        clock.now(),
    )
    with store.unit_of_work("acme") as uow:
        saved = update_metric(uow, "calls", MetricChanges.of({"aggregation": "max"}), clock.now())
        uow.commit()
    assert saved.rebuilt is True
    assert value(store, clock.now()) == Decimal(7)


def test_time_based_close_happens_at_end_plus_lateness(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    feb = datetime(2025, 2, 1, tzinfo=UTC)
    with store.unit_of_work("acme", read_only=True) as uow:
        before = billing_periods(
            uow,
            "cus_1",
            "calls",
            datetime(2025, 1, 1, tzinfo=UTC),
            feb,
            feb + timedelta(hours=47, minutes=59),
        )
        after = billing_periods(
            uow, "cus_1", "calls", datetime(2025, 1, 1, tzinfo=UTC), feb, feb + timedelta(hours=48)
        )
    assert (before[0].status, after[0].status) == ("open", "closed")
