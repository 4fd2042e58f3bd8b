"""An ingest group's first reads (the key stamp and the ledger check) and its tally: on
PostgreSQL they go out with the transaction's ``BEGIN`` and ``COMMIT`` (ADR 0969). The
answers, the writes and the transaction's bounds are those of the statements run one by one,
on both stores."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import metric_from_dict
from stripemeter_server.service.catalog.metrics import create_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_parsed, ledger_keys, parse_group
from stripemeter_server.service.ingest.ports import IngestTally
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store, UnitOfWork
from tests.support.ledger import ingest, make_tenant

METRICS = [{"code": "calls", "aggregation": "sum"}]


def event(key: str, quantity: str = "2", metric: str = "calls") -> dict[str, object]:
    return {"metric": metric, "customerRef": "c", "quantity": quantity, "idempotencyKey": key}


def as_committer(uow: UnitOfWork, clock: FrozenClock, events: list[object]) -> IngestOutcome:
    """One request through the group committer's steps: the head, then the pipeline."""
    group = parse_group([BatchRequest(events, clock.now(), "r1")], "acme", EventLimits())
    head = uow.group_head(ledger_keys(group), stamp=True)
    return ingest_parsed(uow, group, now=clock.now(), stored=head.fingerprints)[0]


def total(store: Store, clock: FrozenClock) -> Decimal | None:
    with store.unit_of_work("acme", read_only=True) as uow:
        return current_usage(uow, "c", clock.now(), "calls")[0].value


def tallies(store: Store) -> IngestTally:
    with store.unit_of_work("acme", read_only=True) as uow:
        return uow.ingest_tallies.sums(0)


def test_the_head_reads_the_stamp_and_the_fingerprints_of_stored_keys(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [event("k1")], clock.now())
    with store.unit_of_work("acme") as uow:
        head = uow.group_head(["k1", "k2"], stamp=True)
        assert head.stamp == uow.api_keys.stamp("acme")
        assert head.fingerprints == uow.events.fingerprints(["k1", "k2"])
        assert list(head.fingerprints) == ["k1"]


def test_the_head_without_admitted_keys_reads_no_stamp(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        head = uow.group_head(["k1"], stamp=False)
    assert (head.stamp, head.fingerprints) == (None, {})


def test_the_head_after_another_statement_reads_the_same(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    ingest(store, "acme", [event("k1")], clock.now())
    with store.unit_of_work("acme") as uow:
        uow.connection.execute(text("SELECT 1"))
        head = uow.group_head(["k1"], stamp=True)
        assert head.stamp == uow.api_keys.stamp("acme")
    assert list(head.fingerprints) == ["k1"]


def test_a_group_opened_by_its_head_commits_its_events_counters_and_tally(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        first = as_committer(uow, clock, [event("k1"), event("k2", "3")])
        uow.commit()
    with store.unit_of_work("acme") as uow:
        again = as_committer(uow, clock, [event("k1"), event("k2", "4")])
        uow.commit()
    assert [r.status for r in first.results] == ["accepted", "accepted"]
    assert [r.status for r in again.results] == ["duplicate", "conflict"]
    assert total(store, clock) == Decimal(5)
    assert tallies(store) == IngestTally(accepted=2, duplicates=1, conflicts=1)


def test_a_group_opened_by_its_head_and_not_committed_leaves_nothing(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with pytest.raises(RuntimeError), store.unit_of_work("acme") as uow:
        outcome = as_committer(uow, clock, [event("k1")])
        assert outcome.results[0].status == "accepted"
        raise RuntimeError("the group fails before its commit")
    assert total(store, clock) == Decimal(0)
    assert tallies(store) == IngestTally()
    with store.unit_of_work("acme") as uow:
        assert as_committer(uow, clock, [event("k1")]).results[0].status == "accepted"
        uow.commit()
    assert total(store, clock) == Decimal(2)


def test_the_next_unit_of_work_on_the_connection_is_a_transaction_again(
    store: Store, clock: FrozenClock
) -> None:
    """After a group opened by its head, committed or rolled back, the pooled connection is
    back to transactions: a later unit of work that does not commit leaves nothing."""
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        as_committer(uow, clock, [event("k1")])
        uow.commit()
    with pytest.raises(RuntimeError), store.unit_of_work("acme") as uow:
        as_committer(uow, clock, [event("k2")])
        raise RuntimeError("rolled back")
    with store.unit_of_work("acme") as uow:
        driver = uow.connection.connection.driver_connection
        if isinstance(driver, psycopg.Connection):
            assert driver.autocommit is False
        uow.connection.execute(text("UPDATE tenants SET name = 'changed' WHERE tenant_id = 'acme'"))
    with store.unit_of_work("acme", read_only=True) as uow:
        name = uow.connection.execute(text("SELECT name FROM tenants WHERE tenant_id = 'acme'"))
        assert name.scalar_one() != "changed"


def test_a_metric_added_after_a_group_opened_by_its_head_is_seen_by_the_next(
    store: Store, clock: FrozenClock
) -> None:
    """The head reads the catalog's number with the key stamp (ADR 0947): a metric created
    after a group is known to the next one, not hidden by the kept copy."""
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        assert as_committer(uow, clock, [event("k1")]).results[0].status == "accepted"
        uow.commit()
    make_tenant_metric(store, clock, "other")
    with store.unit_of_work("acme") as uow:
        outcome = as_committer(uow, clock, [event("k2", metric="other")])
        uow.commit()
    assert outcome.results[0].status == "accepted"


def make_tenant_metric(store: Store, clock: FrozenClock, code: str) -> None:
    with store.unit_of_work("acme") as uow:
        create_metric(uow, metric_from_dict({"code": code, "aggregation": "sum"}), clock.now())
        uow.commit()
