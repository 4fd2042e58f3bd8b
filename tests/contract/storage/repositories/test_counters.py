"""CountersRepository: a locked counter that is missing starts at zero and ``save`` stores
it, distinct values are recorded once, find filters, and a rebuild deletes and re-inserts.

Whether ``lock`` alone creates the row differs by store (PostgreSQL inserts it to lock it,
SQLite's one writer leaves it to ``save``); the pipeline always saves what it locked, so
the contract is lock-then-save and these tests use no other."""

from __future__ import annotations

from decimal import Decimal

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.service.ports.counters import StoredCounter
from tests.contract.storage.repositories.conftest import TENANT, AnyStore

A = ("calls", "cus_1", 100)
B = ("calls", "cus_2", 100)
C = ("gb", "cus_1", 200)


def locked_and_saved(store: AnyStore, periods: dict[tuple[str, str, int], int]) -> None:
    with store.unit_of_work(TENANT) as uow:
        uow.counters.save(uow.counters.lock(periods, 1).values(), 1)
        uow.commit()


def test_a_missing_counter_starts_at_zero(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({A: 150}, 1)
        uow.counters.save(locked.values(), 1)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = uow.counters.get(A)
    assert stored is not None
    assert (
        locked[A].period_end_us,
        stored.period_end_us,
        stored.state.count,
        stored.state.sum,
    ) == (150, 150, 0, Decimal(0))


def test_saved_changes_are_kept(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        counter = uow.counters.lock({A: 150}, 1)[A]
        counter.state.count, counter.state.sum = 3, Decimal("4.5")
        uow.counters.save([counter], 2)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = uow.counters.get(A)
    assert stored is not None and (stored.state.count, stored.state.sum) == (3, Decimal("4.5"))


def test_add_uniques_returns_only_new_values(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.counters.add_uniques([(*A, "x"), (*A, "y")])
        second = uow.counters.add_uniques([(*A, "y"), (*A, "z")])
        uow.commit()
    assert (set(first), set(second)) == ({(*A, "x"), (*A, "y")}, {(*A, "z")})


def test_find_filters_by_customer_metric_and_period(any_store: AnyStore) -> None:
    locked_and_saved(any_store, {A: 150, B: 150, C: 250})
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        mine = sorted(c.key for c in uow.counters.find(customer_ref="cus_1"))
        calls = sorted(c.key for c in uow.counters.find(metric="calls"))
        later = sorted(c.key for c in uow.counters.find(start_from_us=160))
        earlier = sorted(c.key for c in uow.counters.find(start_before_us=150))
    assert (mine, calls, later, earlier) == ([A, C], [A, B], [C], [A, B])


def test_a_rebuild_replaces_a_metrics_counters_and_values(any_store: AnyStore) -> None:
    locked_and_saved(any_store, {A: 150, B: 150, C: 250})
    with any_store.unit_of_work(TENANT) as uow:
        uow.counters.add_uniques([(*A, "x"), (*C, "x")])
        uow.counters.delete(metric="calls", customer_ref="cus_1")
        uow.counters.insert_many([StoredCounter(*A, 150, CounterState(count=9))], 2)
        uow.counters.insert_uniques([(*A, "q")])
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        rebuilt = uow.counters.get(A)
        left = sorted(c.key for c in uow.counters.find())
        new = uow.counters.add_uniques([(*A, "x"), (*A, "q"), (*C, "x")])
    assert rebuilt is not None
    assert (rebuilt.state.count, left, set(new)) == (9, [A, B, C], {(*A, "x")})


def test_every_state_column_is_saved_exactly_for_every_counter(any_store: AnyStore) -> None:
    """One save writes several counters, every column of each, nulls and exact decimals in
    any notation included (PostgreSQL receives them as one JSON document)."""
    states = {
        A: CounterState(
            7,
            Decimal("12345678901234567890.123456789"),
            Decimal("1E+3"),
            Decimal("-0.000000001"),
            Decimal("2.50"),
            -5,
            'k "1" \\ é',
            3,
            Decimal("-4.25"),
            Decimal("0.75"),
            2**62,
            2,
        ),
        B: CounterState(count=1, sum=Decimal("1E-9")),
    }
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({A: 150, B: 150}, 1)
        for key, state in states.items():
            locked[key].state = state
        uow.counters.save(locked.values(), 2)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = {key: uow.counters.get(key) for key in states}
    assert {key: c.state if c else None for key, c in stored.items()} == states


def test_a_counter_deleted_between_lock_and_save_does_not_stray(any_store: AnyStore) -> None:
    """SQLite's ``save`` writes a counter back by the row ``lock`` read it from: when that row
    is gone, the others are still written in place, and the deleted one is either left
    deleted (PostgreSQL, the fake: ``save`` updates) or stored as saved (SQLite: the
    fallback is its upsert), never written anywhere else."""
    locked_and_saved(any_store, {A: 150, B: 150})
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({A: 150, B: 150}, 1)
        uow.counters.delete(metric="calls", customer_ref="cus_2")
        for count, counter in enumerate(locked.values(), start=4):
            counter.state.count, counter.state.sum = count, Decimal("1.5")
        uow.counters.save(locked.values(), 2)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = {c.key: (c.state.count, c.state.sum) for c in uow.counters.find()}
    assert stored.pop(A) == (4, Decimal("1.5"))
    assert stored in ({}, {B: (5, Decimal("1.5"))})


def test_a_counter_claimed_again_before_save_is_saved_exactly(any_store: AnyStore) -> None:
    """PostgreSQL's ``save`` writes counters back by the row version ``lock`` claimed: a
    second claim in the same transaction writes a new version, and the first lock's
    counters must still be stored exactly (by key), none twice or lost."""
    locked_and_saved(any_store, {A: 150, B: 150})
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({A: 150, B: 150}, 1)
        uow.counters.lock({A: 150}, 1)
        for count, counter in enumerate(locked.values(), start=7):
            counter.state.count, counter.state.sum = count, Decimal("2.5")
        uow.counters.save(locked.values(), 2)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = {c.key: (c.state.count, c.state.sum) for c in uow.counters.find()}
    assert stored == {A: (7, Decimal("2.5")), B: (8, Decimal("2.5"))}


def test_lock_returns_stored_counters_as_they_are_and_missing_ones_at_zero(
    any_store: AnyStore,
) -> None:
    """One ``lock`` over counters that exist and counters that do not (ADR 0979 measured
    PostgreSQL claims that lock the stored ones apart from creating the missing ones): every
    key comes back, each stored one with its state, each new one at zero, and ``save``
    stores them all."""
    with any_store.unit_of_work(TENANT) as uow:
        counter = uow.counters.lock({B: 150}, 1)[B]
        counter.state.count, counter.state.sum = 3, Decimal("4.5")
        uow.counters.save([counter], 1)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        locked = uow.counters.lock({A: 150, B: 150, C: 250}, 2)
        seen = {key: (c.period_end_us, c.state.count, c.state.sum) for key, c in locked.items()}
        for counter in locked.values():
            counter.state.count += 1
        uow.counters.save(locked.values(), 2)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        stored = {c.key: c.state.count for c in uow.counters.find()}
    assert seen == {A: (150, 0, 0), B: (150, 3, Decimal("4.5")), C: (250, 0, 0)}
    assert stored == {A: 1, B: 4, C: 1}
