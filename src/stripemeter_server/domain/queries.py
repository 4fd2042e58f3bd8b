"""What a reader asks the ledger or the audit log for: plain filter values.

They live in the domain because every layer names them: an entry point builds one from a
request, a use case passes it on, and a storage adapter turns it into a query.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventFilter:
    metric: str | None = None
    customer_ref: str | None = None
    ts_from_us: int | None = None
    ts_to_us: int | None = None
    after_seq: int | None = None
    include_void: bool = True
    # Only events that count: not void, and not held in a backfill session that is not
    # closed. Rebuilds and ledger reads use it, so they agree with the live counters.
    only_counting: bool = False
    backfill_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    from_us: int | None = None
    to_us: int | None = None
