"""Everything a credit summary or an upcoming invoice reads, in one statement (ADR 0948).

``/portal/v1/credits`` read the grants, the prices, each drawing metric and each one's
counters in a statement of its own; ``/upcoming-invoice`` the metrics, prices, mappings,
the customer's record, each line's counter, then the grants and the burn's counters: each
a round trip on PostgreSQL. Here one ``SELECT`` returns those sets as JSON arrays
(``storage/json_sets.py``), filtered and ordered as their repositories filter and order
them. The burn's counters are the ones ``burn.period_totals`` keeps (starting before
``now``, ending after the customer's earliest grant takes effect: a scalar subquery, so no
grant, no counter); the lines' are those whose stored period contains ``at``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.ports.prices import DEFAULT_CUSTOMER, StoredPrice
from stripemeter_server.service.ports.billing_reads import BillingInputs
from stripemeter_server.service.stripe_sync.ports.accounts import StoredMapping
from stripemeter_server.storage.credits import grant_record
from stripemeter_server.storage.json_sets import (
    CUSTOMER,
    CUSTOMERS,
    METRICS,
    PRICES,
    TENANT,
    JsonSet,
    customer_counters,
    names,
    stored_counter,
)
from stripemeter_server.storage.schema import counters, credit_grants, stripe_mappings
from stripemeter_server.storage.sql_dialect import SqlDialect

_GRANTS = JsonSet(
    credit_grants,
    names(credit_grants),
    [credit_grants.c.tenant_id == TENANT, credit_grants.c.customer_ref == CUSTOMER],
    ["created_us", "grant_id"],
)
_MAPPINGS = JsonSet(
    stripe_mappings,
    names(stripe_mappings),
    [stripe_mappings.c.tenant_id == TENANT],
    ["metric"],
)
_EARLIEST_GRANT = (
    select(func.min(credit_grants.c.effective_us))
    .where(credit_grants.c.tenant_id == TENANT, credit_grants.c.customer_ref == CUSTOMER)
    .scalar_subquery()
)
_BURNING = customer_counters(
    counters.c.period_start_us < bindparam("now"), counters.c.period_end_us > _EARLIEST_GRANT
)
_CONTAINING = customer_counters(
    counters.c.period_start_us <= bindparam("at"), counters.c.period_end_us > bindparam("at")
)
_SETS = (_GRANTS, METRICS, PRICES, _MAPPINGS, CUSTOMERS, _BURNING, _CONTAINING)
_STATEMENTS = {
    dialect: select(*(s.column(dialect) for s in _SETS)) for dialect in ("sqlite", "postgresql")
}


def _mapping(row: dict[str, Any]) -> StoredMapping:
    return StoredMapping(**row)


class BillingReadsRepository:
    """The one-statement read behind the credit summary and the upcoming invoice."""

    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect.name
        self._tenant = tenant_id

    def billing_inputs(self, customer_ref: str, now_us: int, at_us: int) -> BillingInputs:
        params = {
            "tenant": self._tenant,
            "customer": customer_ref,
            "now": now_us,
            "at": at_us,
            "default": DEFAULT_CUSTOMER,
        }
        row = self._conn.execute(_STATEMENTS[self._dialect], params).one()
        sets = [s.decode(row[i], self._dialect) for i, s in enumerate(_SETS)]
        grants, found_metrics, found_prices, mappings, customers, burning, containing = sets
        return BillingInputs(
            grants=[grant_record(r) for r in grants],
            metrics={r["code"]: r["definition"] for r in found_metrics},
            prices=[StoredPrice(**r) for r in found_prices],
            mappings=[_mapping(r) for r in mappings],
            customer=CustomerRecord(**customers[0]) if customers else None,
            burning=[stored_counter(r) for r in burning],
            containing=[stored_counter(r) for r in containing],
        )
