"""A metered grant's window in one statement (ADR 0939): the window's counter, the total of
its extra grants and of the reservations held in it — what every entitlement check and
reservation reads once the window is known, and which used to be three round trips.

The counter is left-joined to a one-row table so a window without a counter row still
answers. The extras' amounts and the held quantities come back as their decimal text, joined
with commas, and are summed in Python: exact on both stores (SQLite keeps decimals as text,
and its ``sum`` would add binary floats).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Text, and_, bindparam, cast, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.service.entitlements.ports import HELD, WindowBalance
from stripemeter_server.storage.driver_statements import DriverStatement
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import counters, entitlement_extras, entitlement_reservations


class _Joined(FunctionElement[str]):
    """The texts joined with commas, as each store aggregates them; the separator is
    written into the statement (``aggregate_strings`` binds it at execution time), so the
    statement runs on the driver (``driver_statements.py``, ADR 0950)."""

    type = Text()
    inherit_cache = True


@compiles(_Joined, "postgresql")
def _pg_joined(element: _Joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_Joined)
def _sqlite_joined(element: _Joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


_K, _X, _R = counters, entitlement_extras, entitlement_reservations
_EXTRAS = (
    select(_Joined(cast(_X.c.amount, Text)))
    .where(
        _X.c.tenant_id == bindparam("tenant"),
        _X.c.customer_ref == bindparam("customer"),
        _X.c.feature_key == bindparam("feature"),
        _X.c.window_start_us == bindparam("start"),
    )
    .scalar_subquery()
)
_HELD = (
    select(_Joined(cast(_R.c.quantity, Text)))
    .where(
        _R.c.tenant_id == bindparam("tenant"),
        _R.c.customer_ref == bindparam("customer"),
        _R.c.feature_key == bindparam("feature"),
        _R.c.status == HELD,
        _R.c.expires_us > bindparam("now"),
    )
    .scalar_subquery()
)
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_BALANCE = DriverStatement(
    select(
        _K.c.metric,
        *(_K.c[name] for name in STATE_COLUMNS),
        _EXTRAS.label("extras"),
        _HELD.label("held"),
    ).select_from(
        _ONE_ROW.outerjoin(
            _K,
            and_(
                _K.c.tenant_id == bindparam("tenant"),
                _K.c.metric == bindparam("metric"),
                _K.c.customer_ref == bindparam("customer"),
                _K.c.period_start_us == bindparam("start"),
            ),
        )
    )
)


def window_balance(
    conn: Connection,
    tenant: str,
    metric: str,
    customer_ref: str,
    feature: str,
    window_start_us: int,
    now_us: int,
) -> WindowBalance:
    params = {
        "tenant": tenant,
        "metric": metric,
        "customer": customer_ref,
        "feature": feature,
        "start": window_start_us,
        "now": now_us,
    }
    (row,) = _BALANCE.rows(conn, params)
    counter = None
    if row["metric"] is not None:
        counter = CounterState(**{name: row[name] for name in STATE_COLUMNS})
    return WindowBalance(counter, _total(row["extras"]), _total(row["held"]))


def _total(joined: str | None) -> Decimal:
    if not joined:
        return ZERO
    return sum((Decimal(part) for part in joined.split(",")), ZERO)
