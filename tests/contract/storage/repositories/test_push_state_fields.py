"""A push state written and read back field by field, on both stores: states are named
tuples built by position on the way in and out (ADR 0983), so a field out of place would
show here (every field has a value of its own), not only as a wrong total at Stripe."""

from __future__ import annotations

from stripemeter_server.service.stripe_sync.ports.pushes import PushState
from tests.contract.storage.repositories.conftest import TENANT, AnyStore

FRESH = PushState(
    metric="calls",
    customer_ref="cus_1",
    period_start_us=1_000,
    period_end_us=2_000,
    target="meter_events:api_calls",
    pushed_units=10**20 + 7,  # above a 64-bit integer: the numeric's text, not a float
    next_seq=3,
    last_ts_s=4_000,
    counter_updated_us=5_000,
)
MOVED = FRESH._replace(
    period_end_us=2_500,
    target="meter_events:other",
    pushed_units=11,
    next_seq=4,
    last_ts_s=4_500,
    counter_updated_us=6_000,
)


def _read(store: AnyStore) -> PushState:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.pushes.states("calls", ["cus_1"])
    assert list(found) == [("calls", "cus_1", 1_000)]
    return found[("calls", "cus_1", 1_000)]


def test_a_new_state_reads_back_field_by_field(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.pushes.advance_many([(None, FRESH)], 7_000)
        uow.commit()
    read = _read(any_store)
    assert read._asdict() == FRESH._asdict()
    assert read.key == ("calls", "cus_1", 1_000)


def test_a_moved_state_reads_back_field_by_field(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.pushes.advance_many([(None, FRESH)], 7_000)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.pushes.advance_many([(FRESH, MOVED)], 8_000)
        assert not uow.pushes.advance_many([(FRESH, MOVED._replace(next_seq=5))], 9_000)
        uow.commit()
    assert _read(any_store)._asdict() == MOVED._asdict()


def test_an_orphaned_state_reads_back_field_by_field(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.pushes.advance_many([(None, FRESH)], 7_000)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        orphans = uow.pushes.orphaned_states("calls", 0)
    assert [o._asdict() for o in orphans] == [FRESH._asdict()]
