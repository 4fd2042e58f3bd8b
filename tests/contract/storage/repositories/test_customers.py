"""CustomersRepository: upsert keeps the creation time, lookups by ref and Stripe id."""

from __future__ import annotations

from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def _add(store: AnyStore, *records: CustomerRecord) -> None:
    with store.unit_of_work(TENANT) as uow:
        for record in records:
            uow.customers.upsert(record)
        uow.commit()


def test_upsert_updates_but_keeps_the_creation_time(any_store: AnyStore) -> None:
    _add(any_store, CustomerRecord("cus_1", None, None, None, 10, 10))
    _add(any_store, CustomerRecord("cus_1", "cus_S1", 15, "Europe/Berlin", 20, 20))
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert uow.customers.get("cus_1") == CustomerRecord(
            "cus_1", "cus_S1", 15, "Europe/Berlin", 10, 20
        )


def test_get_many_returns_only_the_known_refs(any_store: AnyStore) -> None:
    _add(
        any_store,
        CustomerRecord("a", None, None, None, 1, 1),
        CustomerRecord("b", None, None, None, 1, 1),
    )
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.customers.get_many(["a", "zz", "b"])
        everyone = uow.customers.everyone()
    assert (sorted(found), sorted(everyone)) == (["a", "b"], ["a", "b"])


def test_a_customer_is_found_by_its_stripe_id(any_store: AnyStore) -> None:
    _add(
        any_store,
        CustomerRecord("a", "cus_SA", None, None, 1, 1),
        CustomerRecord("b", "cus_SB", None, None, 1, 1),
    )
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        hit, miss = uow.customers.by_stripe_id("cus_SB"), uow.customers.by_stripe_id("cus_X")
    assert (hit.customer_ref if hit else None, miss) == ("b", None)
