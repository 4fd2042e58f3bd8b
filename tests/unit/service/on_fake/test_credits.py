"""Credit grant use cases on the in-memory store."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest

from stripemeter_server.domain.credit_parsing import credit_grant_from_dict
from stripemeter_server.domain.errors import ConflictError, NotFoundError
from stripemeter_server.service.credits.balance import credit_summary
from stripemeter_server.service.credits.grants import (
    create_grant,
    get_grant,
    new_grant_id,
    void_grant,
)
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW, TENANT

GRANT = {"amount": "25", "unit": "calls", "idempotencyKey": "g-1"}


def grant(store: FakeStore, body: Mapping[str, object]) -> tuple[str, bool]:
    with store.unit_of_work(TENANT) as uow:
        created, new = create_grant(
            uow, credit_grant_from_dict(new_grant_id(), "cus_a", body, NOW), NOW
        )
        uow.commit()
    return created.grant_id, new


def test_a_replayed_grant_answers_the_first(store: FakeStore) -> None:
    first, created = grant(store, GRANT)
    again, created_again = grant(store, GRANT)
    assert (again, created, created_again) == (first, True, False)


def test_reusing_the_key_for_other_terms_conflicts(store: FakeStore) -> None:
    grant(store, GRANT)
    with pytest.raises(ConflictError) as refused:
        grant(store, {**GRANT, "amount": "30"})
    assert refused.value.field == "idempotencyKey"


def test_another_customers_grant_is_not_found(store: FakeStore) -> None:
    grant_id, _ = grant(store, GRANT)
    with store.unit_of_work(TENANT) as uow, pytest.raises(NotFoundError):
        get_grant(uow, "cus_b", grant_id)


def test_a_voided_grant_leaves_no_balance(store: FakeStore) -> None:
    grant_id, _ = grant(store, GRANT)
    with store.unit_of_work(TENANT) as uow:
        before = credit_summary(uow, "cus_a", NOW)
        void_grant(uow, "cus_a", grant_id, NOW)
        uow.commit()
    with store.unit_of_work(TENANT) as uow:
        after = credit_summary(uow, "cus_a", NOW)
    assert ([b.balance for b in before.balances], [g.status for g in after.grants]) == (
        [Decimal("25")],
        ["voided"],
    )
