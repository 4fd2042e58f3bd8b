"""GrantsRepository: entitlement grants put, read, locked, listed and deleted, read with
their feature and customer record in one view, and the one-off extras kept once per
idempotency key and listed per usage window."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stripemeter_server.domain.entitlements import Enforcement, Grant
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.entitlements.ports import ExtraGrant, GrantRecord, GrantView
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


def test_view_reads_the_feature_the_grant_and_the_customer_record(any_store: AnyStore) -> None:
    anchored = CustomerRecord("cus_1", None, 15, "Europe/Paris", 3, 4)
    with any_store.unit_of_work(TENANT) as uow:
        uow.features.put("calls", "metered", '{"metric": "api"}', 1)
        uow.grants.put(grant("calls"), 10)
        uow.grants.put(grant("calls", customer="cus_2"), 10)
        uow.customers.upsert(anchored)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        feature, record = uow.features.get("calls"), uow.grants.get("cus_1", "calls")
        both = uow.grants.view("cus_1", "calls")
        no_record = uow.grants.view("cus_2", "calls")
        no_grant = uow.grants.view("cus_3", "calls")
        no_feature = uow.grants.view("cus_1", "seats")
    with any_store.unit_of_work(TENANT) as uow:
        locked, unlocked = (
            uow.grants.lock_view("cus_1", "calls"),
            uow.grants.lock_view("cus_3", "calls"),
        )
    assert feature is not None and record is not None
    assert both == locked == GrantView(feature, record, anchored)
    assert no_record == GrantView(feature, uow_grant(any_store, "cus_2"), None)
    assert (no_grant, no_feature, unlocked) == (
        GrantView(feature, None, None),
        GrantView(None, None, None),
        None,
    )


def uow_grant(store: AnyStore, customer: str) -> GrantRecord | None:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        return uow.grants.get(customer, "calls")
