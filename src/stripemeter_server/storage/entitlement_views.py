"""The feature, the customer's grant of it, the customer's record and the feature's metric
in one statement (ADR 0932, ADR 0939): the first reads of every entitlement check and
reservation, which used to be four round trips (five with the reservation's lock).
``views``: every feature so, for the answer of all features (ADR 0937).

``view`` starts from the feature, so a customer without a grant still gets the feature;
``lock_view`` starts from the grant and holds only the grant's row (``FOR UPDATE OF`` on
PostgreSQL; SQLite's writer already holds the one write lock), so reservers of one grant
queue as with ``GrantsRepository.lock`` and the feature's row stays free.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from stripemeter_server.domain.entitlements import Enforcement, Grant
from stripemeter_server.domain.timestamps import from_micros
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.entitlements.ports import (
    CustomerFeatures,
    FeatureView,
    GrantRecord,
    GrantView,
    StoredFeature,
)
from stripemeter_server.storage.schema import customers, entitlement_grants, features, metrics
from stripemeter_server.storage.sql_dialect import SqlDialect


class _FeatureMetric(FunctionElement[str]):
    """The metric code in a feature's stored JSON definition (its ``metric`` member), as
    each store extracts it, so the metric's row joins the view's one statement."""

    type = String()
    inherit_cache = True


@compiles(_FeatureMetric, "postgresql")
def _pg_metric(element: _FeatureMetric, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS JSON) ->> 'metric')"


@compiles(_FeatureMetric)
def _sqlite_metric(element: _FeatureMetric, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)}, '$.metric')"


_F, _G, _C, _M = features, entitlement_grants, customers, metrics
COLUMNS = (
    [c.label(f"f_{c.name}") for c in _F.c if c.name != "tenant_id"]
    + [c.label(f"g_{c.name}") for c in _G.c if c.name != "tenant_id"]
    + [c.label(f"c_{c.name}") for c in _C.c if c.name != "tenant_id"]
    + [_M.c.definition.label("m_definition")]
)
CUSTOMER_ON = and_(
    _C.c.tenant_id == bindparam("tenant"), _C.c.customer_ref == bindparam("customer")
)
METRIC_ON = and_(_M.c.tenant_id == _F.c.tenant_id, _M.c.code == _FeatureMetric(_F.c.definition))
_EVERY_FEATURE = (  # every feature of the tenant, the customer's grant of it when any
    select(*COLUMNS)
    .select_from(_F)
    .outerjoin(
        _G,
        and_(
            _G.c.tenant_id == _F.c.tenant_id,
            _G.c.feature_key == _F.c.feature_key,
            _G.c.customer_ref == bindparam("customer"),
        ),
    )
    .outerjoin(_C, CUSTOMER_ON)
    .outerjoin(_M, METRIC_ON)
    .where(_F.c.tenant_id == bindparam("tenant"))
)
_VIEW = _EVERY_FEATURE.where(_F.c.feature_key == bindparam("feature"))
_VIEWS = _EVERY_FEATURE.order_by(_F.c.feature_key)
_LOCK_VIEW = (
    select(*COLUMNS)
    .select_from(_G)
    .join(_F, and_(_F.c.tenant_id == _G.c.tenant_id, _F.c.feature_key == _G.c.feature_key))
    .outerjoin(_C, CUSTOMER_ON)
    .outerjoin(_M, METRIC_ON)
    .where(
        _G.c.tenant_id == bindparam("tenant"),
        _G.c.customer_ref == bindparam("customer"),
        _G.c.feature_key == bindparam("feature"),
    )
)

_LOCKING: dict[str, Any] = {}


def views(conn: Connection, tenant: str, customer_ref: str) -> CustomerFeatures:
    """Every feature, its grant, the customer and the feature's metric."""
    params = {"tenant": tenant, "customer": customer_ref}
    rows = [row._mapping for row in conn.execute(_VIEWS, params)]
    found = [FeatureView(_feature(r), _grant(r), r["m_definition"]) for r in rows]
    return CustomerFeatures(found, _customer(rows[0]) if rows else None)  # alike on every row


def view(conn: Connection, tenant: str, customer_ref: str, feature: str) -> GrantView:
    row = conn.execute(_VIEW, _params(tenant, customer_ref, feature)).first()
    return view_of(row._mapping) if row else GrantView(None, None, None)


def lock_view(
    conn: Connection, dialect: SqlDialect, tenant: str, customer_ref: str, feature: str
) -> GrantView | None:
    query = _LOCKING.get(dialect.name)
    if query is None:  # built once per store: a new statement per call costs its cache key
        query = _LOCKING[dialect.name] = dialect.lock_rows(_LOCK_VIEW, of=_G)
    row = conn.execute(query, _params(tenant, customer_ref, feature)).first()
    return view_of(row._mapping) if row else None


def _params(tenant: str, customer_ref: str, feature: str) -> dict[str, str]:
    return {"tenant": tenant, "customer": customer_ref, "feature": feature}


def view_of(row: Any) -> GrantView:
    """A row of the view's labelled columns (by name) as its view."""
    return GrantView(_feature(row), _grant(row), _customer(row), row["m_definition"])


def _feature(row: Any) -> StoredFeature:
    return StoredFeature(
        row["f_feature_key"],
        row["f_kind"],
        row["f_definition"],
        row["f_created_us"],
        row["f_updated_us"],
    )


def _grant(row: Any) -> GrantRecord | None:
    if row["g_customer_ref"] is None:
        return None
    return grant_record({c.name: row[f"g_{c.name}"] for c in _G.c if c.name != "tenant_id"})


def _customer(row: Any) -> CustomerRecord | None:
    if row["c_customer_ref"] is None:
        return None
    return CustomerRecord(
        row["c_customer_ref"],
        row["c_stripe_customer_id"],
        row["c_anchor_day"],
        row["c_timezone"],
        row["c_created_us"],
        row["c_updated_us"],
    )


def grant_record(row: Any) -> GrantRecord:
    """A grant row (its columns by name) as its record."""
    effective, expires = row["effective_us"], row["expires_us"]
    grant = Grant(
        row["customer_ref"],
        row["feature_key"],
        bool(row["enabled"]),
        row["limit_value"],
        Enforcement(row["enforcement"]),
        row["overage"],
        row["config"],
        None if effective is None else from_micros(effective),
        None if expires is None else from_micros(expires),
        bool(row["stop_at_zero_credit"]),
    )
    return GrantRecord(grant, row["created_us"], row["updated_us"])
