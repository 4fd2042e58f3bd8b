"""The upcoming invoice preview: what stripemeter will bill, with credits, before Stripe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.deps import AppState, app_state, read, require
from stripemeter_server.api.serialize import dec, parse_time_param, ts
from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.service.invoicing.stripe_preview import (
    LineDifference,
    StripeComparison,
    compare_with_stripe,
    preview_target,
)
from stripemeter_server.service.invoicing.upcoming import (
    InvoiceLine,
    UpcomingInvoice,
    upcoming_invoice,
)
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["invoicing"])


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "metric": line.metric,
        "periodStart": ts(line.period.start),
        "periodEnd": ts(line.period.end),
        "quantity": dec(line.quantity),
        "pricing": line.pricing,
        "stripePrice": line.stripe_price,
        "currency": line.currency,
        "amount": dec(line.amount),
        "tiers": [
            {
                "description": t.description,
                "quantity": dec(t.quantity),
                "unitAmount": dec(t.unit_amount),
                "amount": dec(t.amount),
            }
            for t in line.tiers
        ],
    }


@router.get(
    "/v1/customers/{customer_ref}/upcoming-invoice",
    summary="Preview the next invoice: usage lines, credits, subtotal and total",
)
async def get_upcoming_invoice(
    customer_ref: str,
    at: str | None = Query(default=None, description="preview the period containing"),
    state: AppState = Depends(app_state),
    who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    instant = parse_time_param(at, "at") or now
    access = state.ctx.stripe
    found, target = await read(
        state,
        who,
        lambda uow: (
            upcoming_invoice(uow, customer_ref, instant, now),
            preview_target(uow, access, customer_ref) if at is None else None,
        ),
    )
    body = invoice_json(found)
    if target is not None:  # Stripe previews the next invoice only, so never with ?at=
        comparison = await run_in_threadpool(compare_with_stripe, access, target, found)
        if comparison is not None:
            body["stripe"] = comparison_json(comparison)
    return body


def _difference_json(line: LineDifference) -> dict[str, Any]:
    def minus(a: Any, b: Any) -> Any:
        return None if a is None or b is None else dec(b - a)

    return {
        "metric": line.metric,
        "stripePrice": line.stripe_price,
        "status": line.status,
        "currency": line.currency,
        "description": line.description,
        "quantity": dec(line.our_quantity),
        "stripeQuantity": dec(line.stripe_quantity),
        "quantityDifference": minus(line.our_quantity, line.stripe_quantity),
        "amount": dec(line.our_amount),
        "stripeAmount": dec(line.stripe_amount),
        "amountDifference": minus(line.our_amount, line.stripe_amount),
    }


def comparison_json(found: StripeComparison) -> dict[str, Any]:
    """Stripe's preview (amounts in the currency's major unit) and the line differences;
    a difference is Stripe's value minus ours."""
    preview = found.preview
    return {
        "status": found.status,
        "error": found.error,
        "subscription": preview.subscription if preview else None,
        "currency": preview.currency if preview else None,
        "subtotal": dec(Decimal(preview.subtotal).scaleb(-minor_unit_exponent(preview.currency)))
        if preview
        else None,
        "total": dec(Decimal(preview.total).scaleb(-minor_unit_exponent(preview.currency)))
        if preview
        else None,
        "lines": [_difference_json(line) for line in found.lines],
    }


def invoice_json(found: UpcomingInvoice) -> dict[str, Any]:
    """The preview's JSON shape (the dashboard shows the same)."""
    period = found.period
    return {
        "customerRef": found.customer_ref,
        "at": ts(found.at),
        "asOf": ts(found.as_of),
        "periodStart": ts(period.start) if period else None,
        "periodEnd": ts(period.end) if period else None,
        "lines": [_line_json(line) for line in found.lines],
        "totals": [
            {
                "currency": t.currency,
                "subtotal": dec(t.subtotal),
                "credits": dec(t.credits),
                "total": dec(t.total),
            }
            for t in found.totals
        ],
    }
