"""Group commit: several requests in one transaction behave as if processed one by one."""

from __future__ import annotations

import asyncio
from concurrent.futures import wait
from datetime import timedelta
from decimal import Decimal

import pytest

from stripemeter_server.domain.errors import UnavailableError
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.ingest.group_commit import GroupCommitter
from stripemeter_server.service.ingest.outcome import BatchRequest
from stripemeter_server.service.ingest.pipeline import ingest_group
from stripemeter_server.service.usage.reads import current_usage
from stripemeter_server.storage.unit_of_work import Store
from tests.support.ledger import make_tenant

METRICS = [{"code": "calls", "aggregation": "sum"}]


def total(store: Store, clock: FrozenClock, customer: str = "c") -> Decimal | None:
    with store.unit_of_work("acme", read_only=True) as uow:
        return current_usage(uow, customer, clock.now(), "calls")[0].value


def test_a_key_repeated_across_grouped_requests_is_a_duplicate(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    event = {"metric": "calls", "customerRef": "c", "quantity": "2", "idempotencyKey": "k"}
    with store.unit_of_work("acme") as uow:
        first, second = ingest_group(
            uow,
            [BatchRequest([event], clock.now(), "r1"), BatchRequest([event], clock.now(), "r2")],
            now=clock.now(),
            limits=EventLimits(),
        )
        uow.commit()
    assert (first.results[0].status, second.results[0].status) == ("accepted", "duplicate")
    assert (first.request_id, second.results[0].index) == ("r1", 0)
    assert total(store, clock) == Decimal(2)


def test_grouped_requests_keep_their_own_arrival_times(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    event = {"metric": "calls", "customerRef": "c"}  # no ts: the key uses the arrival time
    earlier = clock.now() - timedelta(seconds=1)
    with store.unit_of_work("acme") as uow:
        outcomes = ingest_group(
            uow,
            [BatchRequest([event], earlier, "r1"), BatchRequest([event], clock.now(), "r2")],
            now=clock.now(),
            limits=EventLimits(),
        )
        uow.commit()
    assert [o.results[0].status for o in outcomes] == ["accepted", "accepted"]
    assert total(store, clock) == Decimal(2)


def test_concurrent_submissions_are_counted_exactly_once(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    committer = GroupCommitter(ServiceContext(store=store, clock=clock), writers=2)
    events = [
        {
            "metric": "calls",
            "customerRef": f"c{i % 7}",
            "quantity": "1.5",
            "ts": "2025-01-16T14:00:00Z",
            "idempotencyKey": f"k{i}",
        }
        for i in range(300)
    ]
    futures = [
        committer.submit("acme", BatchRequest(events[i : i + 3], clock.now(), f"r{i}"))
        for i in range(0, 300, 3)
    ]
    replays = [
        committer.submit("acme", BatchRequest(events[i : i + 5], clock.now(), f"x{i}"))
        for i in range(0, 300, 5)
    ]
    wait(futures + replays)
    committer.stop()
    statuses = [r.status for f in futures + replays for r in f.result().results]
    assert (statuses.count("accepted"), statuses.count("duplicate")) == (300, 300)
    assert sum(total(store, clock, f"c{i}") or 0 for i in range(7)) == Decimal("450")


def test_a_failing_request_does_not_fail_its_group(store: Store, clock: FrozenClock) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    committer = GroupCommitter(ServiceContext(store=store, clock=clock), writers=1)
    good = BatchRequest(
        [{"metric": "calls", "customerRef": "c", "idempotencyKey": "g"}], clock.now(), "good"
    )
    bad = BatchRequest(None, clock.now(), "bad")  # type: ignore[arg-type]  # not a list at all
    futures = [committer.submit("acme", bad), committer.submit("acme", good)]
    wait(futures)
    committer.stop()
    assert futures[0].exception() is not None
    assert futures[1].result().results[0].status == "accepted"


def test_loop_callers_get_their_own_outcomes_and_errors(store: Store, clock: FrozenClock) -> None:
    """``submit_async``: a group's outcomes reach the loop together; each caller gets its own
    (a failing request its error), a cancelled caller is skipped, and every event counts once."""
    make_tenant(store, "acme", clock.now(), METRICS)
    committer = GroupCommitter(ServiceContext(store=store, clock=clock), writers=2)

    def request(n: int, key: str) -> BatchRequest:
        event = {"metric": "calls", "customerRef": "c", "quantity": "2", "idempotencyKey": key}
        return BatchRequest([event], clock.now(), f"r{n}")

    async def drive() -> list[object]:
        bad = BatchRequest(None, clock.now(), "bad")  # type: ignore[arg-type]
        cancelled = committer.submit_async("acme", request(-1, "k_cancelled"))
        cancelled.cancel()
        waiters = [committer.submit_async("acme", request(n, f"k{n % 40}")) for n in range(80)]
        waiters.insert(7, committer.submit_async("acme", bad))
        return await asyncio.gather(*waiters, return_exceptions=True)

    answers = asyncio.run(drive())
    committer.stop()
    assert isinstance(answers.pop(7), Exception)
    statuses = [a.results[0].status for a in answers]  # type: ignore[attr-defined]
    assert (statuses.count("accepted"), statuses.count("duplicate")) == (40, 40)
    assert [a.request_id for a in answers] == [f"r{n}" for n in range(80)]  # type: ignore[attr-defined]
    assert total(store, clock) in (Decimal(80), Decimal(82))  # the cancelled one may be stored


def test_a_request_queued_as_the_committer_stops_is_refused_not_left_waiting(
    store: Store, clock: FrozenClock
) -> None:
    make_tenant(store, "acme", clock.now(), METRICS)
    committer = GroupCommitter(ServiceContext(store=store, clock=clock), writers=1)
    event = {"metric": "calls", "customerRef": "c", "quantity": "1", "idempotencyKey": "k"}
    committer.submit("acme", BatchRequest([event], clock.now(), "r1")).result(timeout=30)
    committer.stop()
    # a submit that read "running" just before the stop: its job lands after the writers left
    committer._ensure_started = lambda: None  # type: ignore[method-assign]
    late = committer.submit(
        "acme", BatchRequest([dict(event, idempotencyKey="k2")], clock.now(), "r2")
    )
    with pytest.raises(UnavailableError):
        late.result(timeout=30)
    assert total(store, clock) == Decimal(1)
