"""Alert rules, fired events and their deliveries on the wire."""

from __future__ import annotations

from typing import Any

from stripemeter_server.api.serialize import dec, instant, ts
from stripemeter_server.api.wire import (
    UNSET,
    Body,
    DecimalInput,
    DecimalText,
    Instant,
    StrictBody,
    Unset,
    render,
    request_body,
    response,
)
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.service.alerts.events import event_body
from stripemeter_server.service.alerts.ports import AlertEventRecord, DeliveryAttempt, OutboxItem
from stripemeter_server.service.alerts.rules import RuleView


class AlertRuleChange(StrictBody):
    """A rule; on create ``name``, ``type``, ``metric`` and ``threshold`` are required."""

    name: str | Unset = UNSET
    type: str | Unset = UNSET
    metric: str | Unset = UNSET
    threshold: DecimalInput | Unset = UNSET
    percent_of: DecimalInput | Unset | None = UNSET
    recurrence: str | Unset | None = UNSET
    webhook_url: str | Unset | None = UNSET
    currency: str | Unset | None = UNSET
    customer_ref: str | Unset | None = UNSET
    enabled: bool | Unset = UNSET
    secret: str | Unset | None = UNSET
    feature: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


CREATE_RULE = request_body(
    AlertRuleChange,
    examples=(
        {
            "name": "80% of plan",
            "type": "quantity",
            "metric": "api_calls",
            "threshold": "80",
            "percentOf": "100000",
            "recurrence": "period",
            "webhookUrl": "https://example.com/hooks/stripemeter",
        },
    ),
)
CHANGE_RULE = request_body(AlertRuleChange, examples=({"name": "90% of plan"},))


# --- answers ------------------------------------------------------------------------------


class AlertRuleAnswer(StrictBody):
    """A rule as the API shows it; ``secret`` only in the answer that created it."""

    id: str
    type: str
    metric: str | None
    customer_ref: str | None
    threshold: DecimalText
    percent_of: DecimalText | None
    currency: str | None
    recurrence: str
    webhook_url: str | None
    name: str | None
    enabled: bool
    feature: str | None
    has_secret: bool
    created_at: Instant
    updated_at: Instant
    secret: str | Unset = UNSET


class AlertRuleList(StrictBody):
    data: list[AlertRuleAnswer]


class AlertEvent(Body):
    """A fired alert as webhooks, the stream and the API carry it: the document stored when
    it fired (its keys depend on the rule's kind) plus its per-tenant ``sequence``."""

    id: str
    type: str
    tenant_id: str
    rule_id: str
    rule_name: str | None
    kind: str
    metric: str | None
    customer_ref: str
    period_start: Instant
    period_end: Instant
    threshold: DecimalText
    value: DecimalText
    currency: str | None
    triggered_at: Instant
    sequence: int
    feature: str | Unset = UNSET
    limit: DecimalText | Unset = UNSET
    invoice_id: str | Unset | None = UNSET
    gate: str | Unset = UNSET
    state: str | Unset = UNSET
    drift_lines: int | Unset = UNSET
    run_id: str | Unset | None = UNSET
    money_at_stake: DecimalText | Unset | None = UNSET


class AlertEventPage(StrictBody):
    data: list[AlertEvent]
    next_after: int


class DeliveryAnswer(StrictBody):
    delivery_id: str
    url: str
    status: str
    attempts: int
    next_attempt_at: Instant | None


class AttemptAnswer(StrictBody):
    delivery_id: str
    attempt: int
    url: str
    attempted_at: Instant
    status_code: int | None
    outcome: str
    error: str | None
    duration_ms: int
    next_attempt_at: Instant | None


class DeliveriesAnswer(StrictBody):
    event_id: str
    deliveries: list[DeliveryAnswer]
    data: list[AttemptAnswer]


def rule_answer(view: RuleView) -> AlertRuleAnswer:
    rule = view.rule
    return AlertRuleAnswer(
        id=view.rule_id,
        type=rule.kind.value,
        metric=rule.metric,
        customer_ref=rule.customer_ref,
        threshold=to_plain_string(rule.threshold),
        percent_of=dec(rule.percent_of),
        currency=rule.currency,
        recurrence=rule.recurrence.value,
        webhook_url=rule.webhook_url,
        name=rule.name,
        enabled=rule.enabled,
        feature=rule.feature,
        has_secret=view.has_secret,
        created_at=instant(view.created_us),
        updated_at=instant(view.updated_us),
        secret=UNSET if view.secret is None else view.secret,  # shown once, on creation
    )


def rule_json(view: RuleView) -> dict[str, Any]:
    return render(rule_answer(view))


def rules_json(views: list[RuleView]) -> dict[str, Any]:
    return render(AlertRuleList(data=[rule_answer(v) for v in views]))


def events_json(events: list[AlertEventRecord], after: int) -> dict[str, Any]:
    """The page keeps each event's stored document as it is (key order included)."""
    return {
        "data": [event_body(e) for e in events],
        "nextAfter": events[-1].seq if events else after,
    }


def _delivery(item: OutboxItem) -> DeliveryAnswer:
    return DeliveryAnswer(
        delivery_id=item.delivery_id,
        url=item.url,
        status=item.status,
        attempts=item.attempts,
        next_attempt_at=ts(item.next_attempt_us) if item.status == "pending" else None,
    )


def _attempt(attempt: DeliveryAttempt) -> AttemptAnswer:
    return AttemptAnswer(
        delivery_id=attempt.delivery_id,
        attempt=attempt.attempt,
        url=attempt.url,
        attempted_at=instant(attempt.attempted_us),
        status_code=attempt.status_code,
        outcome=attempt.outcome,
        error=attempt.error,
        duration_ms=attempt.duration_us // 1000,
        next_attempt_at=ts(attempt.next_attempt_us),
    )


def outbox_json(item: OutboxItem) -> dict[str, Any]:
    return render(_delivery(item))


def attempt_json(attempt: DeliveryAttempt) -> dict[str, Any]:
    return render(_attempt(attempt))


def deliveries_json(
    event_id: str, outbox: list[OutboxItem], attempts: list[DeliveryAttempt]
) -> dict[str, Any]:
    return render(
        DeliveriesAnswer(
            event_id=event_id,
            deliveries=[_delivery(o) for o in outbox],
            data=[_attempt(a) for a in attempts],
        )
    )


RULE_ANSWER: dict[int | str, dict[str, Any]] = {200: response(AlertRuleAnswer, "The rule")}
RULE_CREATED: dict[int | str, dict[str, Any]] = {
    201: response(AlertRuleAnswer, "The rule, with its signing secret (shown once)")
}
RULE_LIST: dict[int | str, dict[str, Any]] = {200: response(AlertRuleList, "Every rule")}
EVENT_PAGE: dict[int | str, dict[str, Any]] = {
    200: response(AlertEventPage, "Events after the cursor, oldest first")
}
DELIVERIES: dict[int | str, dict[str, Any]] = {
    200: response(DeliveriesAnswer, "The event's deliveries and every attempt")
}
