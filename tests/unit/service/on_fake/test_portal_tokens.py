"""Portal tokens on the in-memory store: minted under a key, authenticated on every read,
ended by their own revocation, their expiry, or the minting key's end (frozen clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stripemeter_server.domain.errors import NotFoundError, UnauthorizedError, ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord
from stripemeter_server.service.portal.tokens import (
    USAGE_READ,
    MintedToken,
    TokenRequest,
    authenticate,
    end_tokens_of_key,
    list_tokens,
    mint_token,
    revoke_token,
)
from tests.support.fake_store import FakeStore
from tests.unit.service.on_fake.conftest import NOW, TENANT

KEY = "key_1"


@pytest.fixture
def keyed(store: FakeStore) -> FakeStore:
    with store.unit_of_work(TENANT) as uow:
        uow.api_keys.add(
            ApiKeyRecord(TENANT, KEY, "hash", "smk_", frozenset({"admin"}), None, 1, None)
        )
        uow.commit()
    return store


def mint(store: FakeStore, customer: str = "cus_a", expires_in: int = 3600) -> MintedToken:
    request = TokenRequest(customer, ("calls",), frozenset({USAGE_READ}), expires_in)
    with store.unit_of_work(TENANT, actor=KEY) as uow:
        minted = mint_token(uow, request, KEY, NOW)
        uow.commit()
    return minted


def check(store: FakeStore, presented: str, after: timedelta = timedelta(0)) -> str:
    """The customer the token reads, or the 401's code."""
    with store.unit_of_work() as uow:
        try:
            return authenticate(uow, presented, NOW + after).customer_ref
        except UnauthorizedError as refused:
            return refused.code


def test_a_minted_token_authenticates_as_its_customer(keyed: FakeStore) -> None:
    assert check(keyed, mint(keyed).token) == "cus_a"


def test_a_tampered_secret_is_refused(keyed: FakeStore) -> None:
    assert check(keyed, mint(keyed).token + "x") == "invalid_portal_token"


def test_a_token_expires_at_its_expiry(keyed: FakeStore) -> None:
    token = mint(keyed, expires_in=600).token
    assert check(keyed, token, timedelta(seconds=600)) == "expired_portal_token"


def test_a_revoked_token_is_refused(keyed: FakeStore) -> None:
    minted = mint(keyed)
    with keyed.unit_of_work(TENANT) as uow:
        revoke_token(uow, minted.record.token_id, NOW)
        uow.commit()
    assert check(keyed, minted.token) == "revoked_portal_token"


def test_revoking_a_token_twice_is_not_found(keyed: FakeStore) -> None:
    minted = mint(keyed)
    with keyed.unit_of_work(TENANT) as uow:
        revoke_token(uow, minted.record.token_id, NOW)
        with pytest.raises(NotFoundError):
            revoke_token(uow, minted.record.token_id, NOW)


def test_the_end_of_the_minting_key_ends_its_tokens(keyed: FakeStore) -> None:
    minted = mint(keyed)
    with keyed.unit_of_work(TENANT) as uow:
        uow.api_keys.revoke(TENANT, KEY, to_micros(NOW))
        end_tokens_of_key(uow, TENANT, KEY, NOW)
        uow.commit()
    with keyed.unit_of_work(TENANT) as uow:
        revoked = [t.revoked_us for t in list_tokens(uow, None)]
    assert (check(keyed, minted.token), revoked) == ("revoked_portal_token", [to_micros(NOW)])


def test_a_token_for_an_unknown_metric_is_refused(keyed: FakeStore) -> None:
    request = TokenRequest("cus_a", ("nope",), frozenset({USAGE_READ}), 3600)
    with keyed.unit_of_work(TENANT) as uow, pytest.raises(ValidationError) as refused:
        mint_token(uow, request, KEY, NOW)
    assert refused.value.code == "metric_not_found"


def test_minting_is_audited_under_the_minting_key(keyed: FakeStore) -> None:
    minted = mint(keyed)
    entries = [(r.actor, r.action, r.target_id) for _, r in keyed.data.audit]
    assert entries == [(KEY, "portal_token.create", minted.record.token_id)]
