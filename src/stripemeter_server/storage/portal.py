"""The portal's repository: tokens (found by id across tenants, as a bearer token names
its row), a tenant's embedding settings and allowed origins, and the alert rules customers
made through the portal."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.engine import Connection, Row

from stripemeter_server.service.portal.ports import (
    PortalSettingsRecord,
    PortalTokenRecord,
    TokenState,
    TokenWithKey,
)
from stripemeter_server.storage.catalog.definitions import KEY_STAMP_COLUMNS, key_stamp
from stripemeter_server.storage.schema import (
    api_keys,
    portal_alert_rules,
    portal_origins,
    portal_settings,
    portal_tokens,
)
from stripemeter_server.storage.sql_dialect import SqlDialect

# Built once: a cached token's re-check runs it on every portal read (ADR 0830). One
# statement, one round trip (ADR 0880): the token's row joined to its tenant's origins, one
# row per origin (a single row with a NULL origin when there is none), each row carrying
# the revocation and the tenant's key stamp (uncorrelated subqueries, evaluated once).
_TOKEN_STATE = (
    select(portal_tokens.c.revoked_us, *KEY_STAMP_COLUMNS, portal_origins.c.origin)
    .select_from(
        portal_tokens.outerjoin(
            portal_origins, portal_origins.c.tenant_id == portal_tokens.c.tenant_id
        )
    )
    .where(
        portal_tokens.c.tenant_id == bindparam("tenant"),
        portal_tokens.c.token_id == bindparam("token"),
    )
    .order_by(portal_origins.c.origin)
)
_ORIGINS = (
    select(portal_origins.c.origin)
    .where(portal_origins.c.tenant_id == bindparam("tenant"))
    .order_by(portal_origins.c.origin)
)


class PortalRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    # --- tokens -----------------------------------------------------------------------

    def add_token(self, record: PortalTokenRecord) -> None:
        self._conn.execute(
            portal_tokens.insert().values(
                tenant_id=record.tenant_id,
                token_id=record.token_id,
                customer_ref=record.customer_ref,
                metrics=None if record.metrics is None else json.dumps(list(record.metrics)),
                scopes=",".join(sorted(record.scopes)),
                secret_hash=record.secret_hash,
                minted_by=record.minted_by,
                created_us=record.created_us,
                expires_us=record.expires_us,
                revoked_us=record.revoked_us,
            )
        )

    def token_with_key(self, token_id: str) -> TokenWithKey | None:
        t, k = portal_tokens.c, api_keys.c
        query = (
            select(
                portal_tokens,
                k.revoked_us.label("key_revoked_us"),
                k.expires_us.label("key_expires_us"),
                k.key_id.label("key_found"),
            )
            .select_from(
                portal_tokens.outerjoin(
                    api_keys, (k.tenant_id == t.tenant_id) & (k.key_id == t.minted_by)
                )
            )
            .where(t.token_id == token_id)
        )
        row = self._conn.execute(query).first()
        if row is None:
            return None
        return TokenWithKey(
            _token(row), row.key_revoked_us, row.key_expires_us, row.key_found is not None
        )

    def token_state(self, tenant_id: str, token_id: str) -> TokenState | None:
        params = {"tenant": tenant_id, "token": token_id}
        rows = self._conn.execute(_TOKEN_STATE, params).all()
        if not rows:
            return None
        origins = tuple(row[4] for row in rows if row[4] is not None)
        return TokenState(rows[0][0], key_stamp(rows[0], 1), origins)

    def tokens(self, customer_ref: str | None, limit: int) -> list[PortalTokenRecord]:
        c = portal_tokens.c
        query = select(portal_tokens).where(c.tenant_id == self._tenant)
        if customer_ref is not None:
            query = query.where(c.customer_ref == customer_ref)
        query = query.order_by(c.created_us.desc(), c.token_id).limit(limit)
        return [_token(row) for row in self._conn.execute(query)]

    def revoke_token(self, token_id: str, now_us: int) -> bool:
        c = portal_tokens.c
        result = self._conn.execute(
            update(portal_tokens)
            .where(
                c.tenant_id == self._tenant,
                c.token_id == token_id,
                c.revoked_us.is_(None),
            )
            .values(revoked_us=now_us)
        )
        return bool(result.rowcount)

    def revoke_minted_by(self, tenant_id: str, key_id: str, now_us: int) -> list[str]:
        c = portal_tokens.c
        live = (c.tenant_id == tenant_id) & (c.minted_by == key_id) & c.revoked_us.is_(None)
        ids = sorted(self._conn.execute(select(c.token_id).where(live)).scalars())
        if ids:
            self._conn.execute(
                update(portal_tokens).where(live, c.token_id.in_(ids)).values(revoked_us=now_us)
            )
        return ids

    # --- settings ---------------------------------------------------------------------

    def settings(self) -> PortalSettingsRecord | None:
        row = self._conn.execute(
            select(portal_settings).where(portal_settings.c.tenant_id == self._tenant)
        ).first()
        if row is None:
            return None
        origins = self._conn.execute(
            select(portal_origins.c.origin)
            .where(portal_origins.c.tenant_id == self._tenant)
            .order_by(portal_origins.c.origin)
        ).scalars()
        return PortalSettingsRecord(
            tuple(origins), tuple(json.loads(row.frame_ancestors)), row.theme, row.updated_us
        )

    def put_settings(self, record: PortalSettingsRecord) -> None:
        values = {
            "frame_ancestors": json.dumps(list(record.frame_ancestors)),
            "theme": record.theme,
            "updated_us": record.updated_us,
        }
        stmt = self._dialect.upsert(portal_settings).values(tenant_id=self._tenant, **values)
        self._conn.execute(stmt.on_conflict_do_update(index_elements=["tenant_id"], set_=values))
        self._conn.execute(delete(portal_origins).where(portal_origins.c.tenant_id == self._tenant))
        if record.allowed_origins:
            self._conn.execute(
                portal_origins.insert(),
                [
                    {"tenant_id": self._tenant, "origin": origin}
                    for origin in record.allowed_origins
                ],
            )

    def origins_of(self, tenant_id: str) -> tuple[str, ...]:
        return tuple(self._conn.execute(_ORIGINS, {"tenant": tenant_id}).scalars())

    def origin_allowed_anywhere(self, origin: str) -> bool:
        query = select(exists().where(portal_origins.c.origin == origin))
        return bool(self._conn.execute(query).scalar())

    # --- customers' alert rules -------------------------------------------------------

    def add_alert_rule(self, customer_ref: str, rule_id: str, now_us: int) -> None:
        self._conn.execute(
            portal_alert_rules.insert().values(
                tenant_id=self._tenant,
                rule_id=rule_id,
                customer_ref=customer_ref,
                created_us=now_us,
            )
        )

    def alert_rules(self, customer_ref: str) -> list[str]:
        c = portal_alert_rules.c
        query = (
            select(c.rule_id)
            .where(c.tenant_id == self._tenant, c.customer_ref == customer_ref)
            .order_by(c.created_us, c.rule_id)
        )
        return list(self._conn.execute(query).scalars())

    def remove_alert_rule(self, customer_ref: str, rule_id: str) -> bool:
        c = portal_alert_rules.c
        result = self._conn.execute(
            delete(portal_alert_rules).where(
                c.tenant_id == self._tenant, c.customer_ref == customer_ref, c.rule_id == rule_id
            )
        )
        return bool(result.rowcount)


def _token(row: Row[object]) -> PortalTokenRecord:
    m = row._mapping
    metrics = m["metrics"]
    return PortalTokenRecord(
        tenant_id=m["tenant_id"],
        token_id=m["token_id"],
        customer_ref=m["customer_ref"],
        metrics=None if metrics is None else tuple(json.loads(metrics)),
        scopes=frozenset(s for s in str(m["scopes"]).split(",") if s),
        secret_hash=m["secret_hash"],
        minted_by=m["minted_by"],
        created_us=m["created_us"],
        expires_us=m["expires_us"],
        revoked_us=m["revoked_us"],
    )
