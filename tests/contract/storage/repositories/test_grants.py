"""GrantsRepository: entitlement grants put, read, locked, listed and deleted, and the
one-off extras kept once per idempotency key and listed per usage window."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stripemeter_server.domain.entitlements import Enforcement, Grant
from stripemeter_server.service.entitlements.ports import ExtraGrant
from tests.contract.storage.repositories.conftest import TENANT, AnyStore

JAN = datetime(2025, 1, 1, tzinfo=UTC)


def grant(feature: str, customer: str = "cus_1", limit: str = "100") -> Grant:
    return Grant(
        customer,
        feature,
        True,
        Decimal(limit),
        Enforcement.SOFT,
        Decimal("5"),
        None,
        JAN,
        None,
        True,
    )


def extra(extra_id: str, key: str | None, created_us: int, window: int = 100) -> ExtraGrant:
    return ExtraGrant(
        extra_id, "cus_1", "calls", Decimal("50"), window, window + 10, key, "pack", created_us
    )


def test_put_creates_then_replaces_keeping_the_creation_time(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.grants.put(grant("calls"), 10)
        again = uow.grants.put(grant("calls", limit="200"), 20)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        found, locked = uow.grants.get("cus_1", "calls"), uow.grants.lock("cus_1", "calls")
    assert found is not None and found == locked
    assert (first, again, found.grant, found.created_us, found.updated_us) == (
        True,
        False,
        grant("calls", limit="200"),
        10,
        20,
    )


def test_for_customer_lists_by_feature_and_delete_removes(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        for feature in ("seats", "api", "sso"):
            uow.grants.put(grant(feature), 10)
        uow.grants.put(grant("api", customer="cus_2"), 10)
        deleted, again = uow.grants.delete("cus_1", "sso"), uow.grants.delete("cus_1", "sso")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        mine = [g.grant.feature for g in uow.grants.for_customer("cus_1")]
        missing = uow.grants.get("cus_1", "sso")
    assert (mine, deleted, again, missing) == (["api", "seats"], True, False, None)


def test_an_extra_is_kept_once_per_idempotency_key(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.grants.add_extra(extra("ex_1", "k1", 5))
        again = uow.grants.add_extra(extra("ex_2", "k1", 6))
        unkeyed = uow.grants.add_extra(extra("ex_3", None, 7))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        by_key = uow.grants.extra_by_key("k1")
    assert (first, again, unkeyed, by_key) == (True, False, True, extra("ex_1", "k1", 5))


def test_extras_are_listed_per_window_oldest_first(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.grants.add_extra(extra("ex_b", None, 7))
        uow.grants.add_extra(extra("ex_a", None, 7))
        uow.grants.add_extra(extra("ex_c", None, 3))
        uow.grants.add_extra(extra("ex_d", None, 1, window=200))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        listed = [e.extra_id for e in uow.grants.extras("cus_1", "calls", 100)]
    assert listed == ["ex_c", "ex_a", "ex_b"]
