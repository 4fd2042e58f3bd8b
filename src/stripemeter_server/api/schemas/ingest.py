"""Events on the wire: the ingest batch and CloudEvents, their outcome, and the ledger as
listed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from stripemeter_server.api.serialize import dec, ts
from stripemeter_server.api.wire import (
    UNSET,
    Body,
    DecimalInput,
    DecimalText,
    Instant,
    JsonObject,
    StrictBody,
    Unset,
    declared_body,
    render,
    request_body,
    response,
    schema_of,
    shape_of,
)
from stripemeter_server.domain import json_text
from stripemeter_server.service.ports.events import StoredEvent

MAX_BATCH = 1000
Identifier = Annotated[str, msgspec.Meta(max_length=255)]


class UsageEvent(Body):
    """One usage event; keys the ingest path does not know are ignored."""

    metric: Identifier
    customer_ref: Identifier
    tenant_id: str | Unset = UNSET
    quantity: DecimalInput | Unset = UNSET
    ts: Instant | Unset | None = UNSET
    resource_id: Identifier | Unset | None = UNSET
    meta: JsonObject | Unset | None = UNSET
    idempotency_key: Identifier | Unset | None = UNSET
    backfill_id: Identifier | Unset | None = UNSET


class IngestBatch(Body):
    events: Annotated[list[UsageEvent], msgspec.Meta(max_length=MAX_BATCH)]


class CloudEvent(Body):
    """A CloudEvent in OpenMeter's shape: ``type`` is the metric, ``subject`` the customer,
    ``data`` the event's meta (its ``quantity`` the quantity)."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: Instant | Unset | None = UNSET
    datacontenttype: str | Unset | None = UNSET
    data: JsonObject | Unset | None = UNSET


INGEST_EXAMPLE: dict[str, Any] = {
    "events": [
        {
            "metric": "api_calls",
            "customerRef": "cus_ABC123",
            "quantity": "1",
            "ts": "2025-01-15T10:00:00Z",
            "idempotencyKey": "req-7f3a",
        }
    ]
}
CLOUDEVENT_EXAMPLE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "evt-1",
    "source": "api-gateway",
    "type": "api_calls",
    "subject": "cus_ABC123",
    "time": "2025-01-15T10:00:00Z",
    "data": {"quantity": "1"},
}
INGEST = request_body(IngestBatch, examples=(INGEST_EXAMPLE,))


def cloudevents_body(single: str, batch: str) -> dict[str, Any]:
    """One event as ``single``, an array as ``batch``, either as plain JSON."""
    one = schema_of(CloudEvent)
    many = {"type": "array", "items": schema_of(CloudEvent)}
    return declared_body(
        {
            "required": True,
            "content": {
                single: {"schema": {**one, "examples": [CLOUDEVENT_EXAMPLE]}},
                batch: {"schema": {**many, "examples": [[CLOUDEVENT_EXAMPLE]]}},
                "application/json": {"schema": {"anyOf": [one, many]}},
            },
        }
    )


EVENT_KEYS = shape_of(UsageEvent).keys
CLOUDEVENT_SHAPE = shape_of(CloudEvent)


class EventError(StrictBody):
    code: str
    message: str | None
    field: str | None


class EventResult(StrictBody):
    index: int
    idempotency_key: str | None
    status: Literal["accepted", "duplicate", "conflict", "rejected"]
    error: EventError | Unset = UNSET
    late: bool | Unset = UNSET
    late_after_close: bool | Unset = UNSET


class IngestOutcome(StrictBody):
    """The answer to a batch: counts, and one result per event in the batch's order."""

    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    request_id: str | None
    results: list[EventResult]


INGEST_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(IngestOutcome, "Each event's outcome, in the batch's order")
}


class LedgerEvent(StrictBody):
    """A stored event as the API shows it (the dashboard and the CLI export show the same)."""

    idempotency_key: str
    metric: str
    customer_ref: str
    quantity: DecimalText | None
    ts: Instant | None
    received_at: Instant | None
    resource_id: str | None
    meta: JsonObject | None
    late: bool
    late_after_close: bool
    voided: bool
    voided_at: Instant | None
    backfill_id: str | None


class EventPage(StrictBody):
    data: list[LedgerEvent]
    next_cursor: str | None
    has_more: bool


EVENTS_ANSWER: dict[int | str, dict[str, Any]] = {
    200: response(EventPage, "One page of the ledger, oldest first")
}


def _event(event: StoredEvent) -> LedgerEvent:
    return LedgerEvent(
        idempotency_key=event.idempotency_key,
        metric=event.metric,
        customer_ref=event.customer_ref,
        quantity=dec(event.quantity),
        ts=ts(event.ts_us),
        received_at=ts(event.received_us),
        resource_id=event.resource_id,
        meta=json_text.loads(event.meta) if event.meta else None,
        late=event.late,
        late_after_close=event.late_after_close,
        voided=event.voided_us is not None,
        voided_at=ts(event.voided_us),
        backfill_id=event.backfill_id,
    )


def event_json(event: StoredEvent) -> dict[str, Any]:
    """Its metadata's numbers stay exact ``Decimal`` (``json_response_body`` writes them)."""
    return render(_event(event), exact=True)


def event_page(events: list[StoredEvent], next_cursor: str | None, more: bool) -> dict[str, Any]:
    page = EventPage(data=[_event(e) for e in events], next_cursor=next_cursor, has_more=more)
    return render(page, exact=True)
