"""``StampedGrantReads`` (ADR 0950): the key stamp and the grant's view in one statement
answer what ``ApiKeysRepository.stamp`` and ``GrantsRepository.view`` / ``lock_view``
answer apart — with no feature, no grant, a grant, and after a key of the tenant is revoked
— on the fake, SQLite and PostgreSQL; and the reads and writes run on the driver
(``driver_statements.py``) keep every value's type and every decimal exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, CustomerRecord
from stripemeter_server.service.entitlements.ports import HELD, GrantView, Reservation
from tests.contract.storage.repositories.conftest import TENANT, AnyStore
from tests.contract.storage.repositories.test_grants import grant
from tests.contract.storage.repositories.test_window_balance import entry, extra

API = '{"aggregation":"sum","code":"api"}'


def _key(key_id: str) -> ApiKeyRecord:
    return ApiKeyRecord(
        TENANT, key_id, f"hash_{key_id}", "smk_x", frozenset({"read"}), None, 1, None
    )


def _apart(store: AnyStore, customer: str, feature: str) -> tuple[object, GrantView, object]:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        stamp = uow.api_keys.stamp(TENANT)
        view = uow.grants.view(customer, feature)
    with store.unit_of_work(TENANT) as uow:
        locked = uow.grants.lock_view(customer, feature)
    return stamp, view, locked


def _together(store: AnyStore, customer: str, feature: str) -> tuple[object, GrantView, object]:
    with store.unit_of_work(TENANT, read_only=True) as uow:
        stamp, view = uow.stamped_grants.view(customer, feature)
    with store.unit_of_work(TENANT) as uow:
        locked_stamp, locked = uow.stamped_grants.lock_view(customer, feature)
    assert locked_stamp == stamp
    return stamp, view, locked


def _seed(store: AnyStore) -> None:
    with store.unit_of_work(TENANT) as uow:
        uow.api_keys.add(_key("key_1"))
        uow.metrics.add("api", API, 1)
        uow.features.put("calls", "metered", '{"metric":"api"}', 1)
        uow.features.put("sso", "boolean", "{}", 1)
        uow.features.put("ghost", "metered", '{"metric":"gone"}', 1)
        uow.grants.put(grant("calls", limit="12.50"), 10)
        uow.grants.put(grant("ghost"), 10)
        uow.customers.upsert(CustomerRecord("cus_1", "cus_stripe", 15, "Europe/Paris", 3, 4))
        uow.commit()


CASES = [
    ("cus_1", "calls"),  # a grant, its metric and the customer
    ("cus_1", "ghost"),  # a grant whose metric does not exist
    ("cus_1", "sso"),  # a feature without a grant
    ("cus_2", "calls"),  # no grant, no customer record
    ("cus_1", "nope"),  # no feature
    ("cüs_é", "calls"),  # a non-ASCII ref
]


@pytest.mark.parametrize(("customer", "feature"), CASES)
def test_the_stamped_reads_answer_as_the_reads_apart(
    any_store: AnyStore, customer: str, feature: str
) -> None:
    _seed(any_store)
    assert _together(any_store, customer, feature) == _apart(any_store, customer, feature)


def test_an_empty_tenant_has_a_stamp_and_nothing_else(any_store: AnyStore) -> None:
    stamp, view, locked = _together(any_store, "cus_1", "calls")
    assert (view, locked) == (GrantView(None, None, None), None)
    assert stamp == _apart(any_store, "cus_1", "calls")[0]


def test_a_revoked_key_moves_the_stamp_the_view_reads(any_store: AnyStore) -> None:
    _seed(any_store)
    before = _together(any_store, "cus_1", "calls")
    with any_store.unit_of_work(TENANT) as uow:
        assert uow.api_keys.revoke(TENANT, "key_1", 20)
        uow.commit()
    after = _together(any_store, "cus_1", "calls")
    assert after[0] != before[0]
    assert after == _apart(any_store, "cus_1", "calls")
    assert after[1:] == before[1:]


def test_the_view_keeps_every_value_exact(any_store: AnyStore) -> None:
    _seed(any_store)
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        _, view = uow.stamped_grants.view("cus_1", "calls")
    assert view.grant is not None
    limit = view.grant.grant.limit
    assert (limit, str(limit), type(view.grant.grant.enabled)) == (Decimal("12.50"), "12.50", bool)
    assert view.customer == CustomerRecord("cus_1", "cus_stripe", 15, "Europe/Paris", 3, 4)


def test_a_hold_written_on_the_driver_is_read_back_exactly(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.grants.add_extra(extra("ex_1", "0.10"))
        uow.grants.add_extra(extra("ex_2", "1E+1"))
        held = Reservation("r1", "cus_1", "calls", Decimal("2.50"), HELD, "k1", 10, 500)
        assert uow.reservations.hold(held, entry("au_1"))
        again = Reservation("r2", "cus_1", "calls", Decimal("9"), HELD, "k1", 10, 500)
        assert not uow.reservations.hold(again, entry("au_2"))  # the key is taken: nothing
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.reservations.window_balance("api", "cus_1", "calls", 100, 200)
        kept = uow.reservations.by_idempotency_key("k1")
    assert (found.extras, found.held, found.counter) == (Decimal("10.10"), Decimal("2.50"), None)
    assert kept == held


def test_the_locked_view_opens_the_transaction_its_writes_belong_to(any_store: AnyStore) -> None:
    """The locked view is the reservation's first statement (ADR 0950, 0959): the hold written
    after it belongs to its transaction, undone by a rollback and kept by a commit, and the
    next unit of work opens its own transaction again."""
    _seed(any_store)
    for key, commit in (("k_rolled", False), ("k_kept", True)):
        with any_store.unit_of_work(TENANT) as uow:
            _, locked = uow.stamped_grants.lock_view("cus_1", "calls")
            assert locked is not None
            held = Reservation(f"r_{key}", "cus_1", "calls", Decimal("1"), HELD, key, 10, 500)
            assert uow.reservations.hold(held, entry(f"au_{key}"))
            if commit:
                uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        rolled, kept = (uow.reservations.by_idempotency_key(k) for k in ("k_rolled", "k_kept"))
        balance = uow.reservations.window_balance("api", "cus_1", "calls", 100, 200)
    assert (rolled, kept is not None, balance.held) == (None, True, Decimal("1"))
