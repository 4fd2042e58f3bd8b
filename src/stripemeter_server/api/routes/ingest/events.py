"""Event ingest and the ledger."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from stripemeter_server.api.deps import (
    AppState,
    admit_cached,
    app_state,
    check_tenant,
    read,
    require,
    write,
)
from stripemeter_server.api.json_body import encode_plain, read_exact
from stripemeter_server.api.lean import LeanRoute
from stripemeter_server.api.schemas import corrections as corrections_wire
from stripemeter_server.api.schemas import ingest as wire
from stripemeter_server.api.serialize import json_response_body, parse_time_param
from stripemeter_server.domain.bounded import is_sequence, parse_sequence
from stripemeter_server.domain.errors import PayloadTooLargeError, ValidationError
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.corrections.adjustments import void_event
from stripemeter_server.service.ingest.outcome import BatchRequest, IngestOutcome
from stripemeter_server.service.operations.tenancy import Principal
from stripemeter_server.service.usage.ledger import events_page

router = APIRouter(tags=["events"])


async def read_batch(request: Request, state: AppState) -> list[Any]:
    """Read the body as exact decimals, enforcing size and shape before any work."""
    data = await read_exact(request, state.settings.max_body_bytes)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValidationError(
            'the body must be an object with an "events" array',
            code="invalid_batch",
            field="events",
        )
    events: list[Any] = data["events"]
    if not events:
        raise ValidationError("events must not be empty", code="invalid_batch", field="events")
    if len(events) > state.settings.max_batch_events:
        raise PayloadTooLargeError(
            f"{len(events)} events in one batch; at most {state.settings.max_batch_events} allowed",
            code="batch_too_large",
            field="events",
        )
    return events


def outcome_json(outcome: IngestOutcome) -> dict[str, Any]:
    results = []
    for r in outcome.results:
        item: dict[str, Any] = {
            "index": r.index,
            "idempotencyKey": r.idempotency_key,
            "status": r.status,
        }
        if r.error_code:
            item["error"] = {
                "code": r.error_code,
                "message": r.error_message,
                "field": r.error_field,
            }
        if r.status == "accepted":
            item["late"] = r.late
            if r.late_after_close:
                item["lateAfterClose"] = True
        results.append(item)
    return {
        "accepted": outcome.count("accepted"),
        "duplicates": outcome.count("duplicate"),
        "conflicts": outcome.count("conflict"),
        "rejected": outcome.count("rejected"),
        "requestId": outcome.request_id,
        "results": results,
    }


# A lean route (``api/lean.py``): admission from the key cache, checked again by the group's
# transaction (ADR 0800); the same answers as the FastAPI route gave. (No docstring: it would
# become the OpenAPI entry's description.)
async def ingest(request: Request) -> Response:
    state = app_state(request)
    who, key_check = await admit_cached(request, state, "ingest")
    events = await read_batch(request, state)
    for index, raw in enumerate(events):
        if isinstance(raw, dict):
            check_tenant(who, raw.get("tenantId"))
            if not raw.keys() <= wire.EVENT_KEYS:  # only undeclared keys cost a copy
                events[index] = {k: v for k, v in raw.items() if k in wire.EVENT_KEYS}
    batch = BatchRequest(events, state.ctx.clock.now(), request.state.request_id, who.key_id)
    outcome = await state.committer.submit_async(who.tenant_id, batch, key_check)
    for status in ("accepted", "duplicate", "conflict", "rejected"):
        if n := outcome.count(status):
            state.telemetry.events_of(status).inc(n)
    if late := sum(1 for r in outcome.results if r.late):
        state.telemetry.late_events.inc(late)
    if outcome.touched:
        state.telemetry.counter_updates.inc(len(outcome.touched))
    return Response(encode_plain(outcome_json(outcome)), media_type="application/json")


router.add_api_route(
    "/v1/events/ingest",
    ingest,
    methods=["POST"],
    openapi_extra=wire.INGEST,
    responses=wire.INGEST_ANSWER,
    summary="Ingest a batch of events (one transaction)",
    route_class_override=LeanRoute,
)


@router.get(
    "/v1/events", summary="List the ledger (keyset pagination)", responses=wire.EVENTS_ANSWER
)
async def list_events(
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
    metric: str | None = None,
    customer_ref: str | None = Query(None, alias="customerRef"),
    ts_from: str | None = Query(None, alias="from"),
    ts_to: str | None = Query(None, alias="to"),
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    tenant_id: str | None = Query(None, alias="tenantId"),
) -> Response:
    check_tenant(who, tenant_id)
    after = _decode_cursor(cursor)
    start, end = parse_time_param(ts_from, "from"), parse_time_param(ts_to, "to")
    flt = EventFilter(
        metric=metric,
        customer_ref=customer_ref,
        ts_from_us=None if start is None else to_micros(start),
        ts_to_us=None if end is None else to_micros(end),
        after_seq=after,
    )
    page = await read(state, who, lambda uow: events_page(uow, flt, limit + 1))
    more = len(page) > limit
    page = page[:limit]
    body = wire.event_page(page, f"c{page[-1].seq}" if more and page else None, more)
    return Response(json_response_body(body), media_type="application/json")


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not (cursor.startswith("c") and is_sequence(cursor[1:])):
        raise ValidationError(
            "cursor is not one this API returned", code="invalid_cursor", field="cursor"
        )
    return parse_sequence(cursor[1:], "cursor")


@router.post(
    "/v1/events/{key:path}/void",
    summary="Void an event (its period must be open); any key, '/' included (or void by body)",
    responses=corrections_wire.VOID_ANSWER,
)
async def void(
    key: str, state: AppState = Depends(app_state), who: Principal = Depends(require("admin"))
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    await write(state, who, lambda uow: void_event(uow, key, now))
    return corrections_wire.void_json(key)
