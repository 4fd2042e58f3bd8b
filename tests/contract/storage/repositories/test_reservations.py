"""ReservationsRepository: one reservation per idempotency key, the held total counts only
held and unexpired reservations, and finishing records how it ended."""

from __future__ import annotations

from decimal import Decimal

from stripemeter_server.service.entitlements.ports import COMMITTED, HELD, Reservation
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def hold(
    reservation_id: str,
    key: str,
    quantity: str = "3",
    expires_us: int = 100,
    feature: str = "calls",
) -> Reservation:
    return Reservation(
        reservation_id, "cus_1", feature, Decimal(quantity), HELD, key, 10, expires_us
    )


def test_a_reservation_is_kept_once_per_idempotency_key(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.reservations.add(hold("rs_1", "k1"))
        again = uow.reservations.add(hold("rs_2", "k1"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        by_id, by_key = uow.reservations.get("rs_1"), uow.reservations.by_idempotency_key("k1")
        missing = uow.reservations.get("rs_2")
    assert (first, again, by_id, by_key, missing) == (
        True,
        False,
        hold("rs_1", "k1"),
        hold("rs_1", "k1"),
        None,
    )


def test_the_held_total_counts_held_unexpired_reservations(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.reservations.add(hold("rs_1", "k1", "2.5"))
        uow.reservations.add(hold("rs_2", "k2", "4"))
        uow.reservations.add(hold("rs_3", "k3", "7", expires_us=50))
        uow.reservations.add(hold("rs_4", "k4", "9", feature="seats"))
        uow.reservations.finish("rs_2", COMMITTED, 40, committed_quantity=Decimal("4"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        early = uow.reservations.held_total("cus_1", "calls", 40)
        late = uow.reservations.held_total("cus_1", "calls", 60)
    assert (early, late) == (Decimal("9.5"), Decimal("2.5"))


def test_finishing_records_how_it_ended(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.reservations.add(hold("rs_1", "k1"))
        uow.reservations.finish(
            "rs_1", COMMITTED, 40, committed_quantity=Decimal("2"), event_key="ev_1"
        )
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.reservations.get("rs_1")
    assert found is not None
    assert (
        found.status,
        found.finished_us,
        found.committed_quantity,
        found.event_key,
        found.state_at(200),
    ) == (COMMITTED, 40, Decimal("2"), "ev_1", COMMITTED)
