"""Alert rules, fired alert events and the webhook outbox: records and repository ports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the ports modules import one another
    from stripemeter_server.service.entitlements.ports import FeatureReads, GrantReads
    from stripemeter_server.service.ports.counters import CountersRepository


PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class AlertRuleRecord:
    rule_id: str
    metric: str | None
    customer_ref: str | None
    definition: str
    webhook_url: str | None
    secret: str | None
    created_us: int
    updated_us: int


@dataclass(frozen=True, slots=True)
class AlertEventRecord:
    seq: int
    event_id: str
    rule_id: str
    customer_ref: str
    metric: str | None
    period_start_us: int
    period_end_us: int
    payload: str
    created_us: int


@dataclass(frozen=True, slots=True)
class OutboxItem:
    tenant_id: str
    delivery_id: str
    event_seq: int
    rule_id: str
    url: str
    status: str
    attempts: int
    next_attempt_us: int
    created_us: int


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    delivery_id: str
    attempt: int
    event_seq: int
    url: str
    attempted_us: int
    status_code: int | None
    outcome: str
    error: str | None
    duration_us: int
    next_attempt_us: int | None


class AlertFiring(Protocol):
    """What evaluation needs, inside the writing transaction: rules, locks, fire-once."""

    def rules(self) -> list[AlertRuleRecord]: ...

    def lock_customers(self, customer_refs: list[str]) -> None: ...

    def has_fired(self, rule_id: str, customer_ref: str, period_start_us: int | None) -> bool: ...

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
    ) -> AlertEventRecord | None: ...

    def enqueue(
        self, *, delivery_id: str, event_seq: int, rule_id: str, url: str, now_us: int
    ) -> None: ...


class AlertsRepository(AlertFiring, Protocol):
    """Alert rules, fired events, and the webhook outbox with its attempt log."""

    def add_rule(self, rule: AlertRuleRecord) -> None: ...

    def replace_rule(self, rule: AlertRuleRecord) -> None: ...

    def get_rule(self, rule_id: str) -> AlertRuleRecord | None: ...

    def delete_rule(self, rule_id: str) -> bool: ...

    def events(
        self,
        *,
        after_seq: int = 0,
        limit: int = 100,
        rule_id: str | None = None,
        customer_ref: str | None = None,
    ) -> list[AlertEventRecord]: ...

    def get_event(self, event_id: str) -> AlertEventRecord | None: ...

    def event_by_seq(self, seq: int) -> AlertEventRecord | None: ...

    def claim_due(self, now_us: int, lease_us: int, limit: int) -> list[OutboxItem]: ...

    def outbox_item(self, delivery_id: str) -> OutboxItem | None: ...

    def outbox_for_event(self, event_seq: int) -> list[OutboxItem]: ...

    def record_attempt(self, attempt: DeliveryAttempt, *, status: str, now_us: int) -> None: ...

    def attempts(self, event_seq: int) -> list[DeliveryAttempt]: ...


class AlertsUnitOfWork(Protocol):
    """One transaction as the alerts use cases see it (ADR 0026)."""

    tenant_id: str

    @property
    def features(self) -> FeatureReads: ...
    @property
    def grants(self) -> GrantReads: ...
    @property
    def alerts(self) -> AlertsRepository: ...
    @property
    def counters(self) -> CountersRepository: ...
