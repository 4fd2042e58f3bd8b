"""The key stamp and the entitlement view in one statement (ADR 0950): what the fast paths
of the entitlement check and the reservation read first.

The admission wrapper (``api/cached_reads.py``) compares the tenant's key stamp before the
request's work; it used to be a statement of its own. Here the stamp's columns (as ADR
0830's stamp) sit beside the view's (``entitlement_views.py``) in one ``SELECT``, its rows
left-joined to a one-row table so the stamp comes back even when the feature or the grant
does not. The stamp is read by the statement that reads the view, so a revocation committed
before the request's read began is seen, as before.

``stamped_lock_view`` holds the grant's row as ``lock_view`` does. PostgreSQL refuses
``FOR UPDATE`` on the nullable side of an outer join, so there the locking view is a
subquery of its own (``FOR UPDATE OF`` the grant inside it), left-joined to the stamp; SQLite
locks no rows (its writer holds the one write lock), so its statement is the plain join.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, literal, select, true
from sqlalchemy.engine import Connection

from stripemeter_server.service.catalog.ports.definitions import KeyStamp
from stripemeter_server.service.entitlements.ports import GrantView
from stripemeter_server.storage.catalog.definitions import KEY_STAMP_COLUMNS, key_stamp
from stripemeter_server.storage.driver_statements import DriverStatement
from stripemeter_server.storage.entitlement_views import (
    COLUMNS,
    CUSTOMER_ON,
    METRIC_ON,
    view_of,
)
from stripemeter_server.storage.schema import customers, entitlement_grants, features, metrics
from stripemeter_server.storage.sql_dialect import SqlDialect

_F, _G, _C, _M = features, entitlement_grants, customers, metrics
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_STAMP = [column.label(f"key_stamp_{n}") for n, column in enumerate(KEY_STAMP_COLUMNS)]
_FEATURE = and_(_F.c.tenant_id == bindparam("tenant"), _F.c.feature_key == bindparam("feature"))
_GRANT = and_(
    _G.c.tenant_id == bindparam("tenant"),
    _G.c.customer_ref == bindparam("customer"),
    _G.c.feature_key == bindparam("feature"),
)
_FEATURE_TREE = (  # the feature, the customer's grant of it, the customer and the metric
    _F.outerjoin(
        _G,
        and_(
            _G.c.tenant_id == _F.c.tenant_id,
            _G.c.feature_key == _F.c.feature_key,
            _G.c.customer_ref == bindparam("customer"),
        ),
    )
    .outerjoin(_C, CUSTOMER_ON)
    .outerjoin(_M, METRIC_ON)
)
_STAMPED_VIEW = DriverStatement(
    select(*_STAMP, *COLUMNS).select_from(_ONE_ROW.outerjoin(_FEATURE_TREE, _FEATURE))
)
_GRANT_TREE = (  # the grant, its feature, the customer and the metric
    _G.join(_F, and_(_F.c.tenant_id == _G.c.tenant_id, _F.c.feature_key == _G.c.feature_key))
    .outerjoin(_C, CUSTOMER_ON)
    .outerjoin(_M, METRIC_ON)
)
_BUILT: dict[str, DriverStatement] = {}


def _stamped_lock_view(dialect: SqlDialect) -> DriverStatement:
    """Built once per store: a new statement per call costs its cache key."""
    if dialect.name not in _BUILT:
        if dialect.name == "postgresql":
            locked = dialect.lock_rows(
                select(*COLUMNS).select_from(_GRANT_TREE).where(_GRANT), of=_G
            ).subquery("locked")
            query = select(*_STAMP, *locked.c).select_from(_ONE_ROW.outerjoin(locked, true()))
        else:
            query = select(*_STAMP, *COLUMNS).select_from(_ONE_ROW.outerjoin(_GRANT_TREE, _GRANT))
        _BUILT[dialect.name] = DriverStatement(query)
    return _BUILT[dialect.name]


def _key_stamp(row: dict[str, Any]) -> KeyStamp:
    return key_stamp([row[column.key] for column in _STAMP])


def _params(tenant: str, customer_ref: str, feature: str) -> dict[str, str]:
    return {"tenant": tenant, "customer": customer_ref, "feature": feature}


def stamped_view(
    conn: Connection, tenant: str, customer_ref: str, feature: str
) -> tuple[KeyStamp, GrantView]:
    """The tenant's key stamp and ``view``'s answer."""
    (found,) = _STAMPED_VIEW.rows(conn, _params(tenant, customer_ref, feature))
    if found["f_feature_key"] is None:
        return _key_stamp(found), GrantView(None, None, None)
    return _key_stamp(found), view_of(found)


def stamped_lock_view(
    conn: Connection, dialect: SqlDialect, tenant: str, customer_ref: str, feature: str
) -> tuple[KeyStamp, GrantView | None]:
    """The tenant's key stamp and ``lock_view``'s answer (the grant's row held)."""
    query = _stamped_lock_view(dialect)
    (found,) = query.rows(conn, _params(tenant, customer_ref, feature))
    if found["g_customer_ref"] is None:
        return _key_stamp(found), None
    return _key_stamp(found), view_of(found)


class StampedGrantsRepository:
    """``StampedGrantReads``: the key stamp beside the grant's view, in one statement."""

    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id

    def view(self, customer_ref: str, feature: str) -> tuple[KeyStamp, GrantView]:
        return stamped_view(self._conn, self._tenant, customer_ref, feature)

    def lock_view(self, customer_ref: str, feature: str) -> tuple[KeyStamp, GrantView | None]:
        return stamped_lock_view(self._conn, self._dialect, self._tenant, customer_ref, feature)
