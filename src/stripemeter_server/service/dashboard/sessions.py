"""Dashboard sessions held by the server (ADR 0711).

The browser's cookie holds a random 256-bit token and nothing else: no API key, nothing
sealed with the secrets-at-rest key. The row it points to (found by a digest of the token,
so a copy of the table opens nothing) names the API key it was opened with, its CSRF secret
and its expiry. Every page reads the row and the key's state in one query, so signing out
(the row deleted) and revoking the key (its rows deleted, and a revoked key refused anyway)
end a session at once, on every node. The digest and the forms' CSRF token are each derived
with their own purpose label (HMAC-SHA256), so no value serves two purposes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.dashboard.ports import DashboardUnitOfWork as UnitOfWork
from stripemeter_server.service.dashboard.ports import SessionRecord
from stripemeter_server.service.operations.tenancy import Principal, authenticate

DEFAULT_TTL = timedelta(hours=8)
PRUNE_BATCH = 100  # expired sessions deleted per sign-in (bounded work per request)
_SESSION_ID = b"stripemeter dashboard session id v1"
_CSRF_TOKEN = b"stripemeter dashboard csrf token v1"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)  # 32 random bytes, URL-safe base64


def derive(secret: str, purpose: bytes) -> str:
    """``secret``'s value for one ``purpose``: HMAC-SHA256 keyed by the secret over a label."""
    return hmac.new(secret.encode("ascii"), purpose, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class DashboardSession:
    """An open session: who it is, the token its forms must carry, when it ends."""

    who: Principal
    csrf: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"DashboardSession({self.who.tenant_id}, expires_at={self.expires_at})"

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf)


def start_session(
    uow: UnitOfWork, secret: str, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> tuple[str, DashboardSession]:
    """Authenticate ``secret`` and open a session for its key: the cookie's token and the
    session. Expired sessions of any tenant are deleted on the way, a bounded batch."""
    who = authenticate(uow, secret, now)
    token = secrets.token_urlsafe(32)
    csrf_secret = secrets.token_hex(32)
    expires_at = now + ttl
    uow.dashboard_sessions.delete_expired(to_micros(now), PRUNE_BATCH)
    uow.dashboard_sessions.add(
        SessionRecord(
            who.tenant_id,
            derive(token, _SESSION_ID),
            who.key_id,
            csrf_secret,
            to_micros(now),
            to_micros(expires_at),
        )
    )
    return token, DashboardSession(who, derive(csrf_secret, _CSRF_TOKEN), expires_at)


def open_session(uow: UnitOfWork, token: str | None, now: datetime) -> DashboardSession | None:
    """The session of a cookie's token, or ``None``: unknown, signed out, expired, or its
    key revoked or past a rotation's grace."""
    if token is None or not _TOKEN.fullmatch(token):
        return None
    found = uow.dashboard_sessions.find(derive(token, _SESSION_ID))
    now_us = to_micros(now)
    if found is None or found.session.expires_us <= now_us:
        return None
    if found.key_revoked_us is not None or (
        found.key_expires_us is not None and found.key_expires_us <= now_us
    ):
        return None
    record = found.session
    who = Principal(record.tenant_id, record.key_id, found.scopes)
    return DashboardSession(
        who, derive(record.csrf_secret, _CSRF_TOKEN), from_micros(record.expires_us)
    )


def end_session(uow: UnitOfWork, token: str | None) -> None:
    """Sign out: the row is gone, so a copy of the cookie opens nothing."""
    if token is not None and _TOKEN.fullmatch(token):
        uow.dashboard_sessions.delete(derive(token, _SESSION_ID))


def end_key_sessions(uow: UnitOfWork, tenant_id: str, key_id: str) -> int:
    """Every session opened with a key (its revocation)."""
    return uow.dashboard_sessions.delete_for_key(tenant_id, key_id)
