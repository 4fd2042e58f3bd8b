"""StripeAccountsRepository, MappingsRepository, StripeCustomersRepository and
SubscriptionItemsRepository: upserts that keep the row's creation time, deletes that say
whether a row went, the reverse customer lookup in ``customer_ref`` order."""

from __future__ import annotations

from stripemeter_server.service.stripe_sync.ports.accounts import StoredMapping, StoredStripeAccount
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    LOOKUP,
    OVERRIDE,
    SubscriptionItemRecord,
)
from tests.contract.storage.repositories.conftest import TENANT, AnyStore


def account(created_us: int, updated_us: int, last4: str = "4242") -> StoredStripeAccount:
    return StoredStripeAccount("enc:sk", "enc:wh", None, last4, False, created_us, updated_us)


def test_an_account_is_put_replaced_and_deleted(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        missing = uow.stripe_accounts.get()
        uow.stripe_accounts.put(account(1, 1))
        uow.stripe_accounts.put(account(9, 9, "0000"))
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        kept = uow.stripe_accounts.get()
        deleted, again = uow.stripe_accounts.delete(), uow.stripe_accounts.delete()
        uow.commit()
    assert (missing, kept, deleted, again) == (None, account(1, 9, "0000"), True, False)


def test_an_account_belongs_to_its_tenant(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.stripe_accounts.put(account(1, 1))
        uow.commit()
    with any_store.unit_of_work("other", read_only=True) as uow:
        assert uow.stripe_accounts.get() is None


def test_mappings_are_upserted_listed_in_metric_order_and_deleted(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.mappings.put("tokens", '{"v":1}', 5)
        uow.mappings.put("calls", '{"v":1}', 6)
        uow.mappings.put("tokens", '{"v":2}', 7)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        listed = uow.mappings.all()
        deleted, again = uow.mappings.delete("calls"), uow.mappings.delete("calls")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        left = (uow.mappings.get("calls"), uow.mappings.get("tokens"))
    assert listed == [
        StoredMapping("calls", '{"v":1}', 6, 6),
        StoredMapping("tokens", '{"v":2}', 5, 7),
    ]
    assert (deleted, again, left) == (True, False, (None, listed[1]))


def test_stripe_customers_are_cached_looked_up_both_ways_and_forgotten(
    any_store: AnyStore,
) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.stripe_customers.put("zed", "cus_1", 1)
        uow.stripe_customers.put("amy", "cus_1", 1)
        uow.stripe_customers.put("bob", "cus_2", 1)
        uow.stripe_customers.put("bob", "cus_3", 2)
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        found = (uow.stripe_customers.get("bob"), uow.stripe_customers.ref_for("cus_1"))
        unknown = (uow.stripe_customers.get("nobody"), uow.stripe_customers.ref_for("cus_2"))
        uow.stripe_customers.forget("amy")
        uow.stripe_customers.forget("nobody")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        after = uow.stripe_customers.ref_for("cus_1")
    assert (found, unknown, after) == (("cus_3", "amy"), (None, None), "zed")


def test_subscription_items_are_upserted_and_deleted(any_store: AnyStore) -> None:
    first = SubscriptionItemRecord("cus", "calls", "si_1", None, LOOKUP, 1)
    second = SubscriptionItemRecord("cus", "calls", "si_2", 1_700_000_000, OVERRIDE, 2)
    with any_store.unit_of_work(TENANT) as uow:
        uow.subscription_items.put(first)
        uow.subscription_items.put(second)
        uow.subscription_items.put(SubscriptionItemRecord("cus", "tokens", "si_9", None, LOOKUP, 3))
        uow.commit()
    with any_store.unit_of_work(TENANT) as uow:
        kept = uow.subscription_items.get("cus", "calls")
        deleted = uow.subscription_items.delete("cus", "tokens")
        again = uow.subscription_items.delete("cus", "tokens")
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        gone = uow.subscription_items.get("cus", "tokens")
    assert (kept, deleted, again, gone) == (second, True, False, None)
