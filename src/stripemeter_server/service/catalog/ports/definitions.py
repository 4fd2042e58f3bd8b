"""Tenants, API keys, metric definitions and customers: records and repository ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TenantRecord:
    tenant_id: str
    name: str | None
    auto_create_metrics: bool
    created_us: int


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    tenant_id: str
    key_id: str
    key_hash: str
    prefix: str
    scopes: frozenset[str]
    label: str | None
    created_us: int
    revoked_us: int | None
    expires_us: int | None = None  # a rotated key's grace end (migration 0008)


@dataclass(frozen=True, slots=True)
class KeyStamp:
    """What decides whether a cached key is still good: how many revocations and rotations
    the tenant's keys have seen (each sets a column that is never cleared, so the count only
    grows) and the tenant's own rate limits. Equal stamps: nothing changed in between."""

    revisions: int
    rate_per_second: float | None
    burst: float | None


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    customer_ref: str
    stripe_customer_id: str | None
    anchor_day: int | None
    timezone: str | None
    created_us: int
    updated_us: int


class TenantsRepository(Protocol):
    def get(self, tenant_id: str) -> TenantRecord | None: ...

    def list(self) -> list[TenantRecord]: ...

    def add(self, record: TenantRecord) -> None: ...

    def any_exist(self) -> bool:
        """Whether any tenant exists: the bootstrap only asks whether the store is empty,
        and the adapter answers with a one-row read, never a full count."""
        ...


class ApiKeysRepository(Protocol):
    def add(self, record: ApiKeyRecord) -> None: ...

    def by_hash(self, key_hash: str) -> ApiKeyRecord | None: ...

    def list(self, tenant_id: str | None = None) -> list[ApiKeyRecord]: ...

    def revoke(self, tenant_id: str, key_id: str, now_us: int) -> bool: ...

    def expire(self, tenant_id: str, key_id: str, at_us: int) -> bool: ...

    def stamp(self, tenant_id: str) -> KeyStamp: ...


class MetricsRepository(Protocol):
    def all(self) -> dict[str, str]: ...

    def get(self, code: str) -> str | None: ...

    def add(self, code: str, definition: str, now_us: int) -> bool: ...

    def replace(self, code: str, definition: str, now_us: int) -> None: ...

    def delete(self, code: str) -> bool: ...


class CustomersRepository(Protocol):
    def get_many(self, refs: list[str]) -> dict[str, CustomerRecord]: ...

    def get(self, ref: str) -> CustomerRecord | None: ...

    def everyone(self) -> dict[str, CustomerRecord]: ...

    def by_stripe_id(self, stripe_customer_id: str) -> CustomerRecord | None: ...

    def upsert(self, record: CustomerRecord) -> None: ...
