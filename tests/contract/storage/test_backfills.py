"""Backfill sessions on SQLite and PostgreSQL: held while open, counted on close, uncounted
on revert, and the late policy applied at close to periods already closed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import ConflictError
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.storage.unit_of_work import Store
from tests.support.backfill import close, current, open_session, revert
from tests.support.ledger import counters, ingest, make_tenant

METRICS = [
    {"code": "calls", "aggregation": "sum"},
    {"code": "strict", "aggregation": "sum", "latePolicy": "reject"},
]
DEC = datetime(2024, 12, 10, tzinfo=UTC)


def ev(
    quantity: str,
    ts: str,
    key: str,
    bf: str | None = None,
    metric: str = "calls",
    customer: str = "cus_1",
) -> dict[str, object]:
    body: dict[str, object] = {
        "metric": metric,
        "customerRef": customer,
        "quantity": quantity,
        "ts": ts,
        "idempotencyKey": key,
    }
    if bf is not None:
        body["backfillId"] = bf
    return body


@pytest.fixture
def acme(store: Store, clock: FrozenClock) -> Store:
    make_tenant(store, "acme", clock.now(), METRICS)
    return store


def test_events_of_an_open_session_are_stored_but_not_counted(
    acme: Store, clock: FrozenClock
) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    outcome = ingest(acme, "acme", [ev("5", "2025-01-05T00:00:00Z", "k1", bf)], clock.now())
    assert [r.status for r in outcome.results] == ["accepted"]
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(0)


def test_closing_counts_the_events_as_if_ingested_live(acme: Store, clock: FrozenClock) -> None:
    make_tenant(acme, "live", clock.now(), METRICS)
    stream = [ev("5", "2025-01-05T00:00:00Z", "k1"), ev("2", "2025-01-06T00:00:00Z", "k2")]
    ingest(acme, "live", stream, clock.now())
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    ingest(acme, "acme", [{**e, "backfillId": bf} for e in stream], clock.now())
    view = close(acme, "acme", bf, clock.now())
    assert (view.record.status, view.events) == ("closed", 2)
    assert counters(acme, "acme") == counters(acme, "live")


def test_reverting_a_closed_session_restores_the_counters(acme: Store, clock: FrozenClock) -> None:
    ingest(acme, "acme", [ev("1", "2025-01-04T00:00:00Z", "live")], clock.now())
    before = counters(acme, "acme")
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    ingest(acme, "acme", [ev("5", "2025-01-05T00:00:00Z", "k1", bf)], clock.now())
    close(acme, "acme", bf, clock.now())
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(6)
    assert revert(acme, "acme", bf, clock.now()).record.status == "reverted"
    assert counters(acme, "acme") == before


def test_a_reverted_open_session_takes_no_more_events(acme: Store, clock: FrozenClock) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    revert(acme, "acme", bf, clock.now())
    outcome = ingest(acme, "acme", [ev("5", "2025-01-05T00:00:00Z", "k1", bf)], clock.now())
    assert outcome.results[0].error_code == "backfill_not_open"


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (ev("1", "2025-01-05T00:00:00Z", "k", "bf_nosuch"), "backfill_not_found"),
        (ev("1", "2025-01-05T00:00:00Z", "k", "{bf}", metric="strict"), "outside_backfill"),
        (ev("1", "2025-01-05T00:00:00Z", "k", "{bf}", customer="cus_9"), "outside_backfill"),
        (ev("1", "2024-11-05T00:00:00Z", "k", "{bf}"), "outside_backfill"),
    ],
)
def test_an_event_outside_the_session_scope_is_rejected(
    acme: Store, clock: FrozenClock, event: dict[str, object], code: str
) -> None:
    bf = open_session(
        acme,
        "acme",
        clock.now(),
        metric="calls",
        customers=["cus_1"],
        **{"from": "2024-12-01T00:00:00Z"},
    )
    if event["backfillId"] == "{bf}":
        event = {**event, "backfillId": bf}
    outcome = ingest(acme, "acme", [event], clock.now())
    assert (outcome.results[0].status, outcome.results[0].error_code) == ("rejected", code)


def test_an_event_already_in_the_ledger_is_a_duplicate_and_counts_once(
    acme: Store, clock: FrozenClock
) -> None:
    ingest(acme, "acme", [ev("5", "2025-01-05T00:00:00Z", "k1")], clock.now())
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    outcome = ingest(acme, "acme", [ev("5", "2025-01-05T00:00:00Z", "k1", bf)], clock.now())
    close(acme, "acme", bf, clock.now())
    assert outcome.results[0].status == "duplicate"
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(5)


def test_closing_into_a_closed_period_books_the_effect_on_the_open_one(
    acme: Store, clock: FrozenClock
) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    ingest(acme, "acme", [ev("4", "2024-12-10T00:00:00Z", "k1", bf)], clock.now())
    view = close(acme, "acme", bf, clock.now())
    with acme.unit_of_work("acme", read_only=True) as uow:
        moved = uow.adjustments.find(metric="calls")
        late = uow.events.get("k1")
    assert [(a.reason, a.delta) for a in moved] == [("backfill_close", Decimal(4))]
    assert late is not None and late.late_after_close
    assert current(acme, "acme", "cus_1", "calls", DEC) == Decimal(0)
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(4)
    assert view.record.report is not None and '"closedPeriods": 1' in view.record.report


def test_closing_into_a_closed_period_with_reject_policy_voids_those_events(
    acme: Store, clock: FrozenClock
) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="strict")
    ingest(
        acme,
        "acme",
        [
            ev("4", "2024-12-10T00:00:00Z", "k1", bf, metric="strict"),
            ev("3", "2025-01-10T00:00:00Z", "k2", bf, metric="strict"),
        ],
        clock.now(),
    )
    view = close(acme, "acme", bf, clock.now())
    assert view.voided == 1
    assert current(acme, "acme", "cus_1", "strict", clock.now()) == Decimal(3)


def test_reverting_after_the_period_closed_keeps_its_value_and_credits_the_open_one(
    acme: Store, clock: FrozenClock
) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    ingest(acme, "acme", [ev("4", "2025-01-10T00:00:00Z", "k1", bf)], clock.now())
    close(acme, "acme", bf, clock.now())
    with acme.unit_of_work("acme") as uow:
        close_period(uow, "cus_1", "calls", clock.now(), clock.now(), "invoice")
        uow.commit()
    feb = datetime(2025, 2, 5, tzinfo=UTC)
    revert(acme, "acme", bf, feb)
    assert current(acme, "acme", "cus_1", "calls", clock.now()) == Decimal(4)
    assert current(acme, "acme", "cus_1", "calls", feb) == Decimal(-4)


def test_a_revert_that_would_change_a_closed_reject_period_is_refused(
    acme: Store, clock: FrozenClock
) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="strict")
    ingest(acme, "acme", [ev("4", "2025-01-10T00:00:00Z", "k1", bf, metric="strict")], clock.now())
    close(acme, "acme", bf, clock.now())
    with pytest.raises(ConflictError) as caught:
        revert(acme, "acme", bf, datetime(2025, 3, 1, tzinfo=UTC))
    assert caught.value.code == "period_closed"


def test_a_closed_session_cannot_be_closed_again(acme: Store, clock: FrozenClock) -> None:
    bf = open_session(acme, "acme", clock.now(), metric="calls")
    close(acme, "acme", bf, clock.now())
    with pytest.raises(ConflictError) as caught:
        close(acme, "acme", bf, clock.now())
    assert caught.value.code == "backfill_not_open"
