"""A group's counters and ledger rows written with its commit (PostgreSQL holds them for the
``COMMIT``'s round trip, ADR 0974): a key stored but missed by the group's ledger check
still fails the group as a whole, and a read in the group (alert evaluation) sees what the
group counted — on both stores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.alerts.rules import create_rule
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_parsed, ledger_keys, parse_group
from stripemeter_server.service.ingest.ports import IngestTally
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store, UnitOfWork
from tests.support.ledger import counters, ingest, make_tenant

METRICS = [{"code": "calls", "aggregation": "sum"}]


def event(key: str, quantity: str = "2") -> dict[str, object]:
    return {"metric": "calls", "customerRef": "c", "quantity": quantity, "idempotencyKey": key}


def as_committer(
    uow: UnitOfWork, clock: FrozenClock, events: list[object], *, checked: bool = True
) -> IngestOutcome:
    """One request through the group committer's steps: the head, then the pipeline.
    ``checked=False``: the ledger check is handed nothing, as if every key had been stored
    by a racing transaction after the check read the ledger."""
    group = parse_group([BatchRequest(events, clock.now(), "r1")], "acme", EventLimits())
    head = uow.group_head(ledger_keys(group), stamp=True)
    stored = head.fingerprints if checked else {}
    return ingest_parsed(uow, group, now=clock.now(), stored=stored)[0]


def total(store: Store, clock: FrozenClock) -> Decimal | None:
    with store.unit_of_work("acme", read_only=True) as uow:
        return current_usage(uow, "c", clock.now(), "calls")[0].value


def tallies(store: Store) -> IngestTally:
    with store.unit_of_work("acme", read_only=True) as uow:
        return uow.ingest_tallies.sums(0)


def test_a_key_stored_behind_the_groups_check_fails_the_group_and_leaves_nothing(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [event("k1", "5")], clock.now())
    before = tallies(store)
    with pytest.raises(RetryableConflict), store.unit_of_work("acme") as uow:
        outcome = as_committer(uow, clock, [event("k2", "3"), event("k1", "5")], checked=False)
        assert [r.status for r in outcome.results] == ["accepted", "accepted"]
        uow.commit()
    assert total(store, clock) == Decimal(5)  # neither k2 nor k1 counted again
    assert tallies(store) == before
    with store.unit_of_work("acme") as uow:  # the group again, from its head
        again = as_committer(uow, clock, [event("k2", "3"), event("k1", "5")])
        uow.commit()
    assert [r.status for r in again.results] == ["accepted", "duplicate"]
    assert total(store, clock) == Decimal(8)


def test_an_alert_in_a_group_sees_the_usage_the_group_counted(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        create_rule(uow, parse_new_rule({"metric": "calls", "threshold": "10"}), clock.now())
        uow.commit()
    with store.unit_of_work("acme") as uow:
        as_committer(uow, clock, [event("k1", "6")])
        uow.commit()
    with store.unit_of_work("acme") as uow:
        as_committer(uow, clock, [event("k2", "6")])
        uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        fired = uow.alerts.events()
    assert len(fired) == 1
    assert total(store, clock) == Decimal(12)


def test_a_group_of_many_counters_writes_each_back_once(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    events: list[object] = [
        {"metric": "calls", "customerRef": f"c{i % 5}", "quantity": "1", "idempotencyKey": f"k{i}"}
        for i in range(20)
    ]
    with store.unit_of_work("acme") as uow:
        as_committer(uow, clock, events[:10])
        uow.commit()
    with store.unit_of_work("acme") as uow:
        as_committer(uow, clock, events)
        uow.commit()
    with store.unit_of_work("acme", read_only=True) as uow:
        values = [current_usage(uow, f"c{i}", clock.now(), "calls")[0].value for i in range(5)]
    assert values == [Decimal(4)] * 5


def close_now(store: Store, clock: FrozenClock, customer: str = "c") -> None:
    with store.unit_of_work("acme") as uow:
        close_period(uow, customer, "calls", clock.now(), clock.now(), "invoice")
        uow.commit()


def test_a_group_into_a_period_closed_by_a_lock_is_rejected_and_creates_no_counter(
    store: Store, clock: FrozenClock
) -> None:
    """The period locks checked in the counters' claim (ADR 0974): a locked period under
    ``reject`` refuses the event, and the claim left no counter behind for it."""
    make_tenant(store, "acme", clock.now(), [{**METRICS[0], "latePolicy": "reject"}])
    close_now(store, clock, "other")  # the customer's period is closed before any counter
    with store.unit_of_work("acme") as uow:
        outcome = as_committer(
            uow, clock, [{**event("k1"), "customerRef": "other"}, event("k2", "3")]
        )
        uow.commit()
    assert [r.status for r in outcome.results] == ["rejected", "accepted"]
    assert outcome.results[0].error_code == "period_closed"
    assert [key[1] for key in counters(store, "acme")] == ["c"]
    assert total(store, clock) == Decimal(3)


def test_a_group_with_one_event_in_a_locked_period_books_it_forward_and_counts_the_rest(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        as_committer(uow, clock, [{**event("k0", "4"), "customerRef": "other"}])
        uow.commit()
    close_now(store, clock, "other")
    with store.unit_of_work("acme") as uow:
        outcome = as_committer(
            uow, clock, [{**event("k1"), "customerRef": "other"}, event("k2", "3")]
        )
        uow.commit()
    assert [r.status for r in outcome.results] == ["accepted", "accepted"]
    assert [r.late_after_close for r in outcome.results] == [True, False]
    assert total(store, clock) == Decimal(3)
