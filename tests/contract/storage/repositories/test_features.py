"""FeaturesRepository: put inserts or replaces (keeping the creation time), list in key
order, delete."""

from __future__ import annotations

from stripemeter_server.service.entitlements.ports import StoredFeature
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def test_put_answers_whether_the_feature_is_new(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.features.put("seats", "metered", '{"v":1}', 10)
        again = uow.features.put("seats", "static", '{"v":2}', 20)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.features.get("seats")
    assert (first, again, found) == (
        True,
        False,
        StoredFeature("seats", "static", '{"v":2}', 10, 20),
    )


def test_list_is_in_key_order_and_delete_removes(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for key in ("sso", "api", "seats"):
            uow.features.put(key, "boolean", "{}", 10)
        deleted, again = uow.features.delete("sso"), uow.features.delete("sso")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        keys = [f.key for f in uow.features.list()]
    assert (keys, deleted, again) == (["api", "seats"], True, False)
