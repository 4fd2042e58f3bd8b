"""A tenant's Stripe account (secrets sealed), metric mappings, customer ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredStripeAccount:
    """As stored: the secrets are ciphertexts; only ``storage/secret_box.py`` opens them."""

    secret_key_enc: str
    webhook_secret_enc: str | None
    api_base: str | None
    key_last4: str
    livemode: bool
    created_us: int
    updated_us: int
    # The webhook secret a rotation replaced, accepted until ``previous_valid_until_us``.
    previous_webhook_secret_enc: str | None = None
    previous_valid_until_us: int | None = None


@dataclass(frozen=True, slots=True)
class StoredMapping:
    metric: str
    definition: str
    created_us: int
    updated_us: int


class StripeAccountsRepository(Protocol):
    def get(self) -> StoredStripeAccount | None: ...

    def put(self, account: StoredStripeAccount) -> None: ...

    def delete(self) -> bool: ...


class MappingsRepository(Protocol):
    def get(self, metric: str) -> StoredMapping | None: ...

    def all(self) -> list[StoredMapping]: ...

    def put(self, metric: str, definition: str, now_us: int) -> None: ...

    def delete(self, metric: str) -> bool: ...


class StripeCustomersRepository(Protocol):
    def get(self, customer_ref: str) -> str | None: ...

    def ref_for(self, stripe_customer_id: str) -> str | None: ...

    def put(self, customer_ref: str, stripe_customer_id: str, now_us: int) -> None: ...

    def forget(self, customer_ref: str) -> None: ...
