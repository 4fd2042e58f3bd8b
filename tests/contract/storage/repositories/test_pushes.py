"""PushesRepository: the push state advanced optimistically, the outbox claimed with a
lease, moved only while pending, paged newest first, requeued; the counters a planning
pass reads. A property: claiming, acknowledging and retrying in any order never hands one
push out twice while its lease holds."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.stripe_mapping import SyncMode, Transport
from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    SENT,
    PushRow,
    PushState,
    PushStats,
)
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def push(push_id: str, *, customer: str = "cus", created_us: int = 10, **changes: Any) -> PushRow:
    row = PushRow(
        TENANT, push_id, "calls", customer, 0, 100, 1, SyncMode.METER_EVENTS, Transport.V1,
        "api_calls", None, 5, 5, None, PENDING, 0, None, None, created_us, None, created_us,
        None, created_us,
    )  # fmt: skip
    return row._replace(**changes)


def state(customer: str = "cus", seq: int = 1, units: int | None = 5) -> PushState:
    return PushState("calls", customer, 0, 100, "meter_events:api_calls", units, seq, None)


def add(store: AnyStore, *rows: PushRow) -> None:
    with store.unit_of_work(TENANT) as uow:
        uow.pushes.add_many(list(rows))
        uow.commit()


def write_counter(store: AnyStore, customer: str, now_us: int, end_us: int = 100) -> None:
    with store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({("calls", customer, 0): end_us}, now_us)
        for counter in locked.values():
            counter.state = CounterState(count=1)
        uow.counters.save(locked.values(), now_us)
        uow.commit()


def test_a_state_advances_only_from_the_sequence_it_was_read_at(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        created = uow.pushes.advance(None, state(seq=1), 5)
        twice = uow.pushes.advance(None, state(seq=2), 5)
        moved = uow.pushes.advance(state(seq=1), state(seq=2, units=7), 6)
        stale = uow.pushes.advance(state(seq=1), state(seq=3), 7)
        uow.pushes.set_state_timestamp(("calls", "cus", 0), 1234)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.pushes.states("calls", ["cus", "nobody"])
    assert (created, twice, moved, stale) == (True, False, True, False)
    assert kept == {("calls", "cus", 0): state(seq=2, units=7)._replace(last_ts_s=1234)}


def test_advance_many_says_whether_every_move_applied(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        applied = uow.pushes.advance_many([(None, state("a")), (None, state("b"))], 5)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        short = uow.pushes.advance_many(
            [(state("a", 1), state("a", 2)), (state("b", 9), state("b", 10))], 6
        )
    assert (applied, short) == (True, False)


def test_changed_counters_follow_writes_period_ends_and_plans(any_store: AnyStore) -> None:
    write_counter(any_store, "early", 10)
    write_counter(any_store, "late", 50)
    write_counter(any_store, "ended", 50, end_us=40)
    with any_store.unit_of_work(TENANT) as uow:
        uow.pushes.advance(None, state("late")._replace(period_end_us=100), 1_000)
        uow.commit()

    def changed(**kw: Any) -> list[str]:
        with any_store.unit_of_work(TENANT, read_only=True) as uow:
            found = uow.pushes.changed_counters("calls", **kw)
        return sorted(c.counter.customer_ref for c in found)

    assert changed(since_us=None, min_end_us=None) == ["early", "ended", "late"]
    assert changed(since_us=20, min_end_us=None) == ["ended", "late"]
    assert changed(since_us=None, min_end_us=40) == ["early", "late"]
    assert changed(since_us=None, min_end_us=None, settled_us=500) == ["early", "ended"]


def test_an_incremental_scan_skips_counters_planned_from_their_current_write(
    any_store: AnyStore,
) -> None:
    write_counter(any_store, "seen", 10)
    write_counter(any_store, "rewritten", 10)
    with any_store.unit_of_work(TENANT) as uow:
        for customer in ("seen", "rewritten"):
            uow.pushes.advance(None, state(customer)._replace(counter_updated_us=10), 20)
        uow.commit()
    write_counter(any_store, "rewritten", 30)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.pushes.changed_counters(
            "calls", since_us=None, min_end_us=None, settled_us=1_000
        )
    assert [(c.counter.customer_ref, c.updated_us) for c in found] == [("rewritten", 30)]


def test_orphaned_states_are_pushed_counters_that_are_gone(any_store: AnyStore) -> None:
    write_counter(any_store, "alive", 10)
    with any_store.unit_of_work(TENANT) as uow:
        for customer, units in (("alive", 5), ("gone", 5), ("zero", 0), ("never", None)):
            uow.pushes.advance(None, state(customer, units=units), 5)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        orphans = [s.customer_ref for s in uow.pushes.orphaned_states("calls", 50)]
        none_open = uow.pushes.orphaned_states("calls", 100)
    assert (orphans, none_open) == (["gone"], [])


def test_unsent_keys_name_the_target_of_each_unsent_push(any_store: AnyStore) -> None:
    add(
        any_store,
        push("p1"),
        push("p2", customer="b", status=FAILED),
        push("p3", customer="c", status=SENT),
        push("p4", customer="d", mode=SyncMode.USAGE_RECORDS, target="si_1"),
    )
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        keys = uow.pushes.unsent_keys("calls")
    assert keys == {
        ("calls", "cus", 0, "meter_events:api_calls"),
        ("calls", "b", 0, "meter_events:api_calls"),
        ("calls", "d", 0, "usage_records"),
    }


def test_claim_due_leases_due_pending_rows_oldest_first(any_store: AnyStore) -> None:
    add(
        any_store,
        push("p1", created_us=3),
        push("p2", created_us=1),
        push("p3", next_attempt_us=500),
        push("p4", status=FAILED),
    )
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.pushes.claim_due(100, 50, 1)
        rest = uow.pushes.claim_due(100, 50, 10)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        during = uow.pushes.claim_due(149, 50, 10)
        after = uow.pushes.claim_due(150, 50, 10)
        leased = uow.pushes.get("p2")
    assert [r.push_id for r in first] == ["p2"]
    assert ([r.push_id for r in rest], during, [r.push_id for r in after]) == (
        ["p1"],
        [],
        ["p2", "p1"],
    )
    assert leased is not None
    assert (leased.attempts, leased.lease_until_us, leased.next_attempt_us) == (2, 200, 200)


def test_claim_ids_takes_only_those_due_and_pending(any_store: AnyStore) -> None:
    add(any_store, push("p1"), push("p2", next_attempt_us=500), push("p3", status=SENT))
    with any_store.unit_of_work(TENANT) as uow:
        claimed = uow.pushes.claim_ids(["p1", "p2", "p3", "nope"], 100, 50)
        uow.commit()
    assert [(r.push_id, r.attempts) for r in claimed] == [("p1", 0)]


def test_a_lease_is_renewed_only_by_its_holder(any_store: AnyStore) -> None:
    add(any_store, push("p1"), push("p2"), push("p3"))
    with any_store.unit_of_work(TENANT) as uow:
        uow.pushes.claim_due(100, 50, 10)  # every lease until 150
        uow.pushes.mark_sent("p3", stripe_customer_id=None, now_us=110)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        one = uow.pushes.renew_lease(TENANT, "p1", 150, 300)
        stale = uow.pushes.renew_lease(TENANT, "p1", 150, 400)
        many = uow.pushes.renew_leases(TENANT, ["p1", "p2", "p3"], 150, 500)
        uow.commit()
    assert (one, stale, many) == (True, False, {"p2"})


def test_moves_apply_to_pending_rows_only(any_store: AnyStore) -> None:
    add(any_store, push("p1"), push("p2"), push("p3"), push("p4"))
    with any_store.unit_of_work(TENANT) as uow:
        uow.pushes.prepare(
            "p1", target="api_calls", stripe_customer_id="cus_S", timestamp_s=7, now_us=20
        )
        uow.pushes.mark_sent("p1", stripe_customer_id=None, now_us=21)
        uow.pushes.mark_sent_many([("p2", "cus_T")], 22)
        uow.pushes.mark_retry("p3", next_attempt_us=99, error="x" * 1200, code="rate", now_us=23)
        uow.pushes.mark_failed("p4", error="no", code="bad", now_us=24)
        uow.pushes.mark_retry("p4", next_attempt_us=99, error="late", code=None, now_us=25)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        p1, p2, p3, p4 = (uow.pushes.get(f"p{n}") for n in range(1, 5))
    assert p1 == push(
        "p1",
        target="api_calls",
        stripe_customer_id="cus_S",
        timestamp_s=7,
        status=SENT,
        sent_us=21,
        updated_us=21,
    )
    assert p2 == push("p2", stripe_customer_id="cus_T", status=SENT, sent_us=22, updated_us=22)
    assert p3 == push(
        "p3", next_attempt_us=99, last_error="x" * 1000, last_error_code="rate", updated_us=23
    )
    assert p4 == push("p4", status=FAILED, last_error="no", last_error_code="bad", updated_us=24)


def test_a_sent_push_is_rejected_or_sent_back_to_look_up_again(any_store: AnyStore) -> None:
    add(any_store, push("p1", status=SENT, sent_us=5, stripe_customer_id="cus_S"))
    add(any_store, push("p2", status=SENT, sent_us=5, stripe_customer_id="cus_S"), push("p3"))
    with any_store.unit_of_work(TENANT) as uow:
        parked = uow.pushes.reject_sent("p1", error="gone", code="c", now_us=30)
        again = uow.pushes.reject_sent(
            "p2", error="moved", code=None, now_us=31, look_up_again=True
        )
        unsent = uow.pushes.reject_sent("p3", error="x", code=None, now_us=32)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        p1, p2 = uow.pushes.get("p1"), uow.pushes.get("p2")
    assert (parked, again, unsent) == (True, True, False)
    assert p1 == push(
        "p1",
        status=FAILED,
        sent_us=5,
        stripe_customer_id="cus_S",
        last_error="gone",
        last_error_code="c",
        updated_us=30,
    )
    assert p2 == push(
        "p2", status=PENDING, sent_us=5, next_attempt_us=31, last_error="moved", updated_us=31
    )


def test_find_pages_newest_first_with_filters(any_store: AnyStore) -> None:
    add(
        any_store,
        push("a", created_us=1),
        push("b", created_us=2, customer="x"),
        push("c", created_us=2),
        push("d", created_us=3, status=FAILED),
    )

    def found(**kw: Any) -> list[str]:
        where: dict[str, Any] = {"status": None, "metric": None, "customer_ref": None}
        with any_store.unit_of_work(TENANT, read_only=True) as uow:
            return [
                r.push_id for r in uow.pushes.find(**{**where, "before": None, "limit": 10, **kw})
            ]

    assert found() == ["d", "c", "b", "a"]
    assert found(before=(2, "c"), limit=2) == ["b", "a"]
    assert (found(status=FAILED), found(customer_ref="x"), found(metric="tokens")) == (
        ["d"],
        ["b"],
        [],
    )


def test_requeue_moves_failed_pushes_back_to_pending(any_store: AnyStore) -> None:
    add(any_store, push("p1", status=FAILED), push("p2", status=FAILED), push("p3"))
    with any_store.unit_of_work(TENANT) as uow:
        by_id = uow.pushes.requeue(["p1", "p3"], 40)
        by_metric = uow.pushes.requeue(None, 41, metric="calls")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        p1 = uow.pushes.get("p1")
    assert (by_id, by_metric, p1) == (
        1,
        1,
        push("p1", next_attempt_us=40, updated_us=40),
    )


def test_stats_count_unsent_pushes_of_every_tenant(any_store: AnyStore) -> None:
    add(any_store, push("p1", created_us=7), push("p2", status=FAILED), push("p3", status=SENT))
    with any_store.unit_of_work("other") as uow:
        uow.pushes.add(push("q1", created_us=4)._replace(tenant_id="other"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert uow.pushes.stats() == PushStats(2, 1, 4)


OPS = st.lists(
    st.tuples(st.sampled_from(["claim", "sent", "retry", "fail", "requeue"]), st.integers(0, 5)),
    max_size=25,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_no_push_is_handed_out_twice_while_its_lease_holds(
    any_store: AnyStore, ops: list[tuple[str, int]]
) -> None:
    """Claims, acknowledgements, retries, failures and requeues at a moving clock, checked
    against a model: a claimed push is pending, due, and not held under a live lease."""
    ids = [f"p{n}" for n in range(4)]
    tenant = f"h{uuid.uuid4().hex[:10]}"
    with any_store.unit_of_work(tenant) as uow:
        uow.pushes.add_many([push(i)._replace(tenant_id=tenant) for i in ids])
        uow.commit()
    now, lease = 100, 30
    held: dict[str, int] = {}
    status = dict.fromkeys(ids, PENDING)
    for op, n in ops:
        now += 7
        target = ids[n % len(ids)]
        with any_store.unit_of_work(tenant) as uow:
            if op == "claim":
                for row in uow.pushes.claim_due(now, lease, 2):
                    assert status[row.push_id] == PENDING
                    assert held.get(row.push_id, 0) <= now
                    held[row.push_id] = now + lease
            elif op == "sent" and target in held and status[target] == PENDING:
                uow.pushes.mark_sent(target, stripe_customer_id=None, now_us=now)
                status[target] = SENT
            elif op == "retry":
                uow.pushes.mark_retry(target, next_attempt_us=now, error="e", code=None, now_us=now)
                if status[target] == PENDING:
                    held.pop(target, None)
            elif op == "fail":
                uow.pushes.mark_failed(target, error="e", code=None, now_us=now)
                if status[target] == PENDING:
                    status[target] = FAILED
                    held.pop(target, None)
            elif op == "requeue":
                uow.pushes.requeue([target], now)
                if status[target] == FAILED:
                    status[target] = PENDING
            uow.commit()
        with any_store.unit_of_work(tenant, read_only=True) as uow:
            stored = {i: row.status for i in ids if (row := uow.pushes.get(i)) is not None}
        assert stored == status


def test_a_batch_past_the_in_list_bound_is_leased_read_and_marked_whole(
    any_store: AnyStore,
) -> None:
    """The lease, the push-state read and the sent marks each bind a batch as one value:
    600 rows (past the 500 an ``IN`` list took) all move, and only pending ones are marked."""
    refs = [f"c{n:03}" for n in range(600)]
    add(any_store, *(push(f"p{n:03}", customer=ref) for n, ref in enumerate(refs)))
    add(any_store, push("prepared", stripe_customer_id="cus_P"), push("gone", status=FAILED))
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.pushes.advance_many([(None, state(ref)) for ref in refs], 5)
        claimed = uow.pushes.claim_due(100, 50, 1000)
        found = uow.pushes.states("calls", [*refs, "nobody"])
        sent = [(f"p{n:03}", f"cus_{n}" if n % 2 else None) for n in range(600)]
        uow.pushes.mark_sent_many([*sent, ("prepared", None), ("gone", "cus_G")], 120)
        uow.commit()
    assert len(claimed) == 601
    assert sorted(found) == [("calls", ref, 0) for ref in refs]
    assert found[("calls", "c007", 0)] == state("c007")
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        rows = {n: uow.pushes.get(n) for n in ("p000", "p001", "p599", "prepared", "gone")}
    assert {n: (r.status, r.stripe_customer_id, r.attempts) for n, r in rows.items() if r} == {
        "p000": (SENT, None, 1),
        "p001": (SENT, "cus_1", 1),
        "p599": (SENT, "cus_599", 1),
        "prepared": (SENT, "cus_P", 1),
        "gone": (FAILED, None, 0),
    }
    assert rows["p599"] is not None and (rows["p599"].sent_us, rows["p599"].lease_until_us) == (
        120,
        None,
    )
