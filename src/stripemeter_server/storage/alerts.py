"""Alert rules, fired alert events, and the webhook outbox with its attempt log.

Fire-once is enforced by the database, not by the caller: ``alert_events`` has a unique key
on (tenant, rule, customer, period start), so two concurrent ingests that both see a
threshold crossed store one event. Each event takes the next number of a per-tenant
sequence row; that row stays locked until the firing transaction commits, so events become
visible in sequence order and a server-sent-events client resuming "after N" misses none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection

from stripemeter_server.service.alerts.ports import (
    PENDING,
    AlertEventRecord,
    AlertRuleRecord,
    DeliveryAttempt,
    OutboxItem,
)
from stripemeter_server.storage.catalog.stamp import CatalogView
from stripemeter_server.storage.schema import (
    alert_deliveries,
    alert_events,
    alert_outbox,
    alert_rules,
    alert_sequences,
)
from stripemeter_server.storage.sql_dialect import SqlDialect


def _fields(cls: Any, row: Any) -> Any:
    return cls(**{name: row._mapping[name] for name in cls.__slots__})


# Built once: ingest reads the rules in every group.
_RULES = (
    select(alert_rules)
    .where(alert_rules.c.tenant_id == bindparam("tenant"))
    .order_by(alert_rules.c.created_us, alert_rules.c.rule_id)
)


class AlertsRepository:
    def __init__(
        self, conn: Connection, dialect: SqlDialect, tenant_id: str, catalog: CatalogView
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._tenant = tenant_id
        self._catalog = catalog  # rules are part of the tenant's catalog stamp (ADR 0947)

    # --- rules ---------------------------------------------------------------------------

    def add_rule(self, rule: AlertRuleRecord) -> None:
        self._catalog.changing(self._conn)
        self._conn.execute(
            alert_rules.insert().values(
                tenant_id=self._tenant, **{n: getattr(rule, n) for n in AlertRuleRecord.__slots__}
            )
        )

    def replace_rule(self, rule: AlertRuleRecord) -> None:
        values = {n: getattr(rule, n) for n in AlertRuleRecord.__slots__ if n != "rule_id"}
        self._catalog.changing(self._conn)
        self._conn.execute(
            update(alert_rules)
            .where(alert_rules.c.tenant_id == self._tenant, alert_rules.c.rule_id == rule.rule_id)
            .values(**values)
        )

    def get_rule(self, rule_id: str) -> AlertRuleRecord | None:
        row = self._conn.execute(
            select(alert_rules).where(
                alert_rules.c.tenant_id == self._tenant, alert_rules.c.rule_id == rule_id
            )
        ).first()
        return _fields(AlertRuleRecord, row) if row else None

    def rules(self) -> list[AlertRuleRecord]:
        """Every rule: the store's copy when the transaction's catalog stamp matches it (no
        statement), else read and kept under the stamp."""
        kept = self._catalog.rules()
        if kept is not None:
            return kept
        rows = self._conn.execute(_RULES, {"tenant": self._tenant})
        found = [_fields(AlertRuleRecord, row) for row in rows]
        self._catalog.keep_rules(found)
        return found

    def delete_rule(self, rule_id: str) -> bool:
        self._catalog.changing(self._conn)
        result = self._conn.execute(
            delete(alert_rules).where(
                alert_rules.c.tenant_id == self._tenant, alert_rules.c.rule_id == rule_id
            )
        )
        return bool(result.rowcount)

    def lock_customers(self, customer_refs: list[str]) -> None:
        """Serialise spend evaluation per customer until commit (a named lock per customer,
        the store's ``lock_keys``: advisory locks on PostgreSQL, the one writer on SQLite).
        ADR 0012."""
        self._dialect.lock_keys(
            self._conn, (f"stripemeter:spend:{self._tenant}:{ref}" for ref in customer_refs)
        )

    # --- events --------------------------------------------------------------------------

    def has_fired(self, rule_id: str, customer_ref: str, period_start_us: int | None) -> bool:
        """Whether the rule fired for the customer in that period (``None``: in any period)."""
        query = select(alert_events.c.seq).where(
            alert_events.c.tenant_id == self._tenant,
            alert_events.c.rule_id == rule_id,
            alert_events.c.customer_ref == customer_ref,
        )
        if period_start_us is not None:
            query = query.where(alert_events.c.period_start_us == period_start_us)
        return self._conn.execute(query.limit(1)).first() is not None

    def _next_seq(self) -> int:
        stmt = (
            self._dialect.upsert(alert_sequences)
            .values(tenant_id=self._tenant, last_seq=1)
            .on_conflict_do_update(
                index_elements=["tenant_id"],
                set_={"last_seq": alert_sequences.c.last_seq + 1},
            )
            .returning(alert_sequences.c.last_seq)
        )
        return int(self._conn.execute(stmt).scalar_one())

    def fire(
        self,
        *,
        event_id: str,
        rule_id: str,
        customer_ref: str,
        metric: str | None,
        period_start_us: int,
        period_end_us: int,
        payload: str,
        now_us: int,
    ) -> AlertEventRecord | None:
        """Store the event unless it already fired; ``None`` when it had."""
        seq = self._next_seq()
        values: dict[str, Any] = {
            "seq": seq,
            "event_id": event_id,
            "rule_id": rule_id,
            "customer_ref": customer_ref,
            "metric": metric,
            "period_start_us": period_start_us,
            "period_end_us": period_end_us,
            "payload": payload,
            "created_us": now_us,
        }
        result = self._conn.execute(
            self._dialect.upsert(alert_events)
            .values(tenant_id=self._tenant, **values)
            .on_conflict_do_nothing()
        )
        if result.rowcount:
            return AlertEventRecord(**values)
        # It had fired: hand the number back. This transaction still holds the sequence row's
        # lock (taken by the increment), so no later number was given out meanwhile and the
        # sequence stays gapless.
        self._conn.execute(
            update(alert_sequences)
            .where(
                alert_sequences.c.tenant_id == self._tenant,
                alert_sequences.c.last_seq == seq,
            )
            .values(last_seq=seq - 1)
        )
        return None

    def events(
        self,
        *,
        after_seq: int = 0,
        limit: int = 100,
        rule_id: str | None = None,
        customer_ref: str | None = None,
    ) -> list[AlertEventRecord]:
        query = select(alert_events).where(
            alert_events.c.tenant_id == self._tenant, alert_events.c.seq > after_seq
        )
        if rule_id is not None:
            query = query.where(alert_events.c.rule_id == rule_id)
        if customer_ref is not None:
            query = query.where(alert_events.c.customer_ref == customer_ref)
        rows = self._conn.execute(query.order_by(alert_events.c.seq).limit(limit))
        return [_fields(AlertEventRecord, row) for row in rows]

    def get_event(self, event_id: str) -> AlertEventRecord | None:
        row = self._conn.execute(
            select(alert_events).where(
                alert_events.c.tenant_id == self._tenant, alert_events.c.event_id == event_id
            )
        ).first()
        return _fields(AlertEventRecord, row) if row else None

    def event_by_seq(self, seq: int) -> AlertEventRecord | None:
        row = self._conn.execute(
            select(alert_events).where(
                alert_events.c.tenant_id == self._tenant, alert_events.c.seq == seq
            )
        ).first()
        return _fields(AlertEventRecord, row) if row else None

    # --- outbox and attempt log ----------------------------------------------------------

    def enqueue(
        self, *, delivery_id: str, event_seq: int, rule_id: str, url: str, now_us: int
    ) -> None:
        self._conn.execute(
            alert_outbox.insert().values(
                tenant_id=self._tenant,
                delivery_id=delivery_id,
                event_seq=event_seq,
                rule_id=rule_id,
                url=url,
                status=PENDING,
                attempts=0,
                next_attempt_us=now_us,
                created_us=now_us,
                updated_us=now_us,
            )
        )

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[OutboxItem]:
        """Worker only: take the tenant's due deliveries and lease them.

        The lease moves ``next_attempt_us`` forward in the claiming transaction, so once it
        commits no other worker sees the row as due; on PostgreSQL ``SKIP LOCKED`` keeps
        concurrent claimers from waiting on (or double-taking) each other's rows.
        """
        query = select(alert_outbox).where(
            alert_outbox.c.tenant_id == self._tenant,
            alert_outbox.c.status == PENDING,
            alert_outbox.c.next_attempt_us <= now_us,
        )
        query = self._dialect.claim_due(query.order_by(alert_outbox.c.next_attempt_us).limit(limit))
        items = [_fields(OutboxItem, row) for row in self._conn.execute(query)]
        for item in items:
            self._conn.execute(
                update(alert_outbox)
                .where(
                    alert_outbox.c.tenant_id == item.tenant_id,
                    alert_outbox.c.delivery_id == item.delivery_id,
                )
                .values(next_attempt_us=now_us + lease_us, updated_us=now_us)
            )
        return items

    def outbox_item(self, delivery_id: str) -> OutboxItem | None:
        row = self._conn.execute(
            select(alert_outbox).where(
                alert_outbox.c.tenant_id == self._tenant, alert_outbox.c.delivery_id == delivery_id
            )
        ).first()
        return _fields(OutboxItem, row) if row else None

    def outbox_for_event(self, event_seq: int) -> list[OutboxItem]:
        rows = self._conn.execute(
            select(alert_outbox)
            .where(
                alert_outbox.c.tenant_id == self._tenant,
                alert_outbox.c.event_seq == event_seq,
            )
            .order_by(alert_outbox.c.created_us)
        )
        return [_fields(OutboxItem, row) for row in rows]

    def record_attempt(self, attempt: DeliveryAttempt, *, status: str, now_us: int) -> None:
        """Log one attempt and move the outbox row to its next state, in one transaction.

        The attempt is numbered here, under the outbox row's lock, so every POST made is
        logged once even if two workers ever attempted the same delivery.
        """
        locked = select(alert_outbox.c.attempts).where(
            alert_outbox.c.tenant_id == self._tenant,
            alert_outbox.c.delivery_id == attempt.delivery_id,
        )
        self._conn.execute(self._dialect.lock_rows(locked))
        number = (
            int(
                self._conn.execute(
                    select(func.coalesce(func.max(alert_deliveries.c.attempt), 0)).where(
                        alert_deliveries.c.tenant_id == self._tenant,
                        alert_deliveries.c.delivery_id == attempt.delivery_id,
                    )
                ).scalar_one()
            )
            + 1
        )
        attempt = replace(attempt, attempt=number)
        self._conn.execute(
            alert_deliveries.insert().values(
                tenant_id=self._tenant,
                **{n: getattr(attempt, n) for n in DeliveryAttempt.__slots__},
            )
        )
        self._conn.execute(
            update(alert_outbox)
            .where(
                alert_outbox.c.tenant_id == self._tenant,
                alert_outbox.c.delivery_id == attempt.delivery_id,
            )
            .values(
                status=status,
                attempts=attempt.attempt,
                next_attempt_us=attempt.next_attempt_us or now_us,
                updated_us=now_us,
            )
        )

    def attempts(self, event_seq: int) -> list[DeliveryAttempt]:
        rows = self._conn.execute(
            select(alert_deliveries)
            .where(
                alert_deliveries.c.tenant_id == self._tenant,
                alert_deliveries.c.event_seq == event_seq,
            )
            .order_by(alert_deliveries.c.attempted_us, alert_deliveries.c.attempt)
        )
        return [_fields(DeliveryAttempt, row) for row in rows]
