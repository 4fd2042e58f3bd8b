"""The operator dashboard's own reads: their records and the repository port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from stripemeter_server.service.ports.events import StoredEvent


@dataclass(frozen=True)
class ClosingPeriod:
    metric: str
    period_start_us: int
    period_end_us: int
    customers: int


@dataclass(frozen=True)
class TenantPushStats:
    pending: int
    failed: int
    oldest_pending_us: int | None


class DashboardReads(Protocol):
    """Bounded reads for large tenants: keyset pages, grouped counts."""

    def customer_refs(self, *, prefix: str, after: str | None, limit: int) -> list[str]: ...

    def customer_known(self, customer_ref: str) -> bool: ...

    def events_newest_first(self, *, metric: str | None, customer_ref: str | None,
                            before_seq: int | None, limit: int) -> list[StoredEvent]: ...

    def periods_closing(self, now_us: int, until_us: int, limit: int) -> list[ClosingPeriod]: ...

    def push_stats(self) -> TenantPushStats: ...


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A dashboard session as stored: never the cookie's token, only its digest."""

    tenant_id: str
    session_id: str
    key_id: str
    csrf_secret: str
    created_us: int
    expires_us: int


@dataclass(frozen=True, slots=True)
class SessionWithKey:
    """A session and the state of its key, read together (one query per page)."""

    session: SessionRecord
    scopes: frozenset[str]
    key_revoked_us: int | None
    key_expires_us: int | None


class DashboardSessionsRepository(Protocol):
    """Sessions of every tenant: a page learns its tenant from the session it finds."""

    def add(self, record: SessionRecord) -> None: ...

    def find(self, session_id: str) -> SessionWithKey | None: ...

    def delete(self, session_id: str) -> bool: ...

    def delete_for_key(self, tenant_id: str, key_id: str) -> int: ...

    def delete_expired(self, now_us: int, limit: int) -> int: ...
