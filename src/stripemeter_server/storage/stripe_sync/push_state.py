"""Push state per counter, as the planner reads and moves it (ADR 0007, 0820, 0850).

The state is advanced optimistically (``WHERE next_seq = ?``), so two planners racing on
one counter cannot both write: the loser's update matches no row (a batch whose row count
falls short is rolled back and planned again, ADR 0820). ``PushesRepository`` adds the
outbox's sending and listing to this.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.service.stripe_sync.ports.pushes import (
    UNSENT,
    ChangedCounter,
    DeltaPlan,
    PushRow,
    PushState,
    StateKey,
    unsent_target,
)
from stripemeter_server.storage.schema import counters, push_outbox, push_state
from stripemeter_server.storage.sql_dialect import SqlDialect
from stripemeter_server.storage.stripe_sync.delta_plan import plan_deltas
from stripemeter_server.storage.stripe_sync.push_rows import (
    ADVANCE_STATE,
    AMOUNT_POSITIONS,
    ENUM_POSITIONS,
    INSERT_OUTBOX,
    INSERT_OUTBOX_POSTGRES,
    INSERT_STATES,
    INSERT_STATES_POSTGRES,
    MOVE_STATES,
    MOVE_STATES_POSTGRES,
    ROW_FIELDS,
    STATE_VALUES,
    STATES_POSTGRES,
    STATES_SQLITE,
    TENANT_POSITION,
    changed_columns,
    changed_counter_of,
    push_state_of,
    units_of,
)

_ROW_VALUES = attrgetter(*ROW_FIELDS)


class PushPlanning:
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
        aggregation: Aggregation | None = None,
    ) -> list[ChangedCounter]:
        """The metric's counters written at or after ``since_us`` (None: all) whose period
        ends after ``min_end_us`` (None: any), each with the ``updated_us`` read. With
        ``settled_us`` (incremental scans), a counter its push state was planned from as it
        is now (same ``updated_us``, ADR 0850) is left out, and so is one planned at least
        ``settled_us`` after its last write (states from before that marker). With
        ``aggregation``, only the state columns its value reads are read (ADR 0973)."""
        query = select(*changed_columns(aggregation)).where(
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
        # fetchall: one driver call and the result processors run over the whole batch;
        # iterating the result fetched row by row (ADR 0946).
        rows = self._conn.execute(query).fetchall()
        return [changed_counter_of(r, aggregation) for r in rows]

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
            push_state.c.pushed_units != units_of(0),
            ~has_counter,
        )
        return [push_state_of(r) for r in self._conn.execute(query).fetchall()]

    def plan_deltas(self, plan: DeltaPlan) -> list[PushRow] | None:
        """The plan set-based, in SQL (``delta_plan``, ADR 0985)."""
        return plan_deltas(self._conn, self._tenant, plan)

    def states(self, metric: str, customers: Iterable[str]) -> dict[StateKey, PushState]:
        """One statement, the customers bound as one value (chunked ``IN`` lists built
        their parameters in Python, per customer; ADR 0946)."""
        refs = sorted(set(customers))
        if not refs:
            return {}
        bound = json.dumps(refs)  # PostgreSQL too: a text[] was dumped per element (ADR 0973)
        if self._dialect.name == "sqlite":
            statement, params = STATES_SQLITE, (self._tenant, metric, bound)
        else:
            statement, params = STATES_POSTGRES, (bound, self._tenant, metric)
        raws = self._conn.exec_driver_sql(statement, params).fetchall()
        return {(state := push_state_of(raw)).key: state for raw in raws}

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
        return {
            (metric, r[0], r[1], unsent_target(r[2], r[3]))
            for r in self._conn.execute(query).fetchall()
        }

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
            "units": units_of(after.pushed_units),
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
                        **STATE_VALUES,
                    )
                    .on_conflict_do_nothing()
                    .returning(push_state.c.next_seq)
                )
            statement = self._insert_state
        else:
            statement = ADVANCE_STATE
        return self._conn.execute(statement, values).first() is not None

    def advance_many(
        self, moves: Sequence[tuple[PushState | None, PushState]], now_us: int
    ) -> bool:
        """``advance`` for many counters: two statements (new states, moved states; on
        SQLite executemanys, on PostgreSQL over one JSON value each). True when every move applied;
        False when another planner got to one of them first — some may have applied, so
        the caller must roll back and plan again."""
        pg = self._dialect.name != "sqlite"
        fresh, moved = [], []
        for before, after in moves:
            units = after.pushed_units  # whole units: their text is the numeric's
            unit_value = None if units is None else str(units)
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
        if pg:
            return self._advance_json(fresh, moved) == len(moves)
        applied = 0
        for sql, params in ((INSERT_STATES, fresh), (MOVE_STATES, moved)):
            if params:
                applied += self._conn.exec_driver_sql(sql.format(p="?"), params).rowcount
        return applied == len(moves)

    def _advance_json(self, fresh: list[tuple[Any, ...]], moved: list[tuple[Any, ...]]) -> int:
        """PostgreSQL: the new states in one insert and the moved ones in one update, the
        states one JSON array of arrays each (an executemany ran its statement once per row,
        ADR 0965); how many rows the two wrote."""
        applied = 0
        if fresh:  # (tenant, *STATE_KEYS): the tenant bound once
            states = json.dumps([f[1:] for f in fresh])
            applied += self._conn.exec_driver_sql(
                INSERT_STATES_POSTGRES, (self._tenant, states)
            ).rowcount
        if moved:  # (*STATE_KEYS[3:], tenant, *STATE_KEYS[:3], was)
            states = json.dumps([(*m[8:11], *m[:7], m[11]) for m in moved])
            applied += self._conn.exec_driver_sql(
                MOVE_STATES_POSTGRES, (states, self._tenant)
            ).rowcount
        return applied

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
        """Insert outbox rows with text built once (a planning pass writes hundreds;
        SQLAlchemy's per-row parameter processing was half of the insert's cost, ADR 0895):
        on SQLite one driver-level executemany, on PostgreSQL one statement, the rows one
        JSON array of arrays (ADR 0965). Amounts as canonical text (``ExactDecimal``'s on SQLite,
        PostgreSQL's numeric input); enums as their values."""
        if not rows:
            return
        pg = self._dialect.name != "sqlite"
        params = []
        for row in rows:
            values: list[Any] = list(_ROW_VALUES(row))  # one C call, not 23 getattr
            values[TENANT_POSITION] = self._tenant
            for at in ENUM_POSITIONS:
                values[at] = values[at].value
            for at in AMOUNT_POSITIONS:
                values[at] = str(values[at])
            params.append(tuple(values))
        if pg:  # one statement, the rows one JSON value (ADR 0965)
            items = json.dumps([p[1:] for p in params])
            self._conn.exec_driver_sql(INSERT_OUTBOX_POSTGRES, (self._tenant, items))
        else:
            self._conn.exec_driver_sql(INSERT_OUTBOX.format(p="?"), params)
