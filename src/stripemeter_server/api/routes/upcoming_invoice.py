"""The upcoming invoice preview: what stripemeter will bill, with credits, before Stripe."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from stripemeter_server.api.deps import AppState, app_state, read, require
from stripemeter_server.api.serialize import dec, parse_time_param, ts
from stripemeter_server.service.invoicing.upcoming import (
    InvoiceLine,
    UpcomingInvoice,
    upcoming_invoice,
)
from stripemeter_server.service.operations.tenancy import Principal

router = APIRouter(tags=["invoicing"])


def _line_json(line: InvoiceLine) -> dict[str, Any]:
    return {
        "metric": line.metric, "periodStart": ts(line.period.start),
        "periodEnd": ts(line.period.end), "quantity": dec(line.quantity),
        "pricing": line.pricing, "stripePrice": line.stripe_price, "currency": line.currency,
        "amount": dec(line.amount),
        "tiers": [{"description": t.description, "quantity": dec(t.quantity),
                   "unitAmount": dec(t.unit_amount), "amount": dec(t.amount)}
                  for t in line.tiers],
    }


@router.get("/v1/customers/{customer_ref}/upcoming-invoice",
            summary="Preview the next invoice: usage lines, credits, subtotal and total")
async def get_upcoming_invoice(
    customer_ref: str, at: str | None = Query(default=None,
                                              description="preview the period containing"),
    state: AppState = Depends(app_state), who: Principal = Depends(require("read")),
) -> dict[str, Any]:
    now = state.ctx.clock.now()
    instant = parse_time_param(at, "at") or now
    found = await read(state, who,
                       lambda uow: upcoming_invoice(uow, customer_ref, instant, now))
    return invoice_json(found)


def invoice_json(found: UpcomingInvoice) -> dict[str, Any]:
    """The preview's JSON shape (the dashboard shows the same)."""
    period = found.period
    return {
        "customerRef": found.customer_ref, "at": ts(found.at), "asOf": ts(found.as_of),
        "periodStart": ts(period.start) if period else None,
        "periodEnd": ts(period.end) if period else None,
        "lines": [_line_json(line) for line in found.lines],
        "totals": [{"currency": t.currency, "subtotal": dec(t.subtotal),
                    "credits": dec(t.credits), "total": dec(t.total)} for t in found.totals],
    }
