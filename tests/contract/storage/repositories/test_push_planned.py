"""The planner's writes as one statement each (PostgreSQL: one JSON value) and the lease of
rows a worker planned and holds (ADR 0965): every field stored as given; only rows no
claim has touched are leased; a claim beside held rows leaves their plans' rows only."""

from __future__ import annotations

from stripemeter_server.domain.stripe_mapping import SyncMode, Transport
from stripemeter_server.service.stripe_sync.ports.pushes import FAILED, PENDING
from tests.contract.storage.repositories.conftest import TENANT, AnyStore
from tests.contract.storage.repositories.test_pushes import add, push, state


def test_a_batch_of_rows_is_stored_field_for_field(any_store: AnyStore) -> None:
    """Every field, null and not, text with quotes and non-ASCII, amounts past 2**63."""
    full = push(
        "p_full",
        customer="cus \"q\" 'é' \\ ü",
        period_start_us=1_764_547_200_000_000,
        period_end_us=1_767_225_600_000_000,
        seq=7,
        mode=SyncMode.USAGE_RECORDS,
        transport=Transport.V2_STREAM,
        target="si_123",
        stripe_customer_id="cus_S",
        value=-(10**20),
        pushed_after=10**21 + 1,
        timestamp_s=1_765_000_000,
        status=FAILED,
        attempts=3,
        last_error='refused: "why" \n next line',
        last_error_code="resource_missing",
        next_attempt_us=9,
        lease_until_us=11,
        created_us=12,
        sent_us=13,
        updated_us=14,
    )
    bare = push("p_bare", created_us=20)
    add(any_store, full, bare)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = [uow.pushes.get("p_full"), uow.pushes.get("p_bare")]
    assert stored == [full, bare]


def test_new_and_moved_states_are_written_together(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.pushes.advance_many([(None, state("a")), (None, state("b", units=None))], 5)
        uow.commit()
    moved = state("a", seq=2, units=10**20)._replace(last_ts_s=77, counter_updated_us=88)
    with any_store.unit_of_work(TENANT) as uow:
        applied = uow.pushes.advance_many([(state("a"), moved), (None, state("c"))], 6)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        stale = uow.pushes.advance_many([(state("a"), moved)], 7)  # read at seq 1: moved on
        found = uow.pushes.states("calls", ["a", "b", "c"])
    assert (applied, stale) == (True, False)
    assert found == {
        ("calls", "a", 0): moved,
        ("calls", "b", 0): state("b", units=None),
        ("calls", "c", 0): state("c"),
    }


def test_held_rows_are_leased_only_as_planned(any_store: AnyStore) -> None:
    """``lease_planned`` leases pending due rows no claim has touched, in the given order;
    one another worker claimed (or recorded), one not yet due, one gone are left."""
    rows = [push(f"p{n}", created_us=50) for n in range(5)]
    add(any_store, *rows, push("later")._replace(next_attempt_us=500))
    with any_store.unit_of_work(TENANT) as uow:
        assert [r.push_id for r in uow.pushes.claim_ids(["p1", "p3"], 60, 10)] == ["p1", "p3"]
        uow.pushes.mark_sent("p3", stripe_customer_id=None, now_us=61)
        uow.commit()
    held = [rows[4], rows[1], rows[0], rows[3], push("later"), push("gone")]
    with any_store.unit_of_work(TENANT) as uow:
        leased = uow.pushes.lease_planned(held, 100, 50)
        again = uow.pushes.lease_planned(held, 100, 50)
        uow.commit()
    assert ([r.push_id for r in leased], again) == (["p4", "p0"], [])
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        p4, p1 = uow.pushes.get("p4"), uow.pushes.get("p1")
    assert p4 is not None and p1 is not None
    assert (p4.status, p4.attempts, p4.lease_until_us, p4.next_attempt_us) == (PENDING, 1, 150, 150)
    assert (p1.attempts, p1.lease_until_us) == (1, 70)  # the other claim's lease, untouched


def test_a_claim_beside_held_rows_leaves_their_plans_rows_only(any_store: AnyStore) -> None:
    """``planned_at``: never-claimed rows of those plans (a plan's rows share its
    ``created_us``) are the holder's; other plans' rows, and retries, are claimed as usual."""
    add(
        any_store,
        push("old", created_us=10),
        push("retry", created_us=30, attempts=2),
        push("held", created_us=30),
        push("held_too", created_us=35),
        push("newer", created_us=45),
    )
    with any_store.unit_of_work(TENANT) as uow:
        claimed = uow.pushes.claim_due(100, 50, 10, planned_at=[30, 35])
        rest = uow.pushes.claim_due(100, 50, 10)
        uow.commit()
    assert sorted(r.push_id for r in claimed) == ["newer", "old", "retry"]
    assert sorted(r.push_id for r in rest) == ["held", "held_too"]
