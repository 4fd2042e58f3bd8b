"""Push state per counter and the push outbox: what Stripe has, and what is on its way.

Planning writes an outbox row and advances the counter's push state in one transaction,
before any Stripe call. The state is advanced optimistically (``WHERE next_seq = ?``), so two
planners racing on one counter cannot both write: the loser's update matches no row (a
batch whose row count falls short is rolled back and planned again, ADR 0820). Sending
claims one tenant's rows at a time with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
the house pattern of the alert outbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.domain.counters import CounterState
from stripemeter_server.domain.stripe_mapping import SyncMode, Transport
from stripemeter_server.service.ports.counters import StoredCounter
from stripemeter_server.service.stripe_sync.ports.pushes import (
    FAILED,
    PENDING,
    SENT,
    UNSENT,
    ChangedCounter,
    PushRow,
    PushState,
    PushStats,
    PushStatus,
    StateKey,
    unsent_target,
)
from stripemeter_server.storage.chunking import chunks
from stripemeter_server.storage.ledger.counters import STATE_COLUMNS
from stripemeter_server.storage.schema import counters, push_outbox, push_state
from stripemeter_server.storage.sql_dialect import SqlDialect

_ROW_FIELDS = tuple(f.name for f in fields(PushRow))
# Built once: executemany binds every row's values to the one compiled statement.
_STATE_VALUES: dict[str, Any] = {
    "period_end_us": bindparam("end"),
    "target": bindparam("tgt"),
    "pushed_units": bindparam("units", type_=push_state.c.pushed_units.type),
    "next_seq": bindparam("seq"),
    "last_ts_s": bindparam("ts"),
    "updated_us": bindparam("now"),
    "counter_updated_us": bindparam("cu"),
}
_ADVANCE_STATE = (
    update(push_state)
    .where(
        push_state.c.tenant_id == bindparam("t"),
        push_state.c.metric == bindparam("m"),
        push_state.c.customer_ref == bindparam("c"),
        push_state.c.period_start_us == bindparam("s"),
        push_state.c.next_seq == bindparam("was"),
    )
    .values(**_STATE_VALUES)
    .returning(push_state.c.next_seq)
)
_INSERT_STATES = (
    "INSERT INTO push_state (tenant_id, metric, customer_ref, period_start_us, "
    "period_end_us, target, pushed_units, next_seq, last_ts_s, updated_us, "
    "counter_updated_us) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
    "ON CONFLICT DO NOTHING"
)
_MOVE_STATES = (
    "UPDATE push_state SET period_end_us = {p}, target = {p}, pushed_units = {p}, "
    "next_seq = {p}, last_ts_s = {p}, updated_us = {p}, counter_updated_us = {p} "
    "WHERE tenant_id = {p} "
    "AND metric = {p} AND customer_ref = {p} AND period_start_us = {p} "
    "AND next_seq = {p}"
)
_MARK_SENT_SQL = (
    "UPDATE push_outbox SET status = '" + SENT + "', sent_us = {p}, "
    "lease_until_us = NULL, updated_us = {p}, "
    "stripe_customer_id = COALESCE({p}, stripe_customer_id) "
    "WHERE tenant_id = {p} AND push_id = {p} AND status = '" + PENDING + "'"
)
_MARK_SENT_SQLITE = _MARK_SENT_SQL.format(p="?")
# PostgreSQL: a chunk's rows locked in push-id order (as the lease beat locks them), then
# marked by one statement over arrays: an executemany was a round trip per row (ADR 0895).
_LOCK_SENT_POSTGRES = (
    "SELECT push_id FROM push_outbox WHERE tenant_id = %s AND push_id = ANY(%s) "
    "ORDER BY push_id FOR UPDATE"
)
_MARK_SENT_POSTGRES = (
    "UPDATE push_outbox SET status = '" + SENT + "', sent_us = %s, lease_until_us = NULL, "
    "updated_us = %s, stripe_customer_id = COALESCE(v.customer, push_outbox.stripe_customer_id) "
    "FROM unnest(%s::text[], %s::text[]) AS v(push_id, customer) "
    "WHERE push_outbox.tenant_id = %s AND push_outbox.push_id = v.push_id "
    "AND push_outbox.status = '" + PENDING + "'"
)


_ROW_COLUMNS = tuple(push_outbox.c[name] for name in _ROW_FIELDS)  # in ``PushRow`` order
_MODES = {m.value: m for m in SyncMode}
_TRANSPORTS = {t.value: t for t in Transport}
_STATUSES = {s.value: s for s in PushStatus}
# Columns decoded on the way out: (position in ``_ROW_FIELDS``, decoder).
_DECODE = tuple(
    (_ROW_FIELDS.index(name), decode)
    for name, decode in (
        ("mode", _MODES.__getitem__),
        ("transport", _TRANSPORTS.__getitem__),
        ("value", int),
        ("pushed_after", int),
        ("status", _STATUSES.__getitem__),
    )
)


def _row(raw: Any) -> PushRow:
    """A row selected as ``_ROW_COLUMNS``, by position: a claim decodes a thousand at once,
    and a dict per row was most of its cost (ADR 0895)."""
    values: list[Any] = list(raw)
    for at, decode in _DECODE:
        values[at] = decode(values[at])
    return PushRow(*values)


# A scan's columns, read by position (``Row._mapping`` per counter was half of a v2 drain's
# CPU, ADR 0895): the key, the ``updated_us`` read, then the state in ``STATE_COLUMNS`` order.
_CHANGED_COLUMNS = (
    counters.c.metric,
    counters.c.customer_ref,
    counters.c.period_start_us,
    counters.c.period_end_us,
    counters.c.updated_us,
    *(counters.c[name] for name in STATE_COLUMNS),
)


def _changed(raw: Any) -> ChangedCounter:
    metric, customer_ref, start_us, end_us, updated_us, *state = raw
    return ChangedCounter(
        StoredCounter(
            metric,
            customer_ref,
            start_us,
            end_us,
            CounterState(**dict(zip(STATE_COLUMNS, state, strict=True))),
        ),
        updated_us,
    )


def _state(raw: Any) -> PushState:
    m = raw._mapping
    units = m["pushed_units"]
    return PushState(
        m["metric"],
        m["customer_ref"],
        m["period_start_us"],
        m["period_end_us"],
        m["target"],
        None if units is None else int(units),
        m["next_seq"],
        m["last_ts_s"],
        m["counter_updated_us"],
    )


def _units(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class PushesRepository:
    def __init__(self, conn: Connection, dialect: SqlDialect, tenant_id: str) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._insert_state: Any = None

    # --- planning ---------------------------------------------------------------------

    def changed_counters(
        self,
        metric: str,
        *,
        since_us: int | None,
        min_end_us: int | None,
        settled_us: int | None = None,
    ) -> list[ChangedCounter]:
        """The metric's counters written at or after ``since_us`` (None: all) whose period
        ends after ``min_end_us`` (None: any), each with the ``updated_us`` read. With
        ``settled_us`` (incremental scans), a counter its push state was planned from as it
        is now (same ``updated_us``, ADR 0850) is left out, and so is one planned at least
        ``settled_us`` after its last write (states from before that marker)."""
        query = select(*_CHANGED_COLUMNS).where(
            counters.c.tenant_id == self._tenant, counters.c.metric == metric
        )
        if since_us is not None:
            query = query.where(counters.c.updated_us >= since_us)
        if min_end_us is not None:
            query = query.where(counters.c.period_end_us > min_end_us)
        if settled_us is not None:
            planned = select(push_state.c.updated_us).where(
                push_state.c.tenant_id == counters.c.tenant_id,
                push_state.c.metric == counters.c.metric,
                push_state.c.customer_ref == counters.c.customer_ref,
                push_state.c.period_start_us == counters.c.period_start_us,
                or_(
                    push_state.c.counter_updated_us == counters.c.updated_us,
                    push_state.c.updated_us >= counters.c.updated_us + settled_us,
                ),
            )
            query = query.where(~planned.exists())
        return [_changed(r) for r in self._conn.execute(query)]

    def orphaned_states(self, metric: str, min_end_us: int) -> list[PushState]:
        """Pushed counters that no longer exist (every event voided, or the metric rebuilt
        onto other periods): Stripe still holds a non-zero total for them."""
        has_counter = exists().where(
            counters.c.tenant_id == push_state.c.tenant_id,
            counters.c.metric == push_state.c.metric,
            counters.c.customer_ref == push_state.c.customer_ref,
            counters.c.period_start_us == push_state.c.period_start_us,
        )
        query = select(push_state).where(
            push_state.c.tenant_id == self._tenant,
            push_state.c.metric == metric,
            push_state.c.period_end_us > min_end_us,
            push_state.c.pushed_units.is_not(None),
            push_state.c.pushed_units != _units(0),
            ~has_counter,
        )
        return [_state(r) for r in self._conn.execute(query)]

    def states(self, metric: str, customers: Iterable[str]) -> dict[StateKey, PushState]:
        found: dict[StateKey, PushState] = {}
        for part in chunks(sorted(set(customers))):
            query = select(push_state).where(
                push_state.c.tenant_id == self._tenant,
                push_state.c.metric == metric,
                push_state.c.customer_ref.in_(list(part)),
            )
            for raw in self._conn.execute(query):
                state = _state(raw)
                found[state.key] = state
        return found

    def unsent_keys(self, metric: str) -> set[tuple[str, str, int, str]]:
        """Counters with a push not yet sent (pending, or parked), each with the target it
        goes to (``meter_events:<event name>`` or ``usage_records``): such a counter gets no
        new push to that target. A push parked on an old target does not block a new one."""
        query = select(
            push_outbox.c.customer_ref,
            push_outbox.c.period_start_us,
            push_outbox.c.mode,
            push_outbox.c.target,
        ).where(
            push_outbox.c.tenant_id == self._tenant,
            push_outbox.c.metric == metric,
            push_outbox.c.status.in_(UNSENT),
        )
        return {(metric, r[0], r[1], unsent_target(r[2], r[3])) for r in self._conn.execute(query)}

    def advance(self, before: PushState | None, after: PushState, now_us: int) -> bool:
        """Move the counter's push state on; False when another planner got there first.
        One prebuilt statement per kind, its values bound (a pass advances hundreds)."""
        values = {
            "t": self._tenant,
            "m": after.metric,
            "c": after.customer_ref,
            "s": after.period_start_us,
            "end": after.period_end_us,
            "tgt": after.target,
            "units": _units(after.pushed_units),
            "seq": after.next_seq,
            "ts": after.last_ts_s,
            "now": now_us,
            "cu": after.counter_updated_us,
            "was": None if before is None else before.next_seq,
        }
        if before is None:
            if self._insert_state is None:
                self._insert_state = (
                    self._dialect.upsert(push_state)
                    .values(
                        tenant_id=bindparam("t"),
                        metric=bindparam("m"),
                        customer_ref=bindparam("c"),
                        period_start_us=bindparam("s"),
                        **_STATE_VALUES,
                    )
                    .on_conflict_do_nothing()
                    .returning(push_state.c.next_seq)
                )
            statement = self._insert_state
        else:
            statement = _ADVANCE_STATE
        return self._conn.execute(statement, values).first() is not None

    def advance_many(
        self, moves: Sequence[tuple[PushState | None, PushState]], now_us: int
    ) -> bool:
        """``advance`` for many counters: two executemanys on the driver (new states, moved
        states). True when every move applied; False when another planner got to one of
        them first — some may have applied, so the caller must roll back and plan again."""
        pg = self._dialect.name != "sqlite"
        fresh, moved = [], []
        for before, after in moves:
            units = _units(after.pushed_units)
            unit_value = None if units is None else units if pg else format(units, "f")
            values = (
                after.period_end_us,
                after.target,
                unit_value,
                after.next_seq,
                after.last_ts_s,
                now_us,
                after.counter_updated_us,
            )
            key = (self._tenant, after.metric, after.customer_ref, after.period_start_us)
            if before is None:
                fresh.append((*key, *values))
            else:
                moved.append((*values, *key, before.next_seq))
        applied = 0
        for sql, params in ((_INSERT_STATES, fresh), (_MOVE_STATES, moved)):
            if params:
                statement = sql.format(p="%s" if pg else "?")
                applied += self._conn.exec_driver_sql(statement, params).rowcount
        return applied == len(moves)

    def set_state_timestamp(self, key: StateKey, timestamp_s: int) -> None:
        metric, customer, start = key
        self._conn.execute(
            update(push_state)
            .where(
                push_state.c.tenant_id == self._tenant,
                push_state.c.metric == metric,
                push_state.c.customer_ref == customer,
                push_state.c.period_start_us == start,
            )
            .values(last_ts_s=timestamp_s)
        )

    def add(self, row: PushRow) -> None:
        self.add_many([row])

    def add_many(self, rows: Sequence[PushRow]) -> None:
        """Insert outbox rows in one executemany (a planning pass writes hundreds)."""
        if not rows:
            return
        params = []
        for row in rows:
            values = {name: getattr(row, name) for name in _ROW_FIELDS}
            values["value"] = Decimal(row.value)
            values["pushed_after"] = Decimal(row.pushed_after)
            values["tenant_id"] = self._tenant
            params.append(values)
        self._conn.execute(push_outbox.insert(), params)

    # --- sending --------------------------------------------------------------------------

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[PushRow]:
        """Worker only: take the tenant's due pending rows and lease them (the lease moves
        ``next_attempt_us`` on, so once this commits no other worker sees them as due)."""
        query = select(*_ROW_COLUMNS).where(
            push_outbox.c.tenant_id == self._tenant,
            push_outbox.c.status == PENDING,
            push_outbox.c.next_attempt_us <= now_us,
        )
        query = query.order_by(
            push_outbox.c.next_attempt_us, push_outbox.c.created_us, push_outbox.c.push_id
        ).limit(limit)
        rows = [_row(r) for r in self._conn.execute(self._dialect.claim_due(query))]
        if rows:
            # The claim's commit need not be durable (ADR 0895): a lease lost in a database
            # crash leaves the rows due, and whoever takes them resends them with the same
            # identifiers, which Stripe drops. Its durable commit was most of a PostgreSQL
            # v1 drain's wall time. Only the worker's claim, alone in its transaction.
            self._dialect.relax_commit_durability(self._conn)
        self._lease(rows, now_us, lease_us)
        return rows

    def claim_ids(self, push_ids: Sequence[str], now_us: int, lease_us: int) -> list[PushRow]:
        """Take these due pending rows of the tenant (a reconciliation repair sends its own
        corrective pushes at once); rows another worker leased are skipped."""
        query = select(*_ROW_COLUMNS).where(
            push_outbox.c.tenant_id == self._tenant,
            push_outbox.c.push_id.in_(list(push_ids)),
            push_outbox.c.status == PENDING,
            push_outbox.c.next_attempt_us <= now_us,
        )
        rows = [_row(r) for r in self._conn.execute(self._dialect.claim_due(query))]
        self._lease(rows, now_us, lease_us)
        return rows

    def _lease(self, rows: Sequence[PushRow], now_us: int, lease_us: int) -> None:
        """Lease the claimed rows: one ``UPDATE … WHERE push_id IN (…)`` per 500 rows."""
        for part in chunks([r.push_id for r in rows]):
            self._conn.execute(
                update(push_outbox)
                .where(
                    push_outbox.c.tenant_id == self._tenant,
                    push_outbox.c.push_id.in_(list(part)),
                )
                .values(
                    next_attempt_us=now_us + lease_us,
                    lease_until_us=now_us + lease_us,
                    attempts=push_outbox.c.attempts + 1,
                    updated_us=now_us,
                )
            )

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
        """``mark_sent`` for many ``(push id, Stripe customer)`` pairs, in push-id order:
        on SQLite one executemany with text built once (SQLAlchemy's per-row parameter
        processing cost more than the statements), on PostgreSQL one lock and one update
        per 500 rows."""
        if not sent:
            return
        ordered = sorted(sent)
        if self._dialect.name == "sqlite":
            self._conn.exec_driver_sql(
                _MARK_SENT_SQLITE,
                [
                    (now_us, now_us, customer, self._tenant, push_id)
                    for push_id, customer in ordered
                ],
            )
            return
        for part in chunks(ordered):
            ids = [push_id for push_id, _ in part]
            customers = [customer for _, customer in part]
            self._conn.exec_driver_sql(_LOCK_SENT_POSTGRES, (self._tenant, ids))
            self._conn.exec_driver_sql(
                _MARK_SENT_POSTGRES, (now_us, now_us, ids, customers, self._tenant)
            )

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
            select(*_ROW_COLUMNS).where(
                push_outbox.c.tenant_id == self._tenant, push_outbox.c.push_id == push_id
            )
        ).first()
        return _row(raw) if raw else None

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
        query = select(*_ROW_COLUMNS).where(push_outbox.c.tenant_id == self._tenant)
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
        return [_row(r) for r in self._conn.execute(query.limit(limit))]

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
