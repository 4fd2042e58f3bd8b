"""MetricsRepository: add once, replace, delete, all in code order."""

from __future__ import annotations

from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def test_add_refuses_a_code_that_exists(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.metrics.add("calls", '{"v":1}', 10)
        second = uow.metrics.add("calls", '{"v":2}', 11)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        kept = uow.metrics.get("calls")
    assert (first, second, kept) == (True, False, '{"v":1}')


def test_replace_changes_the_definition(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.metrics.add("calls", '{"v":1}', 10)
        uow.metrics.replace("calls", '{"v":3}', 12)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        assert uow.metrics.get("calls") == '{"v":3}'


def test_all_lists_codes_in_order_and_delete_removes_one(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for code in ("storage", "api", "seats"):
            uow.metrics.add(code, f'"{code}"', 10)
        deleted = uow.metrics.delete("seats")
        again = uow.metrics.delete("seats")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        everything = uow.metrics.all()
    assert (list(everything), deleted, again) == (["api", "storage"], True, False)


def test_metrics_belong_to_their_tenant(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.metrics.add("calls", '"x"', 10)
        uow.commit()
    with any_store.unit_of_work("other", read_only=True) as uow:
        assert uow.metrics.all() == {}
