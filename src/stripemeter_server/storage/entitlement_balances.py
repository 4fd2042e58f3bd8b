"""The balances of several usage windows in one statement (ADR 0937): each window's live
counter, extra grants and held reservations, which the answer of all features used to read
in three statements per metered feature.

One ``UNION ALL`` of three reads, each for every window at once (``IN`` over the windows'
keys, so the statement's text does not depend on how many there are): the counters
(``kind`` ``c``), the extras (``e``) and the held reservations (``h``), in columns they
share, the other kinds' left ``NULL`` of the same type. Its order is the single-window
reads' own (extras by creation, then id), so every total is summed as they sum it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.service.entitlements.ports import HELD, BalanceWindow, WindowBalance
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import counters, entitlement_extras, entitlement_reservations
from stripemeter_server.storage.types import ExactDecimal

_E, _H = entitlement_extras, entitlement_reservations


def _nothing(type_: Any, name: str) -> ColumnElement[Any]:
    return cast(null(), type_).label(name)


def _no_state() -> list[ColumnElement[Any]]:
    return [_nothing(counters.c[name].type, name) for name in STATE_COLUMNS]


def _kind(letter: str) -> ColumnElement[Any]:
    return literal_column(f"'{letter}'", String).label("kind")


_COUNTERS = select(
    _kind("c"),
    counters.c.metric.label("k1"),
    counters.c.period_start_us.label("k2"),
    *[counters.c[name] for name in STATE_COLUMNS],
    _nothing(ExactDecimal(), "amount"),
    _nothing(BigInteger(), "created_us"),
    _nothing(String(64), "extra_id"),
).where(
    counters.c.tenant_id == bindparam("tenant"),
    counters.c.customer_ref == bindparam("customer"),
    tuple_(counters.c.metric, counters.c.period_start_us).in_(bindparam("counted", expanding=True)),
)
_EXTRAS = select(
    _kind("e"),
    _E.c.feature_key,
    _E.c.window_start_us,
    *_no_state(),
    _E.c.amount,
    _E.c.created_us,
    _E.c.extra_id,
).where(
    _E.c.tenant_id == bindparam("tenant"),
    _E.c.customer_ref == bindparam("customer"),
    tuple_(_E.c.feature_key, _E.c.window_start_us).in_(bindparam("windows", expanding=True)),
)
_HELD = select(
    _kind("h"),
    _H.c.feature_key,
    _nothing(BigInteger(), "k2"),
    *_no_state(),
    _H.c.quantity,
    _nothing(BigInteger(), "created_us"),
    _nothing(String(64), "extra_id"),
).where(
    _H.c.tenant_id == bindparam("tenant"),
    _H.c.customer_ref == bindparam("customer"),
    _H.c.feature_key.in_(bindparam("features", expanding=True)),
    _H.c.status == HELD,
    _H.c.expires_us > bindparam("now"),
)
_BALANCES = union_all(_COUNTERS, _EXTRAS, _HELD).order_by(
    literal_column("kind"),
    literal_column("k1"),
    literal_column("k2"),
    literal_column("created_us"),
    literal_column("extra_id"),
)


def balances(
    conn: Connection,
    tenant: str,
    customer_ref: str,
    windows: Sequence[BalanceWindow],
    now_us: int,
) -> dict[str, WindowBalance]:
    params = {
        "tenant": tenant,
        "customer": customer_ref,
        "counted": sorted({(w.metric, w.start_us) for w in windows if w.counter}),
        "windows": sorted({(w.feature, w.start_us) for w in windows}),
        "features": sorted({w.feature for w in windows}),
        "now": now_us,
    }
    states: dict[tuple[str, int], CounterState] = {}
    extras: dict[tuple[str, int], list[Decimal]] = {}
    held: dict[str, list[Decimal]] = {}
    for row in conn.execute(_BALANCES, params):
        mapping = row._mapping
        if row.kind == "c":
            states[(row.k1, row.k2)] = CounterState(**{n: mapping[n] for n in STATE_COLUMNS})
        elif row.kind == "e":
            extras.setdefault((row.k1, row.k2), []).append(row.amount)
        else:
            held.setdefault(row.k1, []).append(row.amount)
    return {
        w.feature: WindowBalance(
            states.get((w.metric, w.start_us)) if w.counter else None,
            sum(extras.get((w.feature, w.start_us), []), Decimal(0)),
            sum(held.get(w.feature, []), Decimal(0)),  # summed here, as ``held_total`` does
        )
        for w in windows
    }
