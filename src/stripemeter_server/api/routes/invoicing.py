"""Stripe's webhooks in (``POST /v1/stripe/webhook/{tenantId}``) and what operators see of
the invoice flow (``GET /v1/stripe/webhook-events``, ``GET /v1/stripe/invoices``).

The webhook route takes no API key: Stripe calls it, and the ``Stripe-Signature`` checked
with the tenant's webhook secret is the authentication. It records the event and answers
200 at once; the work runs after the response (and from the worker loop if that fails).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request

from stripemeter_server.api.deps import (
    AppState,
    app_state,
    check_tenant,
    read,
    require,
    run_as_system,
)
from stripemeter_server.api.schemas import invoicing as invoicing_wire
from stripemeter_server.domain.errors import PayloadTooLargeError, ValidationError
from stripemeter_server.service.invoicing import webhooks as invoice_webhooks
from stripemeter_server.service.invoicing.flow import process_received
from stripemeter_server.service.invoicing.ports import (
    JOB_DONE,
    JOB_FAILED,
    JOB_IGNORED,
    JOB_PENDING,
)
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["stripe"])

MAX_TENANT_LENGTH = 255
JOB_STATUSES = frozenset({JOB_PENDING, JOB_DONE, JOB_IGNORED, JOB_FAILED})
INVOICE_STATUSES = frozenset({"draft", "open", "paid", "void", "uncollectible"})


async def _limited_body(request: Request, limit: int) -> bytes:
    """The raw body (the signature covers its exact bytes), refused past ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the body is {declared} bytes; at most {limit} allowed")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/v1/stripe/webhook/{tenant_id}",
    summary="Stripe webhook endpoint (signed by Stripe; no API key)",
    responses=invoicing_wire.RECEIVED_ANSWER,
)
async def receive_webhook(
    tenant_id: str,
    request: Request,
    background: BackgroundTasks,
    state: AppState = Depends(app_state),
) -> dict[str, Any]:
    if not tenant_id or len(tenant_id) > MAX_TENANT_LENGTH:
        raise ValidationError(
            "tenantId must be 1..255 characters", code="invalid_tenant", field="tenantId"
        )
    body = await _limited_body(request, state.settings.max_body_bytes)
    signature = request.headers.get("stripe-signature")
    ctx = state.ctx
    now = ctx.clock.now()
    # Stripe, not a key, is the caller: the signature is the authentication.
    received = await run_as_system(
        state,
        tenant_id,
        lambda uow: invoice_webhooks.record_webhook(uow, ctx.stripe, body, signature, now),
        read_only=False,
    )
    if received.needs_processing:
        background.add_task(process_received, ctx, tenant_id, received.event_id)
    return invoicing_wire.received_view(received)


def _choice(value: str | None, allowed: frozenset[str], field: str) -> str | None:
    if value is not None and value not in allowed:
        raise ValidationError(
            f"{field} must be one of: {', '.join(sorted(allowed))}",
            code="invalid_field",
            field=field,
        )
    return value


@router.get(
    "/v1/stripe/webhook-events",
    summary="Received Stripe webhook events and their processing state (newest first)",
    responses=invoicing_wire.JOBS_ANSWER,
)
async def list_webhook_events(
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
    status: str | None = None,
    cursor: str | None = Query(None, max_length=300),
    limit: int = Query(50, ge=1, le=500),
    tenant_id: str | None = Query(None, alias="tenantId"),
) -> dict[str, Any]:
    check_tenant(who, tenant_id)
    wanted = _choice(status, JOB_STATUSES, "status")
    page = await read(
        state,
        who,
        lambda uow: invoice_webhooks.list_jobs(uow, status=wanted, cursor=cursor, limit=limit),
    )
    return invoicing_wire.job_page(page)


@router.get(
    "/v1/stripe/invoices",
    summary="Stripe invoices the invoice flow billed, with their items (newest first)",
    responses=invoicing_wire.INVOICES_ANSWER,
)
async def list_invoices(
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
    status: str | None = None,
    customer_ref: str | None = Query(None, alias="customerRef", max_length=255),
    cursor: str | None = Query(None, max_length=300),
    limit: int = Query(50, ge=1, le=500),
    tenant_id: str | None = Query(None, alias="tenantId"),
) -> dict[str, Any]:
    check_tenant(who, tenant_id)
    wanted = _choice(status, INVOICE_STATUSES, "status")
    page = await read(
        state,
        who,
        lambda uow: invoice_webhooks.list_invoices(
            uow, status=wanted, customer_ref=customer_ref, cursor=cursor, limit=limit
        ),
    )
    return invoicing_wire.invoice_page(page)
