"""Fired alert events as clients read them (API, SSE, webhook bodies) and their deliveries."""

from __future__ import annotations

import json
from typing import Any

from stripemeter_server.domain.bounded import is_sequence
from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.service.alerts.ports import (
    AlertEventRecord,
    DeliveryAttempt,
    OutboxItem,
)
from stripemeter_server.service.alerts.ports import AlertsUnitOfWork as UnitOfWork

__all__ = ["deliveries", "event_body", "find_event", "list_events"]


def event_body(event: AlertEventRecord) -> dict[str, Any]:
    """The event as clients see it (webhook body, SSE data, API): the payload plus its
    per-tenant sequence number, which is also the SSE event id."""
    body: dict[str, Any] = json.loads(event.payload)
    body["sequence"] = event.seq
    return body


def list_events(
    uow: UnitOfWork,
    *,
    after_seq: int,
    limit: int,
    rule_id: str | None = None,
    customer_ref: str | None = None,
) -> list[AlertEventRecord]:
    """Fired alert events after ``after_seq`` (the per-tenant sequence), oldest first."""
    return uow.alerts.events(
        after_seq=after_seq, limit=limit, rule_id=rule_id, customer_ref=customer_ref
    )


def find_event(uow: UnitOfWork, event_id: str) -> AlertEventRecord:
    """An alert event by its id or, failing that, by its sequence number."""
    event = uow.alerts.get_event(event_id)
    if event is None and is_sequence(event_id):
        event = uow.alerts.event_by_seq(int(event_id))
    if event is None:
        raise NotFoundError(
            f"alert event {event_id!r} does not exist", code="alert_event_not_found", field="id"
        )
    return event


def deliveries(uow: UnitOfWork, event_id: str) -> tuple[list[OutboxItem], list[DeliveryAttempt]]:
    """An alert event's webhook deliveries and every attempt made on them."""
    event = find_event(uow, event_id)
    return uow.alerts.outbox_for_event(event.seq), uow.alerts.attempts(event.seq)
