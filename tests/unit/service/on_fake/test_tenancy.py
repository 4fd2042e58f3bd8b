"""The bootstrap on the in-memory store: an empty store gets tenant ``default`` and one
admin key, once."""

from __future__ import annotations

from stripemeter_server.service.operations.tenancy import bootstrap
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW


def test_an_empty_store_gets_the_default_tenant_and_one_key() -> None:
    store = FakeStore()
    with store.unit_of_work() as uow:
        issued = bootstrap(uow, NOW, None)
        uow.commit()
    with store.unit_of_work() as uow:
        keys = [(k.tenant_id, k.label) for k in uow.api_keys.list()]
        tenants = [t.tenant_id for t in uow.tenants.list()]
    assert (issued is not None, tenants, keys) == (True, ["default"], [("default", "bootstrap")])


def test_a_store_with_a_tenant_is_not_bootstrapped_again() -> None:
    store = FakeStore()
    store.add_tenant("acme", NOW)
    with store.unit_of_work() as uow:
        issued = bootstrap(uow, NOW, None)
        keys = uow.api_keys.list()
    assert (issued, keys) == (None, [])
