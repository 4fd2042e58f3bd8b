"""Everything a current-usage read needs, in one statement (ADR 0941); a billing-periods
read likewise (ADR 0961).

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
open and pending backfill sessions; each set's order is the repository's
(``storage/json_sets.py``). ``GET /v1/usage/periods`` reads the same way the five sets it
used to read one by one: the metric, the customer's record, its counters of the metric
overlapping the range, its period closes and the metric's open and pending sessions.
``GET /v1/usage/history`` reads the metric and the customer's record so (ADR 0967), then
the ledger's totals per step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice
from stripemeter_server.service.corrections.ports.adjustments import PeriodClose
from stripemeter_server.service.corrections.ports.backfills import OPEN, PENDING, BackfillRecord
from stripemeter_server.service.ports.current_reads import (
    CurrentInputs,
    HistoryInputs,
    PeriodInputs,
)
from stripemeter_server.storage.catalog.definitions import KEY_STAMP_COLUMNS, key_stamp
from stripemeter_server.storage.corrections.backfills import backfill_record
from stripemeter_server.storage.driver_statements import DriverHandle, DriverStatement
from stripemeter_server.storage.json_sets import (
    CUSTOMER,
    CUSTOMERS,
    METRICS,
    PRICES,
    TENANT,
    JsonSet,
    counter_of,
    customer_counters,
    names,
)
from stripemeter_server.storage.schema import backfills, counters, metrics, period_locks
from stripemeter_server.storage.sql_dialect import SqlDialect


def _on_driver(statement: Select[Any]) -> DriverStatement:
    """The statement on the driver's cursor (ADR 0950's ``DriverStatement``; ADR 0961): its
    columns named by position, so the row keeps them all and in order."""
    return DriverStatement(
        select(*(c.label(f"c{i}") for i, c in enumerate(statement.selected_columns)))
    )


_COUNTERS = customer_counters(
    counters.c.period_end_us > bindparam("now"), counters.c.period_start_us < bindparam("after")
)
_CLOSES = JsonSet(
    period_locks,
    list(PeriodClose.__slots__),
    [period_locks.c.tenant_id == TENANT, period_locks.c.customer_ref == CUSTOMER],
    ["metric", "customer_ref", "period_start_us"],
)
_BACKFILLS = JsonSet(
    backfills,
    names(backfills),
    [
        backfills.c.tenant_id == TENANT,
        backfills.c.status.in_([bindparam("open"), bindparam("pending")]),
    ],
    ["created_us", "backfill_id"],
)
_SETS = (METRICS, CUSTOMERS, _COUNTERS, _CLOSES, PRICES, _BACKFILLS)
CURRENT_STATEMENTS = {
    dialect: _on_driver(select(*KEY_STAMP_COLUMNS, *(s.column(dialect) for s in _SETS)))
    for dialect in ("sqlite", "postgresql")
}

# ``GET /v1/usage/periods`` (ADR 0961): the metric, the customer's record, its counters of
# the metric overlapping the range (``CountersRepository.find``'s filter), its closes and
# the metric's open and pending sessions (``open_sessions_for``'s ``find``).
_METRIC = JsonSet(
    metrics,
    ["code", "definition"],
    [metrics.c.tenant_id == TENANT, metrics.c.code == bindparam("metric")],
    ["code"],
)
_RANGE_COUNTERS = customer_counters(
    counters.c.metric == bindparam("metric"),
    counters.c.period_end_us > bindparam("start"),
    counters.c.period_start_us < bindparam("end"),
)
_METRIC_BACKFILLS = JsonSet(
    backfills,
    _BACKFILLS.names,
    [*_BACKFILLS.where, backfills.c.metric == bindparam("metric")],
    _BACKFILLS.order,
)
_PERIOD_SETS = (_METRIC, CUSTOMERS, _RANGE_COUNTERS, _CLOSES, _METRIC_BACKFILLS)
_PERIOD_STATEMENTS = {
    dialect: _on_driver(select(*KEY_STAMP_COLUMNS, *(s.column(dialect) for s in _PERIOD_SETS)))
    for dialect in ("sqlite", "postgresql")
}

# ``GET /v1/usage/history`` (ADR 0967): the metric and the customer's record (its time
# zone), before the ledger is read.
_HISTORY_SETS = (_METRIC, CUSTOMERS)
_HISTORY_STATEMENTS = {
    dialect: _on_driver(select(*KEY_STAMP_COLUMNS, *(s.column(dialect) for s in _HISTORY_SETS)))
    for dialect in ("sqlite", "postgresql")
}


class _Mapped:
    """A decoded row where a repository's row mapper expects a SQLAlchemy row."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


def _named(found: JsonSet, row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(found.names, row, strict=True))


def _customer(rows: list[tuple[Any, ...]]) -> CustomerRecord | None:
    return CustomerRecord(**_named(CUSTOMERS, rows[0])) if rows else None


def _metric(rows: list[tuple[Any, ...]]) -> str | None:
    return str(rows[0][1]) if rows else None  # (code, definition)


def _price(row: tuple[Any, ...]) -> StoredPrice:
    return StoredPrice(**_named(PRICES, row))


def _close(row: tuple[Any, ...]) -> PeriodClose:
    return PeriodClose(**_named(_CLOSES, row))


def _backfill(row: tuple[Any, ...]) -> BackfillRecord:
    return backfill_record(_Mapped(_named(_BACKFILLS, row)))


def current_params(tenant_id: str, customer_ref: str, now_us: int) -> dict[str, Any]:
    """The current-usage statement's parameters (``CURRENT_STATEMENTS``)."""
    return {
        "tenant": tenant_id,
        "customer": customer_ref,
        "now": now_us,
        "after": now_us + 1,
        "default": DEFAULT_CUSTOMER,
        "open": OPEN,
        "pending": PENDING,
    }


def current_inputs_of(row: list[Any], dialect: str) -> CurrentInputs:
    """``CurrentInputs`` from the current-usage statement's one row (its values in order)."""
    sets = [s.rows(row[3 + i], dialect) for i, s in enumerate(_SETS)]
    found_metrics, found_customers, found_counters, closes, found_prices, sessions = sets
    return CurrentInputs(
        stamp=key_stamp(row),
        metrics=dict(found_metrics),  # (code, definition) pairs
        customer=_customer(found_customers),
        counters=[counter_of(r) for r in found_counters],
        closes=[_close(r) for r in closes],
        prices=[_price(r) for r in found_prices],
        backfills=[_backfill(r) for r in sessions],
    )


class CurrentReadsRepository:
    """The one-statement reads behind ``GET /v1/usage/current`` and ``/periods``, and the
    first statement of ``/history``."""

    def __init__(
        self, conn: Connection | DriverHandle, dialect: SqlDialect, tenant_id: str
    ) -> None:
        self._conn = conn
        self._dialect = dialect.name
        self._tenant = tenant_id

    def current_inputs(self, customer_ref: str, now_us: int) -> CurrentInputs:
        params = current_params(self._tenant, customer_ref, now_us)
        row = list(CURRENT_STATEMENTS[self._dialect].rows(self._conn, params)[0].values())
        return current_inputs_of(row, self._dialect)

    def period_inputs(
        self, customer_ref: str, metric: str, start_us: int, end_us: int
    ) -> PeriodInputs:
        params = {
            "tenant": self._tenant,
            "customer": customer_ref,
            "metric": metric,
            "start": start_us,
            "end": end_us,
            "open": OPEN,
            "pending": PENDING,
        }
        row = list(_PERIOD_STATEMENTS[self._dialect].rows(self._conn, params)[0].values())
        sets = [s.rows(row[3 + i], self._dialect) for i, s in enumerate(_PERIOD_SETS)]
        found_metric, found_customers, found_counters, closes, sessions = sets
        return PeriodInputs(
            stamp=key_stamp(row),
            metric=_metric(found_metric),
            customer=_customer(found_customers),
            counters=[counter_of(r) for r in found_counters],
            closes=[_close(r) for r in closes],
            backfills=[_backfill(r) for r in sessions],
        )

    def history_inputs(self, customer_ref: str, metric: str) -> HistoryInputs:
        params = {"tenant": self._tenant, "customer": customer_ref, "metric": metric}
        row = list(_HISTORY_STATEMENTS[self._dialect].rows(self._conn, params)[0].values())
        found_metric, found_customers = (
            s.rows(row[3 + i], self._dialect) for i, s in enumerate(_HISTORY_SETS)
        )
        return HistoryInputs(
            stamp=key_stamp(row),
            metric=_metric(found_metric),
            customer=_customer(found_customers),
        )
