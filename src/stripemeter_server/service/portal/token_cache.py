"""Portal tokens held in process memory, re-checked inside each read's own transaction.

Authenticating a portal token cost every read a transaction of its own (the token, the key
that minted it, the tenant's origins and rate limits) before the read's transaction even
began. Here a token seen before is admitted from memory, and the read's transaction starts
with one statement (:class:`TokenState`): the token's ``revoked_us`` and its tenant's key
stamp (ADR 0800: every revocation or rotation of the tenant's keys, and its rate limits),
and the tenant's origins (the same statement, ADR 0880). The read goes on only when the
token is still unrevoked, the stamp is the one the token was admitted against and the
origins are the same; otherwise the entry is dropped and the request is admitted afresh
(a revoked token gets the same 401).

So a token (or the key that minted it) whose revocation committed before a read's
transaction began is refused by that read, on every node and process: revocation holds as
immediately as before (ADR 0830). Expiry is checked against the clock on every request.
No secret is held: entries are keyed by the SHA-256 of the presented token.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime

from stripemeter_server.domain.token_bucket import BucketLimits
from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.portal.admission import Admitted, admit
from stripemeter_server.service.portal.tokens import named_tenant
from stripemeter_server.service.ports.unit_of_work import UnitOfWork

MAX_ENTRIES = 10_000  # tokens, over every tenant; beyond it the cache starts afresh


class StaleToken(Exception):
    """The cached admission no longer holds: admit the request afresh."""


@dataclass(frozen=True, slots=True)
class CachedToken:
    admitted: Admitted
    stamp: KeyStamp  # read before the token, in the same transaction
    key_expires_us: int | None  # the minting key's rotation grace, checked per request

    def usable_at(self, now_us: int) -> bool:
        return self.admitted.grant.expires_us > now_us and (
            self.key_expires_us is None or self.key_expires_us > now_us
        )

    def recheck(self, uow: UnitOfWork) -> None:
        """Inside the read's transaction, before its first other statement: raise
        :class:`StaleToken` unless nothing the admission relied on has changed."""
        grant = self.admitted.grant
        state = uow.portal.token_state(grant.tenant_id, grant.token_id)
        if (
            state is None
            or state.revoked_us is not None
            or state.key_stamp != self.stamp
            or state.origins != self.admitted.allowed_origins
        ):
            raise StaleToken(grant.token_id)


def token_hash(presented: str) -> str:
    return hashlib.sha256(presented.encode("utf-8")).hexdigest()


def admit_fresh(
    uow: UnitOfWork, presented: str, now: datetime, defaults: BucketLimits
) -> CachedToken:
    """Admit ``presented`` from the database (the errors of ``admit``), its tenant's stamp
    read first: a key revoked after the token was read then moves the stamp."""
    tenant = named_tenant(uow, presented)
    stamp = uow.api_keys.stamp(tenant) if tenant is not None else KeyStamp(0, None, None)
    admitted = admit(uow, presented, now, defaults)
    found = uow.portal.token_with_key(admitted.grant.token_id)
    return CachedToken(admitted, stamp, None if found is None else found.key_expires_us)


class TokenCache:
    """The process's admitted portal tokens, by hash. Thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[str, CachedToken] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, digest: str) -> CachedToken | None:
        return self._entries.get(digest)

    def put(self, digest: str, entry: CachedToken) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[digest] = entry

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)
