"""CreditGrantsRepository: add once (by id and by idempotency key), read, list, void."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from stripemeter_server.domain.credits import CreditCategory, CreditGrant
from stripemeter_server.domain.timestamps import to_micros
from tests.contract.storage.repositories.conftest import TENANT, AnyStore

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)


def grant(grant_id: str, key: str, when: datetime = JAN, customer: str = "cus_1") -> CreditGrant:
    return CreditGrant(
        grant_id,
        customer,
        Decimal("12.50"),
        "usd",
        CreditCategory.PAID,
        1,
        when,
        expires_at=FEB,
        applies_to=frozenset({"calls"}),
        idempotency_key=key,
    )


def test_a_grant_reads_back_with_its_creation_time_defaulted(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        added = uow.credit_grants.add(grant("g1", "k1"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.credit_grants.get("g1")
    assert (added, found) == (
        True,
        CreditGrant(
            "g1",
            "cus_1",
            Decimal("12.50"),
            "usd",
            CreditCategory.PAID,
            1,
            JAN,
            FEB,
            frozenset({"calls"}),
            None,
            "k1",
            JAN,
        ),
    )


def test_a_repeated_idempotency_key_adds_nothing(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        first = uow.credit_grants.add(grant("g1", "k1"))
        again = uow.credit_grants.add(grant("g2", "k1"))
        same_id = uow.credit_grants.add(grant("g1", "k9"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        by_key = uow.credit_grants.by_idempotency_key("k1")
    assert (first, again, same_id, by_key and by_key.grant_id) == (True, False, False, "g1")


def test_for_customer_lists_oldest_first(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.credit_grants.add(grant("g2", "k2", FEB))
        uow.credit_grants.add(grant("g1", "k1", JAN))
        uow.credit_grants.add(grant("g3", "k3", JAN, customer="cus_2"))
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        ids = [g.grant_id for g in uow.credit_grants.for_customer("cus_1")]
    assert ids == ["g1", "g2"]


def test_void_stamps_the_grant_once(any_store: AnyStore) -> None:
    with any_store.unit_of_work(TENANT) as uow:
        uow.credit_grants.add(grant("g1", "k1"))
        uow.credit_grants.void("g1", to_micros(FEB))
        uow.credit_grants.void("g1", to_micros(FEB) + 1)
        uow.commit()
    with any_store.unit_of_work(TENANT, read_only=True) as uow:
        found = uow.credit_grants.get("g1")
    assert found is not None and found.voided_at == FEB
