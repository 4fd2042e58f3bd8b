"""The dashboard's cookies: the session's opaque token and the sign-in form's own token.

The session itself is held by the server (``service/dashboard/sessions.py``, ADR 0711): the
cookie is a random token that names a row, and holds no key, no tenant, nothing sealed.
"""

from __future__ import annotations

import hmac

COOKIE = "stripemeter_session"
SIGN_IN_COOKIE = "stripemeter_sign_in"  # double-submit token of the sign-in form
COOKIE_PATH = "/ui"


def tokens_match(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
