"""A reservation's row and its audit entry, written together (ADR 0939).

Both statements are built once per store with bound parameters: building an ``INSERT …
VALUES`` per call made SQLAlchemy compute its cache key on every reservation. Where the
store runs a data-modifying ``WITH`` (PostgreSQL), the two are one statement — the audit
row is inserted from the rows the reservation's insert returned, so a key taken already
(``ON CONFLICT DO NOTHING``) writes neither, as before; elsewhere they are two statements
in the same transaction. Both run on the driver's cursor (``driver_statements.py``, ADR
0950).
"""

from __future__ import annotations

from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.entitlements.ports import Reservation
from stripemeter_server.service.operations.ports import AuditRecord
from stripemeter_server.storage.driver_statements import DriverStatement
from stripemeter_server.storage.schema import audit_log, entitlement_reservations
from stripemeter_server.storage.sql_dialect import SqlDialect

_R, _A = entitlement_reservations, audit_log
_HOLD_COLUMNS = (
    "tenant_id",
    "reservation_id",
    "customer_ref",
    "feature_key",
    "quantity",
    "status",
    "idempotency_key",
    "created_us",
    "expires_us",
)
_AUDIT_COLUMNS = ("tenant_id", *AuditRecord.__slots__)
_AUDIT = DriverStatement(
    _A.insert().values(
        {name: bindparam(f"a_{name}", type_=_A.c[name].type) for name in _AUDIT_COLUMNS}
    )
)
_BUILT: dict[str, tuple[DriverStatement, DriverStatement | None]] = {}


def _statements(dialect: SqlDialect) -> tuple[DriverStatement, DriverStatement | None]:
    """(the hold's insert, the chained insert of both or ``None``) for this store."""
    if dialect.name not in _BUILT:
        hold = (
            dialect.upsert(_R)
            .values({name: bindparam(name, type_=_R.c[name].type) for name in _HOLD_COLUMNS})
            .on_conflict_do_nothing()
        )
        chained = None
        if dialect.chains_writes:
            held = hold.returning(literal_column("1").label("one")).cte("held")
            source = select(
                *(bindparam(f"a_{name}", type_=_A.c[name].type) for name in _AUDIT_COLUMNS)
            ).select_from(held)
            chained = DriverStatement(_A.insert().from_select(list(_AUDIT_COLUMNS), source))
        _BUILT[dialect.name] = (DriverStatement(hold), chained)
    return _BUILT[dialect.name]


def add_hold(
    conn: Connection, dialect: SqlDialect, tenant: str, hold: Reservation, entry: AuditRecord
) -> bool:
    """Insert the reservation and, only when it went in, its audit entry; False when its
    idempotency key was taken (nothing written)."""
    insert, chained = _statements(dialect)
    params = {
        "tenant_id": tenant,
        "reservation_id": hold.reservation_id,
        "customer_ref": hold.customer_ref,
        "feature_key": hold.feature,
        "quantity": hold.quantity,
        "status": hold.status,
        "idempotency_key": hold.idempotency_key,
        "created_us": hold.created_us,
        "expires_us": hold.expires_us,
    }
    audit = {f"a_{name}": getattr(entry, name) for name in AuditRecord.__slots__}
    audit["a_tenant_id"] = tenant
    if chained is not None:
        return bool(chained.rowcount(conn, {**params, **audit}))
    if not insert.rowcount(conn, params):
        return False
    _AUDIT.rowcount(conn, audit)
    return True
