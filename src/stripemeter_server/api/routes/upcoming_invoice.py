"""The upcoming invoice preview: what stripemeter will bill, with credits, before Stripe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.deps import AppState, app_state, read, require
from stripemeter_server.api.schemas import invoicing as wire
from stripemeter_server.api.serialize import dec, parse_time_param, ts
from stripemeter_server.api.wire import render
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


def _line(line: InvoiceLine) -> wire.UpcomingLine:
    return wire.UpcomingLine(
        metric=line.metric,
        period_start=ts(line.period.start),
        period_end=ts(line.period.end),
        quantity=dec(line.quantity),
        pricing=line.pricing,
        stripe_price=line.stripe_price,
        currency=line.currency,
        amount=dec(line.amount),
        tiers=[
            wire.Tier(
                description=t.description,
                quantity=dec(t.quantity),
                unit_amount=dec(t.unit_amount),
                amount=dec(t.amount),
            )
            for t in line.tiers
        ],
    )


@router.get(
    "/v1/customers/{customer_ref}/upcoming-invoice",
    summary="Preview the next invoice: usage lines, credits, subtotal and total",
    responses=wire.UPCOMING_ANSWER,
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


def _difference(line: LineDifference) -> wire.LineDifference:
    def minus(a: Any, b: Any) -> Any:
        return None if a is None or b is None else dec(b - a)

    return wire.LineDifference(
        metric=line.metric,
        stripe_price=line.stripe_price,
        status=line.status,
        currency=line.currency,
        description=line.description,
        quantity=dec(line.our_quantity),
        stripe_quantity=dec(line.stripe_quantity),
        quantity_difference=minus(line.our_quantity, line.stripe_quantity),
        amount=dec(line.our_amount),
        stripe_amount=dec(line.stripe_amount),
        amount_difference=minus(line.our_amount, line.stripe_amount),
    )


def _major(minor: int, currency: str) -> str | None:
    return dec(Decimal(minor).scaleb(-minor_unit_exponent(currency)))


def comparison_json(found: StripeComparison) -> dict[str, Any]:
    """Stripe's preview (amounts in the currency's major unit) and the line differences;
    a difference is Stripe's value minus ours."""
    preview = found.preview
    return render(
        wire.StripePreview(
            status=found.status,
            error=found.error,
            subscription=preview.subscription if preview else None,
            currency=preview.currency if preview else None,
            subtotal=_major(preview.subtotal, preview.currency) if preview else None,
            total=_major(preview.total, preview.currency) if preview else None,
            lines=[_difference(line) for line in found.lines],
        )
    )


def invoice_json(found: UpcomingInvoice) -> dict[str, Any]:
    """The preview's JSON shape (the dashboard shows the same), declared by
    ``api/schemas/invoicing.UpcomingInvoice``."""
    period = found.period
    totals = [
        wire.Total(
            currency=t.currency,
            subtotal=dec(t.subtotal),
            credits=dec(t.credits),
            total=dec(t.total),
        )
        for t in found.totals
    ]
    return render(
        wire.UpcomingInvoice(
            customer_ref=found.customer_ref,
            at=ts(found.at),
            as_of=ts(found.as_of),
            period_start=ts(period.start) if period else None,
            period_end=ts(period.end) if period else None,
            lines=[_line(line) for line in found.lines],
            totals=totals,
        )
    )
