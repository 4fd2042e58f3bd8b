"""Push state per counter and the push outbox: records, statuses and the port."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, Protocol

from stripemeter_server.domain.metrics import Aggregation, Metric
from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode, Transport
from stripemeter_server.service.ports.counters import StoredCounter


class PushStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


PENDING, SENT, FAILED = PushStatus.PENDING, PushStatus.SENT, PushStatus.FAILED


UNSENT = (PENDING, FAILED)

# A meter event push parked at planning: its period is beyond Stripe's 35 days.
TOO_OLD = "timestamp_too_far_in_past"
TOO_OLD_ERROR = (
    "the period ended more than 35 days ago: Stripe refuses meter events "
    "that old (bill the difference by hand, e.g. an invoice item)"
)


StateKey = tuple[str, str, int]  # (metric, customer_ref, period_start_us)


class PushState(NamedTuple):
    """A counter's push state. A named tuple, not a frozen dataclass: a plan builds two per
    counter it moves (the state read, the state after), and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) cost ~1.5 µs each (ADR 0983).
    Copies with changes: ``state._replace(...)``."""

    metric: str
    customer_ref: str
    period_start_us: int
    period_end_us: int
    target: str
    pushed_units: int | None
    next_seq: int
    last_ts_s: int | None
    # The counter's ``updated_us`` as the plan that wrote this state read it (ADR 0850): an
    # incremental scan skips a counter whose ``updated_us`` still equals it. None: planned
    # before migration 0015, or an orphaned counter.
    counter_updated_us: int | None = None

    @property
    def key(self) -> StateKey:
        return (self.metric, self.customer_ref, self.period_start_us)


class ChangedCounter(NamedTuple):
    """A counter an incremental scan found, with the ``updated_us`` it read (a named tuple:
    a scan builds one per changed counter, ADR 0983)."""

    counter: StoredCounter
    updated_us: int


class PushRow(NamedTuple):
    """An outbox row. A named tuple, not a frozen dataclass: a plan builds one per counter
    it moves and a claim one per row it reads, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field, 23 of them) cost ~10x a tuple's (ADR 0978). Copies
    with changes: ``row._replace(...)``."""

    tenant_id: str
    push_id: str
    metric: str
    customer_ref: str
    period_start_us: int
    period_end_us: int
    seq: int
    mode: SyncMode
    transport: Transport
    target: str | None
    stripe_customer_id: str | None
    value: int
    pushed_after: int
    timestamp_s: int | None
    status: PushStatus
    attempts: int
    last_error: str | None
    last_error_code: str | None
    next_attempt_us: int
    lease_until_us: int | None
    created_us: int
    sent_us: int | None
    updated_us: int

    @property
    def key(self) -> StateKey:
        return (self.metric, self.customer_ref, self.period_start_us)


class DeltaPlan(NamedTuple):
    """One metric's plan as the planner asks for it: what a store needs to compute the
    deltas from the counters minus the pushed states (ADR 0985). ``target`` is the state's
    target (``target_of``); ``since_us`` None is a full sweep; ``settled_us`` the overlap."""

    tenant_id: str
    mapping: StripeMapping
    metric: Metric
    target: str
    now_us: int
    min_end_us: int
    since_us: int | None
    settled_us: int | None


def unsent_target(mode: str, target: str | None) -> str:
    return f"meter_events:{target}" if mode == "meter_events" else "usage_records"


@dataclass(frozen=True, slots=True)
class PushStats:
    """Across tenants, for ``/metrics`` and ``/health/ready``."""

    pending: int
    failed: int
    oldest_pending_us: int | None


class PushesRepository(Protocol):
    def changed_counters(
        self,
        metric: str,
        *,
        since_us: int | None,
        min_end_us: int | None,
        settled_us: int | None = None,
        aggregation: Aggregation | None = None,  # only what its value reads (ADR 0973)
    ) -> list[ChangedCounter]: ...

    def orphaned_states(self, metric: str, min_end_us: int) -> list[PushState]: ...

    def plan_deltas(self, plan: DeltaPlan) -> list[PushRow] | None:
        """Write a set-based plan's outbox rows and state moves (only a ``meter_events``
        plan of a ``sum`` formula over count, sum or unique count: see ``set_based``) and
        return the rows; None when another planner moved one of its
        states first (the caller rolls back). Equal, row for row, to the Python plan."""
        ...

    def states(self, metric: str, customers: Iterable[str]) -> dict[StateKey, PushState]: ...

    def unsent_keys(self, metric: str) -> set[tuple[str, str, int, str]]: ...

    def advance(self, before: PushState | None, after: PushState, now_us: int) -> bool: ...

    def advance_many(
        self, moves: Sequence[tuple[PushState | None, PushState]], now_us: int
    ) -> bool: ...

    def set_state_timestamp(self, key: StateKey, timestamp_s: int) -> None: ...

    def add(self, row: PushRow) -> None: ...

    def add_many(self, rows: Sequence[PushRow]) -> None: ...

    def claim_due(
        self, now_us: int, lease_us: int, limit: int, *, planned_at: Sequence[int] = ()
    ) -> list[PushRow]: ...

    def lease_planned(
        self, rows: Sequence[PushRow], now_us: int, lease_us: int
    ) -> list[PushRow]: ...

    def claim_ids(self, push_ids: Sequence[str], now_us: int, lease_us: int) -> list[PushRow]: ...

    def renew_lease(
        self, tenant_id: str, push_id: str, held_until_us: int, until_us: int
    ) -> bool: ...

    def renew_leases(
        self, tenant_id: str, push_ids: Sequence[str], held_until_us: int, until_us: int
    ) -> set[str]: ...

    def prepare(
        self, push_id: str, *, target: str, stripe_customer_id: str, timestamp_s: int, now_us: int
    ) -> None: ...

    def mark_sent(self, push_id: str, *, stripe_customer_id: str | None, now_us: int) -> None: ...

    def mark_sent_many(self, sent: Sequence[tuple[str, str | None]], now_us: int) -> None: ...

    def mark_retry(
        self, push_id: str, *, next_attempt_us: int, error: str, code: str | None, now_us: int
    ) -> None: ...

    def mark_failed(self, push_id: str, *, error: str, code: str | None, now_us: int) -> None: ...

    def reject_sent(
        self,
        push_id: str,
        *,
        error: str,
        code: str | None,
        now_us: int,
        look_up_again: bool = False,
    ) -> bool: ...

    def stats(self) -> PushStats: ...

    def get(self, push_id: str) -> PushRow | None: ...

    def find(
        self,
        *,
        status: str | None,
        metric: str | None,
        customer_ref: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[PushRow]: ...

    def requeue(
        self, push_ids: Sequence[str] | None, now_us: int, *, metric: str | None = None
    ) -> int: ...
