"""Prepaid credit for metrics pushed to Billing Meters: one Stripe credit grant per grant
that paid for the billed periods, created once at ``invoice.created`` (ADR 0922).

A metered price is billed by Stripe from the meter, so there is no line of ours to put a
negative amount beside: Stripe's own credit grant (``billing.credit_grants``, applying to
metered prices) carries the credit instead, and Stripe applies it when the invoice
finalizes. The amount is what the burn-down drew from the grant for exactly the metered
periods this invoice bills, in the invoice's currency.

Exactly once, as for invoice lines: the intent is written to the invoice-items ledger first
(its primary key admits one per grant, customer and period start), under the metric
``credit:{grant}:stripe_grant`` and the key ``stripemeter:{tenant}:credit_grant:{grant}:
{invoice}``; the grant is created with that key as Stripe's idempotency key and carries it
in its metadata, so a retry first finds the grant an earlier attempt created, and two
workers sending the same key get the same grant.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.errors import StripePermanentError
from stripemeter_server.domain.invoice_items import KEY_METADATA, MAX_KEY_LENGTH
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.invoicing.credit_lines import CREDIT_PREFIX, credit_drawn
from stripemeter_server.service.invoicing.ports import ITEM_PENDING, InvoiceItemRecord
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork as UnitOfWork
from stripemeter_server.service.ports.stripe import CreditGrantOut, StripeCreditGrant, StripePort

GRANT_PRICING = "credit_grant"
GRANT_SUFFIX = ":stripe_grant"
GRANT_METADATA = "stripemeter_credit_grant"
INVOICE_METADATA = "stripemeter_invoice"

# (metric, period start, period end) in microseconds: a metered period the invoice bills
Billed = tuple[str, int, int]


def grant_key(tenant_id: str, grant_id: str, invoice_id: str) -> str:
    """``stripemeter:{tenant}:credit_grant:{grant}:{invoice}`` (hashed past 255 chars)."""
    key = f"stripemeter:{tenant_id}:credit_grant:{grant_id}:{invoice_id}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "stripemeter:sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def is_grant_record(record: InvoiceItemRecord) -> bool:
    return record.pricing == GRANT_PRICING


def grant_of(record: InvoiceItemRecord) -> str:
    """The local grant a ledger record of either kind credits."""
    return record.metric.removeprefix(CREDIT_PREFIX).removesuffix(GRANT_SUFFIX)


def billed_of(record: InvoiceItemRecord) -> set[tuple[str, int]]:
    """The metered ``(metric, periodStart)`` periods a grant record paid for (its request)."""
    request: dict[str, Any] = json.loads(record.request or "{}")
    return {(str(m), int(s)) for m, s in request.get("billed") or []}


def grant_out(record: InvoiceItemRecord, amount: int, key: str) -> CreditGrantOut:
    """The Stripe grant a record asks for, for ``amount`` minor units, under ``key``."""
    request: dict[str, Any] = json.loads(record.request or "{}")
    return CreditGrantOut(
        stripe_customer_id=record.stripe_customer_id,
        currency=str(record.currency),
        amount=amount,
        name=str(request.get("name") or "Prepaid credit"),
        metadata={str(k): str(v) for k, v in (request.get("metadata") or {}).items()},
        idempotency_key=key,
    )


def plan_credit_grants(
    uow: UnitOfWork,
    event_id: str,
    invoice_id: str,
    stripe_customer_id: str,
    currency: str | None,
    ref: str,
    billed: list[Billed],
    now: datetime,
) -> list[tuple[InvoiceItemRecord, bool]]:
    """The Stripe credit grants of the invoice (``(record, fresh)``, as the usage lines)."""
    if not billed or currency is None:
        return []
    start_us = min(b[1] for b in billed)
    end_us = max(b[2] for b in billed)
    periods = sorted({(m, s) for m, s, _ in billed})
    planned = []
    for grant_id, minor in credit_drawn(uow, ref, currency, set(periods), now).items():
        if minor <= 0:
            continue
        name = f"{CREDIT_PREFIX}{grant_id}{GRANT_SUFFIX}"
        existing = uow.invoice_items.get(name, ref, start_us)
        if existing is not None:
            if existing.invoice_id == invoice_id:
                planned.append((existing, False))
            continue
        key = grant_key(uow.tenant_id, grant_id, invoice_id)
        request = {
            "name": f"Prepaid credit ({grant_id})",
            "billed": periods,
            "metadata": {KEY_METADATA: key, GRANT_METADATA: grant_id, INVOICE_METADATA: invoice_id},
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
            pricing=GRANT_PRICING,
            quantity=ZERO,
            amount=minor,
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


def live_grants(port: StripePort, record: InvoiceItemRecord) -> list[StripeCreditGrant]:
    """The customer's unvoided Stripe grants that carry this record's key."""
    return [
        g
        for g in port.credit_grants(record.stripe_customer_id)
        if not g.voided and g.metadata.get(KEY_METADATA) == record.idempotency_key
    ]


def send_grant(port: StripePort, record: InvoiceItemRecord, fresh: bool) -> StripeCreditGrant:
    """Create the record's grant (none if an earlier attempt's grant is found). A refusal
    (``StripePermanentError``) propagates for the caller to record."""
    if not fresh:
        found = live_grants(port, record)
        if found:
            return found[0]
    if record.amount is None:
        raise StripePermanentError("the credit grant has no amount")
    return port.create_credit_grant(grant_out(record, record.amount, record.idempotency_key))
