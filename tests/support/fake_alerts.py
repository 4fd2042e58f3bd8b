"""In-memory alert rules, fired events and the webhook outbox, with the SQL adapter's rules.

``fire`` stores an event once per (rule, customer, period) and numbers events per tenant
without gaps; ``claim_due`` leases due deliveries across every tenant (the worker's view),
so it reads every tenant's outbox through ``everyone``; ``record_attempt`` numbers attempts
per delivery and moves the outbox row to its next state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from stripemeter_server.service.alerts.ports import (
    PENDING,
    AlertEventRecord,
    AlertRuleRecord,
    DeliveryAttempt,
    OutboxItem,
)


@dataclass
class AlertTables:
    rules: dict[str, AlertRuleRecord] = field(default_factory=dict)
    events: list[AlertEventRecord] = field(default_factory=list)
    outbox: dict[str, OutboxItem] = field(default_factory=dict)
    deliveries: list[DeliveryAttempt] = field(default_factory=list)


class FakeAlerts:
    """``AlertsRepository`` over one tenant's ``AlertTables``."""

    def __init__(
        self, tables: AlertTables, tenant_id: str, everyone: Callable[[], Iterable[AlertTables]]
    ) -> None:
        self._t = tables
        self._tenant = tenant_id
        self._everyone = everyone

    # --- rules ---------------------------------------------------------------------------

    def add_rule(self, rule: AlertRuleRecord) -> None:
        if rule.rule_id in self._t.rules:
            raise KeyError(f"duplicate rule {rule.rule_id}")  # the primary key
        self._t.rules[rule.rule_id] = rule

    def replace_rule(self, rule: AlertRuleRecord) -> None:
        if rule.rule_id in self._t.rules:
            self._t.rules[rule.rule_id] = rule

    def get_rule(self, rule_id: str) -> AlertRuleRecord | None:
        return self._t.rules.get(rule_id)

    def rules(self) -> list[AlertRuleRecord]:
        return sorted(self._t.rules.values(), key=lambda r: (r.created_us, r.rule_id))

    def delete_rule(self, rule_id: str) -> bool:
        return self._t.rules.pop(rule_id, None) is not None

    def lock_customers(self, customer_refs: list[str]) -> None:
        """Nothing to serialise: the fake has one writer."""

    # --- events --------------------------------------------------------------------------

    def has_fired(self, rule_id: str, customer_ref: str, period_start_us: int | None) -> bool:
        return any(
            e.rule_id == rule_id
            and e.customer_ref == customer_ref
            and period_start_us in (None, e.period_start_us)
            for e in self._t.events
        )

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
        if self.has_fired(rule_id, customer_ref, period_start_us):
            return None  # the unique key; the sequence number is not spent
        event = AlertEventRecord(
            len(self._t.events) + 1,
            event_id,
            rule_id,
            customer_ref,
            metric,
            period_start_us,
            period_end_us,
            payload,
            now_us,
        )
        self._t.events.append(event)
        return event

    def events(
        self,
        *,
        after_seq: int = 0,
        limit: int = 100,
        rule_id: str | None = None,
        customer_ref: str | None = None,
    ) -> list[AlertEventRecord]:
        return [
            e
            for e in self._t.events
            if e.seq > after_seq
            and rule_id in (None, e.rule_id)
            and customer_ref in (None, e.customer_ref)
        ][:limit]

    def get_event(self, event_id: str) -> AlertEventRecord | None:
        return next((e for e in self._t.events if e.event_id == event_id), None)

    def event_by_seq(self, seq: int) -> AlertEventRecord | None:
        return next((e for e in self._t.events if e.seq == seq), None)

    # --- outbox and attempt log ----------------------------------------------------------

    def enqueue(
        self, *, delivery_id: str, event_seq: int, rule_id: str, url: str, now_us: int
    ) -> None:
        self._t.outbox[delivery_id] = OutboxItem(
            self._tenant, delivery_id, event_seq, rule_id, url, PENDING, 0, now_us, now_us
        )

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[OutboxItem]:
        due = sorted(
            (
                item
                for tables in self._everyone()
                for item in tables.outbox.values()
                if item.status == PENDING and item.next_attempt_us <= now_us
            ),
            key=lambda item: item.next_attempt_us,
        )[:limit]
        for tables in self._everyone():
            for item in due:
                if tables.outbox.get(item.delivery_id) is item:
                    tables.outbox[item.delivery_id] = replace(
                        item, next_attempt_us=now_us + lease_us
                    )
        return due

    def outbox_item(self, delivery_id: str) -> OutboxItem | None:
        return self._t.outbox.get(delivery_id)

    def outbox_for_event(self, event_seq: int) -> list[OutboxItem]:
        return sorted(
            (i for i in self._t.outbox.values() if i.event_seq == event_seq),
            key=lambda i: i.created_us,
        )

    def record_attempt(self, attempt: DeliveryAttempt, *, status: str, now_us: int) -> None:
        number = 1 + max(
            (a.attempt for a in self._t.deliveries if a.delivery_id == attempt.delivery_id),
            default=0,
        )
        attempt = replace(attempt, attempt=number)
        self._t.deliveries.append(attempt)
        item = self._t.outbox.get(attempt.delivery_id)
        if item is not None:
            self._t.outbox[item.delivery_id] = replace(
                item,
                status=status,
                attempts=number,
                next_attempt_us=attempt.next_attempt_us or now_us,
            )

    def attempts(self, event_seq: int) -> list[DeliveryAttempt]:
        return sorted(
            (a for a in self._t.deliveries if a.event_seq == event_seq),
            key=lambda a: (a.attempted_us, a.attempt),
        )
