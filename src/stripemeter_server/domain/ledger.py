"""A new event as the ledger records it: one immutable row, fields in the ledger's column
order (the storage adapters bind it as it is; a test ties the order to the schema)."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class LedgerEntry(NamedTuple):
    idempotency_key: str
    metric: str
    customer_ref: str
    quantity: Decimal
    ts_us: int
    received_us: int
    resource_id: str | None
    meta: str | None
    fingerprint: str
    late: bool
    late_after_close: bool
    voided_us: int | None
    request_id: str | None
    backfill_id: str | None
