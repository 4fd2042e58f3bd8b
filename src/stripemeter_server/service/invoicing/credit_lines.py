"""Prepaid credit on the renewal invoice: one negative line per grant that paid for the
billed periods, planned with the usage lines of the same ``invoice.created`` (ADR 0901).

The amount is what the burn-down drew from the grant for exactly the periods this invoice
bills (the usage lines just planned), in the invoice's currency. Each line has its own key
(``…:credit:{grant}:{periodStart}``), recorded like a usage line, so a replayed or retried
``invoice.created`` finds it and adds nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.invoice_items import KEY_METADATA, item_key
from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.credits.burn import burn_down
from stripemeter_server.service.invoicing.ports import ITEM_PENDING, InvoiceItemRecord
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork as UnitOfWork

CREDIT_PREFIX = "credit:"


def credit_given(
    uow: UnitOfWork, ref: str, currency: str, usage: list[InvoiceItemRecord], now: datetime
) -> dict[str, int]:
    """What each grant paid, in the currency's minor units, for exactly the periods these
    usage lines bill: what the invoice's credit lines must say (reconciliation reads it
    too, so a run and the line agree by construction)."""
    return credit_drawn(
        uow,
        ref,
        currency,
        {(r.metric, r.period_start_us) for r in usage if not r.metric.startswith(CREDIT_PREFIX)},
        now,
    )


def credit_drawn(
    uow: UnitOfWork, ref: str, currency: str, billed: set[tuple[str, int]], now: datetime
) -> dict[str, int]:
    """What each grant paid, in minor units, for exactly these ``(metric, periodStart)``
    periods: shared by credit lines and Stripe credit grants (ADR 0922)."""
    if not billed:
        return {}
    given: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for draw in burn_down(uow, ref, now).pool.draws:
        if draw.period_start is None or draw.denomination != currency:
            continue
        if (draw.metric, to_micros(draw.period_start)) in billed:
            given[draw.grant_id] += draw.amount
    return {
        grant_id: int(
            amount.scaleb(minor_unit_exponent(currency)).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
        for grant_id, amount in sorted(given.items())
    }


def plan_credit_lines(
    uow: UnitOfWork,
    event_id: str,
    invoice_id: str,
    stripe_customer_id: str,
    currency: str | None,
    ref: str,
    usage: list[InvoiceItemRecord],
    now: datetime,
) -> list[tuple[InvoiceItemRecord, bool]]:
    """The credit lines of the invoice (``(record, fresh)``, as the usage lines are)."""
    billed = [r for r in usage if not r.metric.startswith(CREDIT_PREFIX)]
    if not billed or currency is None:
        return []
    start_us = min(r.period_start_us for r in billed)
    end_us = max(r.period_end_us for r in usage)
    given = credit_given(uow, ref, currency, billed, now)
    planned = []
    for grant_id, minor in given.items():
        if minor <= 0:
            continue
        name = f"{CREDIT_PREFIX}{grant_id}"
        existing = uow.invoice_items.get(name, ref, start_us)
        if existing is not None:
            if existing.invoice_id == invoice_id:
                planned.append((existing, False))
            continue
        key = item_key(uow.tenant_id, ref, name, from_micros(start_us))
        request = {
            "customer": stripe_customer_id,
            "invoice": invoice_id,
            "amount": -minor,
            "currency": currency,
            "description": f"Prepaid credit ({grant_id})",
            "period": {"start": start_us // 1_000_000, "end": end_us // 1_000_000},
            "metadata": {KEY_METADATA: key, "stripemeter_credit_grant": grant_id},
        }
        record = InvoiceItemRecord(
            metric=name,
            customer_ref=ref,
            period_start_us=start_us,
            period_end_us=end_us,
            invoice_id=invoice_id,
            stripe_customer_id=stripe_customer_id,
            event_id=event_id,
            idempotency_key=key,
            pricing="credit",
            quantity=ZERO,
            amount=-minor,
            currency=currency,
            request=json.dumps(request, sort_keys=True),
            status=ITEM_PENDING,
            stripe_item_id=None,
            error=None,
            created_us=to_micros(now),
            updated_us=to_micros(now),
        )
        uow.invoice_items.add(record)
        planned.append((record, True))
    return planned
