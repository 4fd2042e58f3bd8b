"""In-memory Stripe-side repositories of stripe sync: the account, mappings, the Stripe
customer cache, subscription items, and the push state with its outbox (ADR 0026).

Each mirrors its SQL counterpart in ``storage/stripe_sync/``: ``put`` is an upsert that keeps
the row's creation time; ``advance`` moves a push state only from the ``next_seq`` the
caller read (the optimistic check that stops two planners); ``claim_due`` leases due
pending rows by moving ``next_attempt_us`` on, so a claimed row is not due again until its
lease lapses; the ``mark_*`` moves apply to pending rows only. ``stats`` and the lease
renewals read every tenant's outbox, as the worker does.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.service.stripe_sync.planner import plan_in_python
from stripemeter_server.service.stripe_sync.ports.accounts import StoredMapping, StoredStripeAccount
from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    SENT,
    UNSENT,
    ChangedCounter,
    DeltaPlan,
    PushRow,
    PushState,
    PushStats,
    StateKey,
    unsent_target,
)
from stripemeter_server.service.stripe_sync.ports.subscription_items import (
    SubscriptionItemRecord,
)
from tests.support.fake_repos import LedgerTables


@dataclass
class StripeTables:
    """One tenant's Stripe-side rows."""

    account: dict[str, StoredStripeAccount] = field(default_factory=dict)  # "" → the one
    mappings: dict[str, StoredMapping] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)  # customer_ref → Stripe id
    items: dict[tuple[str, str], SubscriptionItemRecord] = field(default_factory=dict)
    states: dict[StateKey, PushState] = field(default_factory=dict)
    states_written: dict[StateKey, int] = field(default_factory=dict)  # updated_us
    outbox: dict[str, PushRow] = field(default_factory=dict)


class FakeStripeAccounts:
    def __init__(self, tables: StripeTables) -> None:
        self._t = tables

    def get(self) -> StoredStripeAccount | None:
        return self._t.account.get("")

    def put(self, account: StoredStripeAccount) -> None:
        kept = self._t.account.get("")
        created = kept.created_us if kept is not None else account.created_us
        self._t.account[""] = replace(account, created_us=created)

    def delete(self) -> bool:
        return self._t.account.pop("", None) is not None


class FakeMappings:
    def __init__(self, tables: StripeTables) -> None:
        self._t = tables

    def get(self, metric: str) -> StoredMapping | None:
        return self._t.mappings.get(metric)

    def all(self) -> list[StoredMapping]:
        return [self._t.mappings[m] for m in sorted(self._t.mappings)]

    def put(self, metric: str, definition: str, now_us: int) -> None:
        kept = self._t.mappings.get(metric)
        created = kept.created_us if kept is not None else now_us
        self._t.mappings[metric] = StoredMapping(metric, definition, created, now_us)

    def delete(self, metric: str) -> bool:
        return self._t.mappings.pop(metric, None) is not None


class FakeStripeCustomers:
    def __init__(self, tables: StripeTables) -> None:
        self._t = tables

    def get(self, customer_ref: str) -> str | None:
        return self._t.customers.get(customer_ref)

    def ref_for(self, stripe_customer_id: str) -> str | None:
        refs = sorted(r for r, s in self._t.customers.items() if s == stripe_customer_id)
        return refs[0] if refs else None

    def put(self, customer_ref: str, stripe_customer_id: str, now_us: int) -> None:
        self._t.customers[customer_ref] = stripe_customer_id

    def forget(self, customer_ref: str) -> None:
        self._t.customers.pop(customer_ref, None)


class FakeSubscriptionItems:
    def __init__(self, tables: StripeTables) -> None:
        self._t = tables

    def get(self, customer_ref: str, metric: str) -> SubscriptionItemRecord | None:
        return self._t.items.get((customer_ref, metric))

    def put(self, record: SubscriptionItemRecord) -> None:
        self._t.items[(record.customer_ref, record.metric)] = record

    def delete(self, customer_ref: str, metric: str) -> bool:
        return self._t.items.pop((customer_ref, metric), None) is not None


class FakePushes:
    """``PushesRepository`` over one tenant's ``StripeTables`` and ledger counters."""

    def __init__(
        self,
        tables: StripeTables,
        ledger: LedgerTables,
        everyone: Callable[[], Mapping[str, StripeTables]],
    ) -> None:
        self._t = tables
        self._ledger = ledger
        self._everyone = everyone

    # --- planning ---------------------------------------------------------------------

    def changed_counters(
        self,
        metric: str,
        *,
        since_us: int | None,
        min_end_us: int | None,
        settled_us: int | None = None,
        aggregation: Aggregation | None = None,  # the whole state either way
    ) -> list[ChangedCounter]:
        found = []
        for key, counter in self._ledger.counters.items():
            written = self._ledger.counters_written.get(key, 0)
            planned = self._t.states_written.get(key)
            state = self._t.states.get(key)
            if (
                counter.metric != metric
                or (since_us is not None and written < since_us)
                or (min_end_us is not None and counter.period_end_us <= min_end_us)
                or (
                    settled_us is not None
                    and (
                        (state is not None and state.counter_updated_us == written)
                        or (planned is not None and planned >= written + settled_us)
                    )
                )
            ):
                continue
            found.append(ChangedCounter(copy.deepcopy(counter), written))
        return found

    def orphaned_states(self, metric: str, min_end_us: int) -> list[PushState]:
        return [
            s
            for k, s in self._t.states.items()
            if s.metric == metric
            and s.period_end_us > min_end_us
            and s.pushed_units not in (None, 0)
            and k not in self._ledger.counters
        ]

    def plan_deltas(self, plan: DeltaPlan) -> list[PushRow] | None:
        return plan_in_python(self, plan)  # the stores' SQL is tested against this

    def states(self, metric: str, customers: Iterable[str]) -> dict[StateKey, PushState]:
        wanted = set(customers)
        return {k: s for k, s in self._t.states.items() if s.metric == metric and k[1] in wanted}

    def unsent_keys(self, metric: str) -> set[tuple[str, str, int, str]]:
        return {
            (metric, r.customer_ref, r.period_start_us, unsent_target(r.mode, r.target))
            for r in self._t.outbox.values()
            if r.metric == metric and r.status in UNSENT
        }

    def advance(self, before: PushState | None, after: PushState, now_us: int) -> bool:
        kept = self._t.states.get(after.key)
        if (
            (kept is not None)
            if before is None
            else (kept is None or kept.next_seq != before.next_seq)
        ):
            return False  # another planner got there first
        self._t.states[after.key] = after
        self._t.states_written[after.key] = now_us
        return True

    def advance_many(
        self, moves: Sequence[tuple[PushState | None, PushState]], now_us: int
    ) -> bool:
        applied = [self.advance(before, after, now_us) for before, after in moves]
        return all(applied)

    def set_state_timestamp(self, key: StateKey, timestamp_s: int) -> None:
        if key in self._t.states:
            self._t.states[key] = self._t.states[key]._replace(last_ts_s=timestamp_s)

    def add(self, row: PushRow) -> None:
        self.add_many([row])

    def add_many(self, rows: Sequence[PushRow]) -> None:
        for row in rows:
            if row.push_id in self._t.outbox:
                raise KeyError(f"duplicate push {row.push_id}")  # the primary key
            self._t.outbox[row.push_id] = row

    # --- sending --------------------------------------------------------------------------

    def _due(self, row: PushRow, now_us: int) -> bool:
        return row.status == PENDING and row.next_attempt_us <= now_us

    def claim_due(
        self, now_us: int, lease_us: int, limit: int, *, planned_at: Sequence[int] = ()
    ) -> list[PushRow]:
        due = sorted(
            (
                r
                for r in self._t.outbox.values()
                if self._due(r, now_us) and (r.attempts > 0 or r.created_us not in planned_at)
            ),
            key=lambda r: (r.next_attempt_us, r.created_us, r.push_id),
        )[:limit]
        self._lease(due, now_us, lease_us)
        return due

    def lease_planned(self, rows: Sequence[PushRow], now_us: int, lease_us: int) -> list[PushRow]:
        mine = []
        for row in rows:
            stored = self._t.outbox.get(row.push_id)
            if stored is not None and stored.attempts == 0 and self._due(stored, now_us):
                mine.append(row)
        self._lease(mine, now_us, lease_us)
        return mine

    def claim_ids(self, push_ids: Sequence[str], now_us: int, lease_us: int) -> list[PushRow]:
        wanted = set(push_ids)
        due = [r for k, r in self._t.outbox.items() if k in wanted and self._due(r, now_us)]
        self._lease(due, now_us, lease_us)
        return due

    def _lease(self, rows: Sequence[PushRow], now_us: int, lease_us: int) -> None:
        for row in rows:
            self._t.outbox[row.push_id] = row._replace(
                next_attempt_us=now_us + lease_us,
                lease_until_us=now_us + lease_us,
                attempts=row.attempts + 1,
                updated_us=now_us,
            )

    def renew_lease(self, tenant_id: str, push_id: str, held_until_us: int, until_us: int) -> bool:
        return bool(self.renew_leases(tenant_id, [push_id], held_until_us, until_us))

    def renew_leases(
        self, tenant_id: str, push_ids: Sequence[str], held_until_us: int, until_us: int
    ) -> set[str]:
        outbox = self._everyone()[tenant_id].outbox if tenant_id in self._everyone() else {}
        renewed = set()
        for push_id in set(push_ids):
            row = outbox.get(push_id)
            if row is not None and row.status == PENDING and row.lease_until_us == held_until_us:
                outbox[push_id] = row._replace(next_attempt_us=until_us, lease_until_us=until_us)
                renewed.add(push_id)
        return renewed

    def _move_pending(self, push_id: str, **values: object) -> None:
        row = self._t.outbox.get(push_id)
        if row is not None and row.status == PENDING:
            self._t.outbox[push_id] = row._replace(**values)  # type: ignore[arg-type]

    def prepare(
        self, push_id: str, *, target: str, stripe_customer_id: str, timestamp_s: int, now_us: int
    ) -> None:
        self._move_pending(
            push_id,
            target=target,
            stripe_customer_id=stripe_customer_id,
            timestamp_s=timestamp_s,
            updated_us=now_us,
        )

    def mark_sent(self, push_id: str, *, stripe_customer_id: str | None, now_us: int) -> None:
        row = self._t.outbox.get(push_id)
        customer = stripe_customer_id if stripe_customer_id is not None else None
        if row is not None and customer is None:
            customer = row.stripe_customer_id
        self._move_pending(
            push_id,
            status=SENT,
            sent_us=now_us,
            lease_until_us=None,
            updated_us=now_us,
            stripe_customer_id=customer,
        )

    def mark_sent_many(self, sent: Sequence[tuple[str, str | None]], now_us: int) -> None:
        for push_id, customer in sent:
            self.mark_sent(push_id, stripe_customer_id=customer, now_us=now_us)

    def mark_retry(
        self, push_id: str, *, next_attempt_us: int, error: str, code: str | None, now_us: int
    ) -> None:
        self._move_pending(
            push_id,
            next_attempt_us=next_attempt_us,
            lease_until_us=None,
            last_error=error[:1000],
            last_error_code=code,
            updated_us=now_us,
        )

    def mark_failed(self, push_id: str, *, error: str, code: str | None, now_us: int) -> None:
        self._move_pending(
            push_id,
            status=FAILED,
            lease_until_us=None,
            last_error=error[:1000],
            last_error_code=code,
            updated_us=now_us,
        )

    def reject_sent(
        self,
        push_id: str,
        *,
        error: str,
        code: str | None,
        now_us: int,
        look_up_again: bool = False,
    ) -> bool:
        row = self._t.outbox.get(push_id)
        if row is None or row.status != SENT:
            return False
        moved = row._replace(
            status=FAILED, last_error=error[:1000], last_error_code=code, updated_us=now_us
        )
        if look_up_again:
            moved = moved._replace(status=PENDING, next_attempt_us=now_us, stripe_customer_id=None)
        self._t.outbox[push_id] = moved
        return True

    def stats(self) -> PushStats:
        rows = [r for t in self._everyone().values() for r in t.outbox.values()]
        pending = [r.created_us for r in rows if r.status == PENDING]
        failed = sum(1 for r in rows if r.status == FAILED)
        return PushStats(len(pending), failed, min(pending, default=None))

    # --- the API ----------------------------------------------------------------------

    def get(self, push_id: str) -> PushRow | None:
        return self._t.outbox.get(push_id)

    def find(
        self,
        *,
        status: str | None,
        metric: str | None,
        customer_ref: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[PushRow]:
        rows = [
            r
            for r in self._t.outbox.values()
            if (status is None or r.status == status)
            and (metric is None or r.metric == metric)
            and (customer_ref is None or r.customer_ref == customer_ref)
            and (before is None or (r.created_us, r.push_id) < before)
        ]
        return sorted(rows, key=lambda r: (r.created_us, r.push_id), reverse=True)[:limit]

    def requeue(
        self, push_ids: Sequence[str] | None, now_us: int, *, metric: str | None = None
    ) -> int:
        doomed = [
            r
            for r in self._t.outbox.values()
            if r.status == FAILED
            and (push_ids is None or r.push_id in push_ids)
            and (metric is None or r.metric == metric)
        ]
        for row in doomed:
            self._t.outbox[row.push_id] = row._replace(
                status=PENDING, next_attempt_us=now_us, lease_until_us=None, updated_us=now_us
            )
        return len(doomed)
