"""Dashboard sessions, held by the server (migration 0010).

The browser's cookie holds only a random token; this row is found by a digest of it (a copy
of the table opens no session). Signing out deletes the row; revoking a key deletes its rows.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table

from stripemeter_server.storage.schema.base import metadata

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("tenant_id", String(255), primary_key=True),
    Column("session_id", String(64), primary_key=True),  # HMAC of the cookie's token
    Column("key_id", String(64), nullable=False),  # the API key it was opened with
    Column("csrf_secret", String(64), nullable=False),  # its forms' tokens derive from it
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Index("ux_dashboard_sessions_id", "session_id", unique=True),
    Index("ix_dashboard_sessions_key", "tenant_id", "key_id"),
    Index("ix_dashboard_sessions_expiry", "expires_us"),
)
