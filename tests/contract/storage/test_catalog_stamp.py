"""The tenant's catalog stamp (ADR 0947): every metric or alert-rule write moves it in its
own transaction, and a group reading the stamp uses the store's copy of the catalog only
while no change has committed since the copy was read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from stripemeter_server.domain.alerts import parse_new_rule
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.service.alerts.ports import AlertRuleRecord
from stripemeter_server.service.alerts.rules import create_rule
from stripemeter_server.service.catalog.definitions import encode_metric
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.ingest.pipeline import ingest_group
from stripemeter_server.storage.unit_of_work import Store, UnitOfWork
from tests.support.ledger import make_tenant

TENANT = "acme"
RULE = AlertRuleRecord("r1", "calls", None, '{"t":1}', None, None, 1, 1)
# Each write as the ``n``-th call of its kind (a new key each time where keys must differ).
_WRITES: dict[str, Callable[[UnitOfWork, int], object]] = {
    "metric added": lambda uow, n: uow.metrics.add(f"new{n}", encode_metric(Metric(f"new{n}")), 1),
    "metric replaced": lambda uow, n: uow.metrics.replace(
        "calls", encode_metric(Metric("calls")), n
    ),
    "metric deleted": lambda uow, n: uow.metrics.delete("calls"),
    "rule added": lambda uow, n: uow.alerts.add_rule(replace(RULE, rule_id=f"new{n}")),
    "rule replaced": lambda uow, n: uow.alerts.replace_rule(replace(RULE, updated_us=n)),
    "rule deleted": lambda uow, n: uow.alerts.delete_rule("r1"),
}


def version(store: Store) -> int:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.connection.execute(
            text("SELECT catalog_version FROM tenants WHERE tenant_id = :t"), {"t": TENANT}
        ).scalar_one()
        return int(found)


@pytest.mark.parametrize("write", sorted(_WRITES))
def test_each_catalog_write_moves_the_stamp_once_in_its_own_transaction(
    store: Store, clock: FrozenClock, write: str
) -> None:
    make_tenant(store, TENANT, clock.now(), [{"code": "calls", "aggregation": "sum"}])
    with store.unit_of_work(TENANT) as uow:
        uow.alerts.add_rule(RULE)
        uow.commit()
    before = version(store)
    with store.unit_of_work(TENANT) as uow:
        _WRITES[write](uow, 0)
        # not committed: the change and the stamp stay invisible together
    rolled_back = version(store)
    with store.unit_of_work(TENANT) as uow:
        _WRITES[write](uow, 1)
        _WRITES[write](uow, 2)  # a second write of the transaction: one move
        uow.commit()
    assert (rolled_back, version(store)) == (before, before + 1)


@contextmanager
def catalog_reads(store: Store) -> Iterator[list[str]]:
    """The statements that read the metrics or alert-rules table, while entered."""
    seen: list[str] = []

    def listen(*args: Any) -> None:
        statement = str(args[2]).lower()
        if "from metrics" in statement or "from alert_rules" in statement:
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)


def group(store: Store, now: datetime, key: str, metric: str = "calls") -> IngestOutcome:
    """One single-event group as the group committer runs it: the key stamp first."""
    request = BatchRequest(
        [{"metric": metric, "customerRef": "c", "quantity": "5", "idempotencyKey": key}],
        now,
        f"req-{key}",
    )
    with store.unit_of_work(TENANT) as uow:
        uow.api_keys.stamp(TENANT)
        [outcome] = ingest_group(uow, [request], now=now, limits=EventLimits())
        uow.commit()
    return outcome


def status(outcome: IngestOutcome) -> str:
    return outcome.results[0].status


def fired(store: Store) -> int:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        return len(uow.alerts.events())


def test_groups_read_the_catalog_once_per_change_and_see_each_change_at_once(
    store: Store, clock: FrozenClock
) -> None:
    now = clock.now()
    make_tenant(store, TENANT, now, [{"code": "calls", "aggregation": "sum"}])
    assert status(group(store, now, "k0")) == "accepted"  # reads and keeps the catalog
    with catalog_reads(store) as reads:
        assert status(group(store, now, "k1")) == "accepted"
    assert reads == []  # the stamp unchanged: the copy served metrics and rules
    with store.unit_of_work(TENANT) as uow:
        uow.metrics.add("other", encode_metric(Metric("other")), 1)
        rule = parse_new_rule({"metric": "calls", "threshold": "1"})
        create_rule(uow, rule, now)  # "calls" at 1 or more: the next group's usage fires it
        uow.commit()
    with catalog_reads(store) as reads:
        assert status(group(store, now, "k2", "other")) == "accepted"
        assert status(group(store, now, "k3")) == "accepted"
    assert fired(store) == 1  # the new rule, seen by the first group after it
    assert len(reads) == 2  # metrics and rules read again once, then the copy
    with store.unit_of_work(TENANT) as uow:
        uow.metrics.delete("other")
        uow.commit()
    assert status(group(store, now, "k4", "other")) == "rejected"


def test_a_group_that_changes_the_catalog_reads_its_own_change(
    store: Store, clock: FrozenClock
) -> None:
    now = clock.now()
    make_tenant(store, TENANT, now, [{"code": "calls", "aggregation": "sum"}], auto_create=True)
    assert status(group(store, now, "k0")) == "accepted"
    assert status(group(store, now, "k1", "made_here")) == "accepted"  # created in the group
    before = version(store)
    assert status(group(store, now, "k2", "made_here")) == "accepted"
    assert version(store) == before  # reading moves nothing
