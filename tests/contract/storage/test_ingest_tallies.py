"""The per-minute ingest tallies (the dashboard's status counts), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.errors import RetryableConflict
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ingest.group_commit import GroupCommitter
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.ingest.ports import IngestTally
from stripemeter_server.storage.unit_of_work import Store, UnitOfWork
from tests.support.ledger import ingest, make_tenant

METRICS = [{"code": "calls", "aggregation": "sum"}]
MINUTE = 60_000_000


def event(
    key: str, quantity: str = "1", ts: str = "2025-01-16T14:00:00Z", metric: str = "calls"
) -> dict[str, object]:
    return {
        "metric": metric,
        "customerRef": "cus_1",
        "quantity": quantity,
        "ts": ts,
        "idempotencyKey": key,
    }


def sums(store: Store, since_us: int = 0) -> IngestTally:
    with store.unit_of_work("acme", read_only=True) as uow:
        return uow.ingest_tallies.sums(since_us)


def expected(*outcomes: IngestOutcome) -> IngestTally:
    results = [r for outcome in outcomes for r in outcome.results]
    return IngestTally(
        accepted=sum(r.status == "accepted" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        conflicts=sum(r.status == "conflict" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        late=sum(r.status == "accepted" and (r.late or r.late_after_close) for r in results),
    )


def test_the_tallies_equal_the_results_of_a_batch_with_every_status(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    seed = ingest(store, "acme", [event("seen")], clock.now())
    batch = ingest(
        store,
        "acme",
        [
            event("new"),
            event("late", ts="2025-01-16T09:00:00Z"),  # behind the counter's watermark
            event("seen"),  # the same payload again
            event("seen", quantity="2"),  # the same key, another payload
            event("bad", metric="no_such_metric"),
        ],
        clock.now(),
    )
    assert [r.status for r in batch.results] == [
        "accepted",
        "accepted",
        "duplicate",
        "conflict",
        "rejected",
    ]
    assert sums(store) == expected(seed, batch) == IngestTally(3, 1, 1, 1, 1)


def test_a_retried_group_is_counted_once(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    real_commit, failures = UnitOfWork.commit, [RetryableConflict("injected")]

    def commit_after_one_conflict(uow: UnitOfWork) -> None:
        if failures:
            raise failures.pop()  # the group's first attempt rolls back, as a deadlock would
        real_commit(uow)

    monkeypatch.setattr(UnitOfWork, "commit", commit_after_one_conflict)
    committer = GroupCommitter(ServiceContext(store=store, clock=clock))
    try:
        request = BatchRequest(
            [event("a"), event("a"), event("b", metric="nope")], clock.now(), "r1"
        )
        outcome = committer.submit("acme", request).result(timeout=30)
    finally:
        committer.stop()
    assert failures == [] and sums(store) == expected(outcome) == IngestTally(1, 1, 0, 1, 0)


def test_groups_in_one_minute_add_up_in_one_row(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        uow.ingest_tallies.add(MINUTE * 10, IngestTally(2, 1, 0, 0, 1))
        uow.ingest_tallies.add(MINUTE * 10, IngestTally(3, 0, 1, 4, 0))
        uow.commit()
    assert sums(store, MINUTE * 10) == IngestTally(5, 1, 1, 4, 1)


def test_a_window_sums_only_the_minutes_from_its_start(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    with store.unit_of_work("acme") as uow:
        uow.ingest_tallies.add(MINUTE * 9, IngestTally(accepted=7))
        uow.ingest_tallies.add(MINUTE * 10, IngestTally(accepted=2))
        uow.commit()
    assert sums(store, MINUTE * 10) == IngestTally(accepted=2)


def test_each_tenant_sees_only_its_own_tallies(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    make_tenant(store, "other", clock.now(), METRICS)
    ingest(store, "other", [event("x")], clock.now())
    assert sums(store) == IngestTally()


def test_events_are_tallied_in_the_minute_they_were_answered(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    later: datetime = clock.now() + timedelta(minutes=5)
    ingest(store, "acme", [event("early")], clock.now())
    ingest(store, "acme", [event("later")], later)
    assert sums(store, to_micros(later) // MINUTE * MINUTE) == IngestTally(accepted=1)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=6
    )
)
def test_the_sum_of_added_tallies_is_their_total(
    store: Store, clock: FrozenClock, adds: list[tuple[int, int, int]]
) -> None:
    with store.unit_of_work("acme") as uow:  # never committed: each example starts empty
        for minute, accepted, rejected in adds:
            uow.ingest_tallies.add(
                MINUTE * minute, IngestTally(accepted=accepted, rejected=rejected)
            )
        found = uow.ingest_tallies.sums(0)
    assert found == IngestTally(
        accepted=sum(a for _, a, _ in adds), rejected=sum(r for _, _, r in adds)
    )
