"""The push outbox: what is on its way to Stripe, and what became of it.

Planning writes an outbox row and advances the counter's push state (``push_state.py``) in
one transaction, before any Stripe call. Sending claims one tenant's rows at a time with a
lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), the house pattern of the alert outbox, and
records each result in a short transaction of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    SENT,
    UNSENT,
    PushRow,
    PushStats,
)
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.schema import push_outbox
from stripemeter_server.storage.stripe_sync.push_rows import (
    LEASE_PLANNED_POSTGRES,
    LEASE_PLANNED_SQLITE,
    LEASE_POSTGRES,
    LEASE_SQLITE,
    MARK_SENT_POSTGRES,
    MARK_SENT_SQLITE,
    ROW_COLUMNS,
    push_row_of,
)
from stripemeter_server.storage.stripe_sync.push_state import PushPlanning


class PushesRepository(PushPlanning):
    """The push outbox (sending, leases, the API's listing) on top of the planner's push
    state (``push_state.py``)."""

    # --- sending --------------------------------------------------------------------------

    def claim_due(
        self, now_us: int, lease_us: int, limit: int, *, planned_at: Sequence[int] = ()
    ) -> list[PushRow]:
        """Worker only: take the tenant's due pending rows and lease them (the lease moves
        ``next_attempt_us`` on, so once this commits no other worker sees them as due).
        ``planned_at``: rows no claim has touched written by plans of these times (a plan's
        rows share its ``created_us``) are left out: the caller holds them and leases them
        with ``lease_planned`` (ADR 0965)."""
        query = select(*ROW_COLUMNS).where(
            push_outbox.c.tenant_id == self._tenant,
            push_outbox.c.status == PENDING,
            push_outbox.c.next_attempt_us <= now_us,
        )
        if planned_at:
            query = query.where(
                or_(push_outbox.c.attempts > 0, push_outbox.c.created_us.not_in(planned_at))
            )
        query = query.order_by(
            push_outbox.c.next_attempt_us, push_outbox.c.created_us, push_outbox.c.push_id
        ).limit(limit)
        rows = [
            push_row_of(r) for r in self._conn.execute(self._dialect.claim_due(query)).fetchall()
        ]
        if rows:
            # The claim's commit need not be durable (ADR 0895): a lease lost in a database
            # crash leaves the rows due, and whoever takes them resends them with the same
            # identifiers, which Stripe drops. Its durable commit was most of a PostgreSQL
            # v1 drain's wall time. Only the worker's claim, alone in its transaction.
            self._dialect.relax_commit_durability(self._conn)
        self._lease(rows, now_us, lease_us)
        return rows

    def lease_planned(self, rows: Sequence[PushRow], now_us: int, lease_us: int) -> list[PushRow]:
        """Worker only: lease rows this worker planned and holds as written, without reading
        them back (ADR 0965); only those no claim has touched (``attempts`` 0: the stored
        row is still the one held), pending and due. The rows leased, in the given order.
        Not durable, as a claim."""
        if not rows:
            return []
        until = now_us + lease_us
        ids = [r.push_id for r in rows]
        params: tuple[Any, ...]
        if self._dialect.name == "sqlite":
            statement = LEASE_PLANNED_SQLITE
            params = (until, until, now_us, self._tenant, json.dumps(ids), now_us)
        else:
            statement = LEASE_PLANNED_POSTGRES
            params = (json.dumps(ids), self._tenant, now_us, until, until, now_us)
        leased = {str(r[0]) for r in self._conn.exec_driver_sql(statement, params).fetchall()}
        if leased:
            self._dialect.relax_commit_durability(self._conn)
        return [r for r in rows if r.push_id in leased]

    def claim_ids(self, push_ids: Sequence[str], now_us: int, lease_us: int) -> list[PushRow]:
        """Take these due pending rows of the tenant (a reconciliation repair sends its own
        corrective pushes at once); rows another worker leased are skipped."""
        query = select(*ROW_COLUMNS).where(
            push_outbox.c.tenant_id == self._tenant,
            push_outbox.c.push_id.in_(list(push_ids)),
            push_outbox.c.status == PENDING,
            push_outbox.c.next_attempt_us <= now_us,
        )
        rows = [
            push_row_of(r) for r in self._conn.execute(self._dialect.claim_due(query)).fetchall()
        ]
        self._lease(rows, now_us, lease_us)
        return rows

    def _lease(self, rows: Sequence[PushRow], now_us: int, lease_us: int) -> None:
        """Lease the claimed rows: one statement for the claim, its ids bound as one value
        (a chunked ``IN (…)`` built its parameters in Python, per id; ADR 0946)."""
        if not rows:
            return
        until = now_us + lease_us
        ids = json.dumps([r.push_id for r in rows])
        if self._dialect.name == "sqlite":
            self._conn.exec_driver_sql(LEASE_SQLITE, (until, until, now_us, self._tenant, ids))
        else:
            self._conn.exec_driver_sql(LEASE_POSTGRES, (until, until, now_us, ids, self._tenant))

    def renew_lease(self, tenant_id: str, push_id: str, held_until_us: int, until_us: int) -> bool:
        """Worker only (the heartbeat, in the row's tenant): move a lease this worker holds (its
        ``lease_until_us`` is the one it set) to ``until_us``; False when the row was
        recorded, or another worker took it over after the lease lapsed."""
        result = self._conn.execute(
            update(push_outbox)
            .where(
                push_outbox.c.tenant_id == tenant_id,
                push_outbox.c.push_id == push_id,
                push_outbox.c.status == PENDING,
                push_outbox.c.lease_until_us == held_until_us,
            )
            .values(next_attempt_us=until_us, lease_until_us=until_us)
        )
        return bool(result.rowcount)

    def renew_leases(
        self, tenant_id: str, push_ids: Sequence[str], held_until_us: int, until_us: int
    ) -> set[str]:
        """``renew_lease`` for rows of one tenant leased together: one statement per 500
        rows; the ids whose lease moved (the others were recorded or taken over). Not
        durable, as a claim (the heartbeat's transaction renews leases only)."""
        self._dialect.relax_commit_durability(self._conn)
        renewed: set[str] = set()
        for part in chunks(sorted(push_ids)):
            # Rows locked in push-id order, as the sender records them: no deadlock.
            held = self._dialect.lock_rows(
                select(push_outbox.c.push_id)
                .where(
                    push_outbox.c.tenant_id == tenant_id,
                    push_outbox.c.push_id.in_(list(part)),
                    push_outbox.c.status == PENDING,
                    push_outbox.c.lease_until_us == held_until_us,
                )
                .order_by(push_outbox.c.push_id)
            )
            ids = [str(r[0]) for r in self._conn.execute(held)]
            if ids:
                self._conn.execute(
                    update(push_outbox)
                    .where(
                        push_outbox.c.tenant_id == tenant_id,
                        push_outbox.c.push_id.in_(ids),
                    )
                    .values(next_attempt_us=until_us, lease_until_us=until_us)
                )
            renewed.update(ids)
        return renewed

    def _where_pending(self, push_id: str) -> Any:
        return and_(
            push_outbox.c.tenant_id == self._tenant,
            push_outbox.c.push_id == push_id,
            push_outbox.c.status == PENDING,
        )

    def prepare(
        self, push_id: str, *, target: str, stripe_customer_id: str, timestamp_s: int, now_us: int
    ) -> None:
        """Fix what a resend must repeat (subscription item, customer, timestamp)."""
        self._conn.execute(
            update(push_outbox)
            .where(self._where_pending(push_id))
            .values(
                target=target,
                stripe_customer_id=stripe_customer_id,
                timestamp_s=timestamp_s,
                updated_us=now_us,
            )
        )

    def mark_sent(self, push_id: str, *, stripe_customer_id: str | None, now_us: int) -> None:
        self._conn.execute(
            update(push_outbox)
            .where(self._where_pending(push_id))
            .values(
                status=SENT,
                sent_us=now_us,
                lease_until_us=None,
                updated_us=now_us,
                stripe_customer_id=func.coalesce(
                    stripe_customer_id, push_outbox.c.stripe_customer_id
                ),
            )
        )

    def mark_sent_many(self, sent: Sequence[tuple[str, str | None]], now_us: int) -> None:
        """``mark_sent`` for many ``(push id, Stripe customer)`` pairs: one statement, the
        pairs one JSON array (SQLite: ADR 0946; PostgreSQL, which locks them in push-id
        order first within the statement: ADR 0973)."""
        if not sent:
            return
        pairs = json.dumps(sorted(sent))
        if self._dialect.name == "sqlite":  # one writer at a time: no lock order to keep
            self._conn.exec_driver_sql(MARK_SENT_SQLITE, (pairs, now_us, now_us, self._tenant))
        else:
            self._conn.exec_driver_sql(MARK_SENT_POSTGRES, (pairs, self._tenant, now_us, now_us))

    def mark_retry(
        self, push_id: str, *, next_attempt_us: int, error: str, code: str | None, now_us: int
    ) -> None:
        self._conn.execute(
            update(push_outbox)
            .where(self._where_pending(push_id))
            .values(
                next_attempt_us=next_attempt_us,
                lease_until_us=None,
                last_error=error[:1000],
                last_error_code=code,
                updated_us=now_us,
            )
        )

    def mark_failed(self, push_id: str, *, error: str, code: str | None, now_us: int) -> None:
        """Park the push: it stays visible and blocks newer pushes of its counter."""
        self._conn.execute(
            update(push_outbox)
            .where(self._where_pending(push_id))
            .values(
                status=FAILED,
                lease_until_us=None,
                last_error=error[:1000],
                last_error_code=code,
                updated_us=now_us,
            )
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
        """A sent push Stripe reported refused after answering 200: parked as failed, like a
        refusal at send time — or, ``look_up_again``, back to pending with its Stripe
        customer cleared, to be resolved afresh and resent. ``sent_us`` stays, so the resend
        uses a new idempotency key. False when the push is not (or no longer) ``sent``."""
        values: dict[str, Any] = {
            "status": FAILED,
            "last_error": error[:1000],
            "last_error_code": code,
            "updated_us": now_us,
        }
        if look_up_again:
            values.update(status=PENDING, next_attempt_us=now_us, stripe_customer_id=None)
        result = self._conn.execute(
            update(push_outbox)
            .where(
                push_outbox.c.tenant_id == self._tenant,
                push_outbox.c.push_id == push_id,
                push_outbox.c.status == SENT,
            )
            .values(**values)
        )
        return bool(result.rowcount)

    def stats(self) -> PushStats:
        query = (
            select(push_outbox.c.status, func.count(), func.min(push_outbox.c.created_us))
            .where(push_outbox.c.status.in_(UNSENT))
            .group_by(push_outbox.c.status)
        )
        by_status = {r[0]: (int(r[1]), r[2]) for r in self._conn.execute(query)}
        pending = by_status.get(PENDING, (0, None))
        return PushStats(pending[0], by_status.get(FAILED, (0, None))[0], pending[1])

    # --- the API ----------------------------------------------------------------------

    def get(self, push_id: str) -> PushRow | None:
        raw = self._conn.execute(
            select(*ROW_COLUMNS).where(
                push_outbox.c.tenant_id == self._tenant, push_outbox.c.push_id == push_id
            )
        ).first()
        return push_row_of(raw) if raw else None

    def find(
        self,
        *,
        status: str | None,
        metric: str | None,
        customer_ref: str | None,
        before: tuple[int, str] | None,
        limit: int,
    ) -> list[PushRow]:
        """Newest first, keyset-paged by ``(created_us, push_id)``."""
        query = select(*ROW_COLUMNS).where(push_outbox.c.tenant_id == self._tenant)
        if status is not None:
            query = query.where(push_outbox.c.status == status)
        if metric is not None:
            query = query.where(push_outbox.c.metric == metric)
        if customer_ref is not None:
            query = query.where(push_outbox.c.customer_ref == customer_ref)
        if before is not None:
            created, push_id = before
            query = query.where(
                or_(
                    push_outbox.c.created_us < created,
                    and_(push_outbox.c.created_us == created, push_outbox.c.push_id < push_id),
                )
            )
        query = query.order_by(push_outbox.c.created_us.desc(), push_outbox.c.push_id.desc())
        return [push_row_of(r) for r in self._conn.execute(query.limit(limit))]

    def requeue(
        self, push_ids: Sequence[str] | None, now_us: int, *, metric: str | None = None
    ) -> int:
        """Failed → pending, due now (by id, or every failed push of a metric)."""
        statement = update(push_outbox).where(
            push_outbox.c.tenant_id == self._tenant, push_outbox.c.status == FAILED
        )
        if push_ids is not None:
            statement = statement.where(push_outbox.c.push_id.in_(list(push_ids)))
        if metric is not None:
            statement = statement.where(push_outbox.c.metric == metric)
        result = self._conn.execute(
            statement.values(
                status=PENDING, next_attempt_us=now_us, lease_until_us=None, updated_us=now_us
            )
        )
        return int(result.rowcount)
