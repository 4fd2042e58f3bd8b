"""Dashboard sessions (``dashboard_sessions``): add, find with their key, delete."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.dashboard.ports import SessionRecord, SessionWithKey
from stripemeter_server.storage.schema import api_keys, dashboard_sessions

_FIELDS = SessionRecord.__slots__


class DashboardSessionsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, record: SessionRecord) -> None:
        self._conn.execute(
            dashboard_sessions.insert().values(**{name: getattr(record, name) for name in _FIELDS})
        )

    def find(self, session_id: str) -> SessionWithKey | None:
        """The session and its key's scopes and state; ``None`` when either is gone."""
        s, k = dashboard_sessions.c, api_keys.c
        row = self._conn.execute(
            select(dashboard_sessions, k.scopes, k.revoked_us, k.expires_us.label("key_expires"))
            .join(api_keys, (k.tenant_id == s.tenant_id) & (k.key_id == s.key_id))
            .where(s.session_id == session_id)
        ).first()
        if row is None:
            return None
        record = SessionRecord(**{name: getattr(row, name) for name in _FIELDS})
        scopes = frozenset(part for part in row.scopes.split(",") if part)
        return SessionWithKey(record, scopes, row.revoked_us, row.key_expires)

    def delete(self, session_id: str) -> bool:
        result = self._conn.execute(
            delete(dashboard_sessions).where(dashboard_sessions.c.session_id == session_id)
        )
        return bool(result.rowcount)

    def delete_for_key(self, tenant_id: str, key_id: str) -> int:
        c = dashboard_sessions.c
        result = self._conn.execute(
            delete(dashboard_sessions).where(c.tenant_id == tenant_id, c.key_id == key_id)
        )
        return int(result.rowcount)

    def delete_expired(self, now_us: int, limit: int) -> int:
        """At most ``limit`` expired sessions (a bounded statement, whatever piled up)."""
        c = dashboard_sessions.c
        due = select(c.session_id).where(c.expires_us <= now_us).limit(limit).scalar_subquery()
        result = self._conn.execute(delete(dashboard_sessions).where(c.session_id.in_(due)))
        return int(result.rowcount)
