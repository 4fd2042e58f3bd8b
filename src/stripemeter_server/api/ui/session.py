"""Dashboard sessions: a sealed cookie, a CSRF token per session, an expiry.

The cookie carries the operator's API key, the session's CSRF token and its expiry, sealed
(encrypted and authenticated) with the process's secrets-at-rest box when there is one, so any
node of the deployment opens it; without one, a random per-app box (sessions then last as long
as the process). The key is re-authenticated on every request, so revoking it ends its
sessions at once; the expiry bounds a cookie that was copied.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.service.ports.stripe import Cipher

COOKIE = "stripemeter_session"
SIGN_IN_COOKIE = "stripemeter_sign_in"  # double-submit token of the sign-in form
COOKIE_PATH = "/ui"
DEFAULT_TTL = timedelta(hours=8)


@dataclass(frozen=True)
class Session:
    key: str  # the API key; never rendered, never logged
    csrf: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"Session(expires_at={self.expires_at.isoformat()})"

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf)


class SessionSealer:
    """Seals sessions into cookie values and opens them again (``None`` if forged or old)."""

    def __init__(self, box: Cipher, ttl: timedelta = DEFAULT_TTL) -> None:
        self._box = box
        self.ttl = ttl

    def __repr__(self) -> str:
        return "SessionSealer(<box hidden>)"

    def issue(self, key: str, now: datetime) -> tuple[Session, str]:
        session = Session(key, secrets.token_urlsafe(32), now + self.ttl)
        payload = {"k": session.key, "c": session.csrf, "e": int(session.expires_at.timestamp())}
        return session, self._box.seal(json.dumps(payload, separators=(",", ":")))

    def open(self, value: str | None, now: datetime) -> Session | None:
        if not value or len(value) > 4096 or not value.isascii():
            return None
        try:
            payload = json.loads(self._box.open(value))
            key, csrf, expires = payload["k"], payload["c"], payload["e"]
        except (StripemeterError, ValueError, KeyError, TypeError):
            return None
        if not (isinstance(key, str) and isinstance(csrf, str) and isinstance(expires, int)):
            return None
        expires_at = datetime.fromtimestamp(expires, now.tzinfo)
        return Session(key, csrf, expires_at) if expires_at > now else None


def tokens_match(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
