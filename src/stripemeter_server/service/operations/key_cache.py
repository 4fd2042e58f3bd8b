"""API keys held in process memory for the ingest hot path, checked once per ingest group.

Reading the key (and its tenant's rate limits) in a transaction of its own cost every
single-event request a round trip and a connection (ADR 0012). Here a request is admitted
from memory when its key was seen before; what makes that safe is the tenant's
:class:`KeyStamp` — a count of the revocations and rotations its keys have ever seen (each
sets a column that is never cleared) plus its rate limits. Each cached key carries the stamp
read *before* the key itself, and the ingest group's own transaction reads the stamp again,
once per tenant per group. Equal stamps: no key of the tenant was revoked, rotated or
re-limited in between, and the group goes on. Otherwise the group's keys are read again in
that same transaction, a revoked one is refused, and the tenant's entries are dropped.

So a key whose revoking transaction committed before a group's transaction read the stamp
is refused in that group, on every node and process: once a revoke call has returned, no
request with the key is acknowledged anywhere (ADR 0800). Nothing but the stamp is ever
trusted without a read; a key never seen is read from the database (and a bad key costs one
indexed read, as before: unknown keys are not cached).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from stripemeter_server.domain.errors import UnauthorizedError
from stripemeter_server.service.catalog.ports.definitions import ApiKeyRecord, KeyStamp
from stripemeter_server.service.operations.ports import OperationsUnitOfWork as UnitOfWork
from stripemeter_server.service.operations.tenancy import Principal, hash_key

MAX_ENTRIES = 10_000  # keys, over every tenant; beyond it the cache starts afresh


@dataclass(frozen=True, slots=True)
class CachedKey:
    record: ApiKeyRecord
    stamp: KeyStamp  # read before the record, in the same transaction


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What a request was admitted against: re-checked by its group's transaction."""

    key_hash: str
    stamp: KeyStamp


def refusal(record: ApiKeyRecord | None, key_hash: str, now_us: int) -> UnauthorizedError | None:
    """Why a key may not be used now (the checks of ``tenancy.authenticate``), or None."""
    if record is None or not hmac.compare_digest(record.key_hash, key_hash):
        return UnauthorizedError("invalid API key", code="invalid_api_key")
    if record.revoked_us is not None:
        return UnauthorizedError("this API key was revoked", code="revoked_api_key")
    if record.expires_us is not None and record.expires_us <= now_us:
        return UnauthorizedError(
            "this API key was rotated and its grace has ended", code="revoked_api_key"
        )
    return None


def load_key(uow: UnitOfWork, secret: str) -> CachedKey | None:
    """Read the key's stamp, then the key (READ COMMITTED: a revoke committed between the
    two reads shows in the key, and a later one changes the stamp the group will read)."""
    key_hash = hash_key(secret)
    record = uow.api_keys.by_hash(key_hash)
    if record is None:
        return None
    stamp = uow.api_keys.stamp(record.tenant_id)
    record = uow.api_keys.by_hash(key_hash)  # read again after the stamp: see above
    return None if record is None else CachedKey(record, stamp)


class KeyCache:
    """The process's keys, by hash. Thread-safe; holds no secret (hashes only)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[str, CachedKey] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> CachedKey | None:
        return self._entries.get(key_hash)

    def put(self, entry: CachedKey) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[entry.record.key_hash] = entry

    def forget_tenant(self, tenant_id: str) -> None:
        with self._lock:
            self._entries = {
                h: e for h, e in self._entries.items() if e.record.tenant_id != tenant_id
            }

    def admit(
        self, entry: CachedKey, key_hash: str, now_us: int, request_id: str | None = None
    ) -> Principal:
        """The principal of a cached key (for the request ``request_id``), or the refusal
        ``authenticate`` would give."""
        error = refusal(entry.record, key_hash, now_us)
        if error is not None:
            raise error
        record = entry.record
        return Principal(record.tenant_id, record.key_id, record.scopes, request_id)

    def recheck(
        self,
        uow: UnitOfWork,
        tenant_id: str,
        checks: Sequence[KeyCheck | None],
        now_us: int,
        stamp: KeyStamp | None = None,
    ) -> dict[int, UnauthorizedError]:
        """Inside a group's transaction: the requests (by position) whose key may no longer
        be used. One stamp read per call (``stamp``: the caller read it in this transaction,
        before anything was written); the keys themselves only when the stamp moved."""
        if all(check is None for check in checks):
            return {}
        if stamp is None:
            stamp = uow.api_keys.stamp(tenant_id)
        if all(check is None or check.stamp == stamp for check in checks):
            return {}
        self.forget_tenant(tenant_id)
        records: dict[str, ApiKeyRecord | None] = {}
        refused: dict[int, UnauthorizedError] = {}
        for position, check in enumerate(checks):
            if check is None or check.stamp == stamp:
                continue
            if check.key_hash not in records:
                records[check.key_hash] = uow.api_keys.by_hash(check.key_hash)
            error = refusal(records[check.key_hash], check.key_hash, now_us)
            if error is not None:
                refused[position] = error
        return refused
