"""TenantsRepository: add, get, list in id order, whether any tenant exists."""

from __future__ import annotations

from stripemeter_server.service.catalog.ports.definitions import TenantRecord
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def test_a_tenant_reads_back_as_added(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        uow.tenants.add(TenantRecord("beta", None, True, 5))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        assert uow.tenants.get("beta") == TenantRecord("beta", None, True, 5)


def test_an_unknown_tenant_is_none(any_store: AnyStore) -> None:
    with any_store.unit_of_work(read_only=True) as uow:
        assert uow.tenants.get("nobody") is None


def test_list_is_in_id_order(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        uow.tenants.add(TenantRecord("zeta", None, False, 2))
        uow.tenants.add(TenantRecord("alpha", None, False, 3))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        ids = [t.tenant_id for t in uow.tenants.list()]
    assert ids == ["acme", "alpha", "zeta"]


def test_any_exist_says_whether_any_tenant_exists(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        uow.tenants.add(TenantRecord("zeta", None, False, 2))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        assert uow.tenants.any_exist() is True


def test_an_empty_store_has_no_tenant(empty_store: AnyStore) -> None:
    with empty_store.unit_of_work(read_only=True) as uow:
        assert (uow.tenants.any_exist(), uow.tenants.list()) == (False, [])


def test_a_unit_of_work_left_without_commit_keeps_nothing(any_store: AnyStore) -> None:
    with any_store.unit_of_work() as uow:
        uow.tenants.add(TenantRecord("ghost", None, False, 4))
    with any_store.unit_of_work(read_only=True) as uow:
        assert [t.tenant_id for t in uow.tenants.list()] == [TENANT]
