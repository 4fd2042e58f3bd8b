"""PricesRepository: put creates then replaces, a customer sees its own and the defaults."""

from __future__ import annotations

from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def test_put_creates_then_replaces_keeping_the_creation_time(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        created = uow.prices.put("calls", DEFAULT_CUSTOMER, '"a"', 10)
        replaced = uow.prices.put("calls", DEFAULT_CUSTOMER, '"b"', 20)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        price = uow.prices.get("calls", DEFAULT_CUSTOMER)
    assert price is not None
    assert (created, replaced, price.definition, price.created_us, price.updated_us) == (
        True,
        False,
        '"b"',
        10,
        20,
    )


def test_for_customer_lists_its_overrides_and_the_defaults(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.prices.put("calls", DEFAULT_CUSTOMER, '"d"', 10)
        uow.prices.put("calls", "cus_1", '"o"', 10)
        uow.prices.put("gb", "cus_2", '"x"', 10)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        mine = sorted((p.metric, p.customer_ref) for p in uow.prices.for_customer("cus_1"))
    assert mine == [("calls", DEFAULT_CUSTOMER), ("calls", "cus_1")]


def test_list_filters_and_delete_removes(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.prices.put("calls", DEFAULT_CUSTOMER, '"d"', 10)
        uow.prices.put("calls", "cus_1", '"o"', 10)
        uow.prices.put("gb", DEFAULT_CUSTOMER, '"g"', 10)
        deleted = uow.prices.delete("calls", "cus_1")
        again = uow.prices.delete("calls", "cus_1")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        calls = [(p.metric, p.customer_ref) for p in uow.prices.list(metric="calls")]
        total = len(uow.prices.list())
    assert (calls, total, deleted, again) == ([("calls", DEFAULT_CUSTOMER)], 2, True, False)
