"""``POST /api/v1/events``: CloudEvents in OpenMeter's shape (single or batch), 204 when stored.

Content types: ``application/cloudevents+json`` (one event), ``application/cloudevents-batch
+json`` (an array), and ``application/json`` (either). Refused requests are 400 problem
bodies listing each bad event; nothing of them is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from stripemeter_server.api.deps import AppState, app_state, require, write
from stripemeter_server.api.errors import problem
from stripemeter_server.api.json_body import read_exact
from stripemeter_server.api.schemas import ingest as wire
from stripemeter_server.api.wire import declared
from stripemeter_server.domain.errors import PayloadTooLargeError, ValidationError
from stripemeter_server.service.ingest.cloudevents import CloudEventsRejected, ingest_cloudevents
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["events"])
SINGLE, BATCH = "application/cloudevents+json", "application/cloudevents-batch+json"

CLOUDEVENTS_SCHEMA = wire.cloudevents_body(SINGLE, BATCH)


@router.post(
    "/api/v1/events",
    status_code=204,
    openapi_extra=CLOUDEVENTS_SCHEMA,
    summary="Ingest CloudEvents (OpenMeter-compatible)",
    responses={400: {"description": "Refused; nothing stored"}},
)
async def ingest_cloudevents_route(
    request: Request,
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("ingest")),
) -> Response:
    raw_events = await _read(request, state)
    now = state.ctx.clock.now()

    request_id = request.state.request_id
    try:
        await write(
            state,
            who,
            lambda uow: ingest_cloudevents(
                uow,
                raw_events,
                now=now,
                limits=state.ctx.limits,
                request_id=request_id,
                actor=who.key_id,
            ),
        )
    except CloudEventsRejected as exc:
        return problem(400, exc.code, exc.message, request=request, errors=exc.errors)
    return Response(status_code=204)


async def _read(request: Request, state: AppState) -> list[Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in (SINGLE, BATCH, "application/json"):
        raise ValidationError(
            f"Content-Type must be {SINGLE} or {BATCH}",
            code="unsupported_media_type",
            field="Content-Type",
        )
    data = await read_exact(request, state.settings.max_body_bytes)
    events = data if isinstance(data, list) else [data]
    if kind == BATCH and not isinstance(data, list):
        raise ValidationError("a CloudEvents batch is a JSON array", code="invalid_batch")
    if not events:  # the same refusal as an empty ingest batch
        raise ValidationError("events must not be empty", code="invalid_batch", field="events")
    if len(events) > state.settings.max_batch_events:
        raise PayloadTooLargeError(
            f"a batch holds 1..{state.settings.max_batch_events} events", code="batch_too_large"
        )
    return [declared(wire.CLOUDEVENT_SHAPE, event) for event in events]
