"""Everything a current-usage read needs, in one statement (ADR 0941).

``GET /v1/usage/current`` used to run seven statements after the key stamp — the metrics,
the customer's record, its counters, its period closes, its prices and the open backfill
sessions — each a round trip on PostgreSQL and a pass through SQLAlchemy on both stores.
Here one ``SELECT`` returns the key stamp's columns and, beside them, each of those sets as
one JSON array (``json_group_array`` on SQLite, ``json_agg`` on PostgreSQL), decoded into
the same records the repositories build. Decimal columns are cast to text in the statement,
so no value passes through a binary float on either store.

The sets are the ones the repositories read, filtered the same way: counters whose period
contains the instant, every period close of the customer (``PeriodClosesRepository``
selects by customer too), the default prices and the customer's overrides, the tenant's
open and pending backfill sessions. Order: PostgreSQL aggregates in the repositories'
``ORDER BY`` (its collation); SQLite's aggregate order is not promised, so its arrays are
sorted here by the same keys (SQLite's ``BINARY`` collation is code point order, as
Python's).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.corrections.ports.backfills import OPEN, PENDING, BackfillRecord
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.ports.current_reads import CurrentInputs
from stripemeter_server.storage.catalog.definitions import KEY_STAMP_COLUMNS, key_stamp
from stripemeter_server.storage.corrections.backfills import backfill_record
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import (
    backfills,
    counters,
    customers,
    metrics,
    period_locks,
    prices,
)
from stripemeter_server.storage.sql_dialect import SqlDialect
from stripemeter_server.storage.types import ExactDecimal

_TENANT: BindParameter[str] = bindparam("tenant")
_CUSTOMER: BindParameter[str] = bindparam("customer")


class _Set:
    """One table's rows as a JSON array of arrays: its columns, filter and order."""

    def __init__(
        self, table: Table, names: Sequence[str], where: Sequence[Any], order: Sequence[str]
    ) -> None:
        self.table = table
        self.names = tuple(names)
        self.where = where
        self.order = tuple(order)
        self.exact = tuple(isinstance(table.c[n].type, ExactDecimal) for n in self.names)

    def column(self, dialect: str) -> ColumnElement[Any]:
        items = [
            cast(self.table.c[n], Text) if d else self.table.c[n]
            for n, d in zip(self.names, self.exact, strict=True)
        ]
        if dialect == "postgresql":
            ordered = aggregate_order_by(
                func.json_build_array(*items), *(self.table.c[n] for n in self.order)
            )
            rows: Any = cast(
                func.coalesce(func.json_agg(ordered), literal_column("'[]'::json")), Text
            )
        else:
            rows = func.json_group_array(func.json_array(*items))
        return select(rows).where(*self.where).scalar_subquery()

    def decode(self, text: str, dialect: str) -> list[dict[str, Any]]:
        out = []
        for values in json.loads(text):
            row = dict(zip(self.names, values, strict=True))
            for name, exact in zip(self.names, self.exact, strict=True):
                if exact and row[name] is not None:
                    row[name] = Decimal(row[name])
            out.append(row)
        if dialect != "postgresql":
            out.sort(key=lambda r: tuple(r[n] for n in self.order))
        return out


def _names(table: Table) -> list[str]:
    return [c.name for c in table.c if c.name != "tenant_id"]


_METRICS = _Set(metrics, ["code", "definition"], [metrics.c.tenant_id == _TENANT], ["code"])
_CUSTOMERS = _Set(
    customers,
    _names(customers),
    [customers.c.tenant_id == _TENANT, customers.c.customer_ref == _CUSTOMER],
    ["customer_ref"],
)
_COUNTERS = _Set(
    counters,
    ["metric", "customer_ref", "period_start_us", "period_end_us", *STATE_COLUMNS],
    [
        counters.c.tenant_id == _TENANT,
        counters.c.customer_ref == _CUSTOMER,
        counters.c.period_end_us > bindparam("now"),
        counters.c.period_start_us < bindparam("after"),
    ],
    ["metric", "customer_ref", "period_start_us"],
)
_CLOSES = _Set(
    period_locks,
    list(PeriodClose.__slots__),
    [period_locks.c.tenant_id == _TENANT, period_locks.c.customer_ref == _CUSTOMER],
    ["metric", "customer_ref", "period_start_us"],
)
_PRICES = _Set(
    prices,
    ["metric", "customer_ref", "definition", "created_us", "updated_us"],
    [
        prices.c.tenant_id == _TENANT,
        prices.c.customer_ref.in_([bindparam("default"), _CUSTOMER]),
    ],
    ["metric", "customer_ref"],
)
_BACKFILLS = _Set(
    backfills,
    _names(backfills),
    [
        backfills.c.tenant_id == _TENANT,
        backfills.c.status.in_([bindparam("open"), bindparam("pending")]),
    ],
    ["created_us", "backfill_id"],
)
_SETS = (_METRICS, _CUSTOMERS, _COUNTERS, _CLOSES, _PRICES, _BACKFILLS)
_STATEMENTS = {
    dialect: select(*KEY_STAMP_COLUMNS, *(s.column(dialect) for s in _SETS))
    for dialect in ("sqlite", "postgresql")
}


class _Mapped:
    """A decoded row where a repository's row mapper expects a SQLAlchemy row."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


def _counter(row: dict[str, Any]) -> StoredCounter:
    state = CounterState(**{name: row[name] for name in STATE_COLUMNS})
    return StoredCounter(
        row["metric"], row["customer_ref"], row["period_start_us"], row["period_end_us"], state
    )


def _customer(row: dict[str, Any]) -> CustomerRecord:
    return CustomerRecord(**row)


def _price(row: dict[str, Any]) -> StoredPrice:
    return StoredPrice(**row)


def _close(row: dict[str, Any]) -> PeriodClose:
    return PeriodClose(**row)


def _backfill(row: dict[str, Any]) -> BackfillRecord:
    return backfill_record(_Mapped(row))


class CurrentReadsRepository:
    """The one-statement read behind ``GET /v1/usage/current``'s fast path."""

    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect.name
        self._tenant = tenant_id

    def current_inputs(self, customer_ref: str, now_us: int) -> CurrentInputs:
        params = {
            "tenant": self._tenant,
            "customer": customer_ref,
            "now": now_us,
            "after": now_us + 1,
            "default": DEFAULT_CUSTOMER,
            "open": OPEN,
            "pending": PENDING,
        }
        row = self._conn.execute(_STATEMENTS[self._dialect], params).one()
        sets = [s.decode(row[3 + i], self._dialect) for i, s in enumerate(_SETS)]
        found_metrics, found_customers, found_counters, closes, found_prices, sessions = sets
        return CurrentInputs(
            stamp=key_stamp(row),
            metrics={r["code"]: r["definition"] for r in found_metrics},
            customer=_customer(found_customers[0]) if found_customers else None,
            counters=[_counter(r) for r in found_counters],
            closes=[_close(r) for r in closes],
            prices=[_price(r) for r in found_prices],
            backfills=[_backfill(r) for r in sessions],
        )
