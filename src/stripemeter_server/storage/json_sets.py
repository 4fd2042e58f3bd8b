"""A table's rows as one JSON array of arrays inside a ``SELECT`` (ADR 0941, ADR 0948).

A read that needs several small sets (a customer's counters, the tenant's metrics, its
prices) gets them in one statement, one round trip: each set is a scalar subquery, its rows
aggregated as JSON (``json_group_array`` on SQLite, ``json_agg`` on PostgreSQL) and decoded
into the records the repositories build. Decimal columns are cast to text in the statement,
so no value passes through a binary float on either store. PostgreSQL aggregates in the
repositories' ``ORDER BY`` (its collation); SQLite's aggregate order is not promised, so
its arrays are sorted here by the same keys (SQLite's ``BINARY`` collation is code point
order, as Python's).

The hot reads decode their sets with ``JsonSet.rows`` (ADR 0971): msgspec against the
columns' types, straight to tuples in the set's column order, decimals as ``Decimal`` from
their text, instead of ``json.loads`` and a ``dict`` per row converted value by value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from decimal import Decimal
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import (
    BindParameter,
    Column,
    ColumnElement,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import counters, customers, metrics, prices
from stripemeter_server.storage.types import ExactDecimal

TENANT: BindParameter[str] = bindparam("tenant")
CUSTOMER: BindParameter[str] = bindparam("customer")


class JsonSet:
    """One table's rows as a JSON array of arrays: its columns, filter and order."""

    def __init__(
        self, table: Table, names: Sequence[str], where: Sequence[Any], order: Sequence[str]
    ) -> None:
        self.table = table
        self.names = tuple(names)
        self.where = where
        self.order = tuple(order)
        self.exact = tuple(isinstance(table.c[n].type, ExactDecimal) for n in self.names)
        row_type = tuple.__class_getitem__(tuple(_python_type(table.c[n]) for n in self.names))
        self._rows = msgspec.json.Decoder(list[row_type])  # type: ignore[valid-type]
        self._order = itemgetter(*(self.names.index(n) for n in self.order))

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

    def rows(self, text: str, dialect: str) -> list[tuple[Any, ...]]:
        """The set's rows as tuples in ``names``' order and the repository's order, each
        value as ``decode`` gives it (decimals exact, from their text): decoded by msgspec
        against the columns' types, with no ``dict`` per row (ADR 0971)."""
        if text == "[]":
            return []
        found: list[tuple[Any, ...]] = self._rows.decode(text)
        if dialect != "postgresql" and len(found) > 1:
            found.sort(key=self._order)
        return found

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


def _python_type(column: Column[Any]) -> Any:
    """What a column's JSON value decodes to (``decode``'s values): decimals from their
    text, integers, strings; any other type as JSON gives it. ``None`` always allowed."""
    kind = column.type
    base: Any = (
        Decimal
        if isinstance(kind, ExactDecimal)
        else int
        if isinstance(kind, Integer)
        else str
        if isinstance(kind, String)
        else Any
    )
    return base if base is Any else base | None


def names(table: Table) -> list[str]:
    return [c.name for c in table.c if c.name != "tenant_id"]


METRICS = JsonSet(metrics, ["code", "definition"], [metrics.c.tenant_id == TENANT], ["code"])
CUSTOMERS = JsonSet(
    customers,
    names(customers),
    [customers.c.tenant_id == TENANT, customers.c.customer_ref == CUSTOMER],
    ["customer_ref"],
)
# The default prices and the customer's overrides (``PricesRepository.for_customer``).
PRICES = JsonSet(
    prices,
    ["metric", "customer_ref", "definition", "created_us", "updated_us"],
    [
        prices.c.tenant_id == TENANT,
        prices.c.customer_ref.in_([bindparam("default"), CUSTOMER]),
    ],
    ["metric", "customer_ref"],
)
COUNTER_NAMES = ["metric", "customer_ref", "period_start_us", "period_end_us", *STATE_COLUMNS]
COUNTER_ORDER = ["metric", "customer_ref", "period_start_us"]


def customer_counters(*where: Any) -> JsonSet:
    """The customer's counters that also meet ``where``, in ``CountersRepository.find``'s
    order."""
    base = [counters.c.tenant_id == TENANT, counters.c.customer_ref == CUSTOMER]
    return JsonSet(counters, COUNTER_NAMES, [*base, *where], COUNTER_ORDER)


# ``counter_of`` builds the state positionally: its fields are the state columns, in order.
if tuple(f.name for f in fields(CounterState)) != STATE_COLUMNS:  # pragma: no cover
    raise ImportError("CounterState's fields are not STATE_COLUMNS, in order")


def counter_of(row: tuple[Any, ...]) -> StoredCounter:
    """A counter from a ``customer_counters`` set's row (``JsonSet.rows``)."""
    return StoredCounter(row[0], row[1], row[2], row[3], CounterState(*row[4:]))


def stored_counter(row: dict[str, Any]) -> StoredCounter:
    state = CounterState(**{name: row[name] for name in STATE_COLUMNS})
    return StoredCounter(
        row["metric"], row["customer_ref"], row["period_start_us"], row["period_end_us"], state
    )
