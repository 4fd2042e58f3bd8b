"""``invoice.created`` for a draft: one invoice item per ``invoice_items`` mapping.

Exactly-once without trusting Stripe's 24-hour key memory alone:

1. **Plan** (one transaction): for each mapping, find the metric period the invoice bills,
   **lock it** (reason ``invoice``, freezing the final value — so what is billed is what is
   frozen, and a later event becomes an adjustment on the next period), price the final
   value and write the item **intent** with its exact request and idempotency key. The
   intent's primary key is ``(tenant, metric, customer, periodStart)``: a period can never
   get a second intent, whichever invoice or retry asks.
2. **Call** Stripe for each pending intent, outside any transaction. An intent left
   pending by an earlier attempt (crash, timeout) first looks for a line carrying its key
   in the invoice's metadata; only if none exists is the identical request sent again,
   with the same key.
3. **Settle** each intent (created, or failed with Stripe's reason) in its own short
   transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from stripemeter_server.domain.errors import (
    NotFoundError,
    StripePermanentError,
    ValidationError,
)
from stripemeter_server.domain.invoice_items import (
    KEY_METADATA,
    PricingKind,
    charge_for,
    item_key,
    item_params,
    usage_period,
)
from stripemeter_server.domain.periods import Period
from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.definitions import spec_for
from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.catalog.prices import effective_price
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.corrections.adjustments import close_period
from stripemeter_server.service.invoicing.credit_grants import (
    Billed,
    is_grant_record,
    plan_credit_grants,
    send_grant,
)
from stripemeter_server.service.invoicing.credit_lines import plan_credit_lines
from stripemeter_server.service.invoicing.invoice_fields import InvoiceFields, invoice_fields
from stripemeter_server.service.invoicing.ports import (
    ITEM_CREATED,
    ITEM_FAILED,
    ITEM_PENDING,
    ITEM_SKIPPED,
    JOB_DONE,
    JOB_FAILED,
    JOB_IGNORED,
    InvoiceItemRecord,
    StripeInvoiceRecord,
)
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork as UnitOfWork
from stripemeter_server.service.ports.stripe import InvoiceLine, StripePort
from stripemeter_server.service.stripe_sync.customers import METADATA_KEY
from stripemeter_server.service.stripe_sync.mappings import list_mappings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a job ended: ``done``, ``ignored`` or ``failed``, with the reason shown."""

    status: str
    note: str | None = None


def _local_ref(uow: UnitOfWork, stripe_customer_id: str) -> str | None:
    record = uow.customers.by_stripe_id(stripe_customer_id)
    if record is not None:
        return record.customer_ref
    return uow.stripe_customers.ref_for(stripe_customer_id)


def _ref_from_stripe(port: StripePort, stripe_customer_id: str) -> tuple[str | None, bool]:
    """(ref, found by metadata); (None, False) when Stripe does not know the customer."""
    try:
        customer = port.get_customer(stripe_customer_id)
    except StripePermanentError:
        return None, False
    ref = customer.metadata.get(METADATA_KEY)
    if ref:
        return ref, True
    return stripe_customer_id, False


def _is_ours(uow: UnitOfWork, ref: str, declared: bool) -> bool:
    """A customer we meter: declared (record or metadata), or one with usage on record."""
    return (
        declared or uow.customers.get(ref) is not None or bool(uow.counters.find(customer_ref=ref))
    )


def bill_invoice(
    ctx: ServiceContext, tenant_id: str, event_id: str, invoice_obj: object
) -> Outcome:
    """Handle one ``invoice.created``. Stripe errors other than a refusal propagate (the job
    is retried); a refusal marks that item failed, visible to operators."""
    invoice = invoice_fields(invoice_obj)
    if invoice.status != "draft":
        return Outcome(JOB_IGNORED, f"the invoice is {invoice.status}, not a draft")
    if invoice.period_end <= invoice.period_start:
        return Outcome(JOB_IGNORED, "the invoice has no usage period")
    with ctx.store.unit_of_work(tenant_id, read_only=True) as uow:
        every = list_mappings(uow)
        mappings = [m for m in every if m.mode is SyncMode.INVOICE_ITEMS]
        metered = [m for m in every if m.mode is SyncMode.METER_EVENTS]
        ref = _local_ref(uow, invoice.customer_id)
        port = ctx.stripe.port_for(uow) if mappings or metered else None
    if port is None:
        return Outcome(JOB_IGNORED, "no metric is mapped with mode invoice_items or meter_events")
    declared = ref is not None
    by_metadata = False
    if ref is None:
        ref, by_metadata = _ref_from_stripe(port, invoice.customer_id)
    if ref is None:
        return Outcome(JOB_IGNORED, "unknown customer")
    now = ctx.clock.now()
    with ctx.store.unit_of_work(tenant_id) as uow:
        if by_metadata:
            uow.stripe_customers.put(ref, invoice.customer_id, to_micros(now))
        if not _is_ours(uow, ref, declared or by_metadata):
            return Outcome(JOB_IGNORED, "unknown customer")
        planned, notes = _plan(uow, event_id, invoice, ref, mappings, now)
        planned += plan_credit_lines(
            uow,
            event_id,
            invoice.invoice_id,
            invoice.customer_id,
            invoice.currency,
            ref,
            [r for r, _ in planned],
            now,
        )
        planned += plan_credit_grants(
            uow,
            event_id,
            invoice.invoice_id,
            invoice.customer_id,
            invoice.currency,
            ref,
            _metered_periods(uow, invoice, ref, metered),
            now,
        )
        if not mappings and not planned:  # metered only, and no credit to grant: as before
            return Outcome(
                JOB_IGNORED,
                "no metric is mapped with mode invoice_items and no "
                "prepaid credit paid for a metered metric",
            )
        _remember_invoice(uow, invoice, ref, now)
        uow.commit()
    for record, fresh in planned:
        if record.status == ITEM_PENDING:
            _send(ctx, tenant_id, port, record, fresh)
    return _summary(ctx, tenant_id, invoice.invoice_id, notes)


def _plan(
    uow: UnitOfWork,
    event_id: str,
    invoice: InvoiceFields,
    ref: str,
    mappings: list[StripeMapping],
    now: datetime,
) -> tuple[list[tuple[InvoiceItemRecord, bool]], list[str]]:
    planned: list[tuple[InvoiceItemRecord, bool]] = []
    notes: list[str] = []
    customer = uow.customers.get(ref)
    for mapping in mappings:
        try:
            metric = get_metric(uow, mapping.metric)
        except NotFoundError:
            notes.append(f"{mapping.metric}: the metric no longer exists")
            continue
        period = usage_period(spec_for(metric, customer), invoice.period_start, invoice.period_end)
        start_us = to_micros(period.start)
        existing = uow.invoice_items.get(mapping.metric, ref, start_us)
        if existing is not None:
            if existing.invoice_id == invoice.invoice_id:
                planned.append((existing, False))
            else:
                notes.append(
                    f"{mapping.metric}: the period was already billed on {existing.invoice_id}"
                )
            continue
        lock = close_period(uow, ref, mapping.metric, period.start, now, reason="invoice")
        record = _intent(uow, event_id, invoice, ref, mapping, lock.final_value, period, now)
        uow.invoice_items.add(record)
        planned.append((record, True))
    return planned, notes


def _metered_periods(
    uow: UnitOfWork, invoice: InvoiceFields, ref: str, metered: list[StripeMapping]
) -> list[Billed]:
    """The period of each metric pushed to Billing Meters that the invoice bills."""
    customer = uow.customers.get(ref)
    billed = []
    for mapping in metered:
        try:
            metric = get_metric(uow, mapping.metric)
        except NotFoundError:
            continue
        period = usage_period(spec_for(metric, customer), invoice.period_start, invoice.period_end)
        billed.append((mapping.metric, to_micros(period.start), to_micros(period.end)))
    return billed


def _intent(
    uow: UnitOfWork,
    event_id: str,
    invoice: InvoiceFields,
    ref: str,
    mapping: StripeMapping,
    value: Decimal | None,
    period: Period,
    now: datetime,
) -> InvoiceItemRecord:
    key = item_key(uow.tenant_id, ref, mapping.metric, period.start)
    now_us = to_micros(now)
    base: dict[str, Any] = {
        "metric": mapping.metric,
        "customer_ref": ref,
        "period_start_us": to_micros(period.start),
        "period_end_us": to_micros(period.end),
        "invoice_id": invoice.invoice_id,
        "stripe_customer_id": invoice.customer_id,
        "event_id": event_id,
        "idempotency_key": key,
        "stripe_item_id": None,
        "created_us": now_us,
        "updated_us": now_us,
    }
    try:
        charge = charge_for(mapping, effective_price(uow, mapping.metric, ref), value)
    except ValidationError as exc:
        return InvoiceItemRecord(
            **base,
            pricing="none",
            quantity=value or Decimal(0),
            amount=None,
            currency=None,
            request=None,
            status=ITEM_FAILED,
            error=exc.message,
        )
    error = None
    status = ITEM_SKIPPED if charge.is_zero else ITEM_PENDING
    if charge.currency and invoice.currency and charge.currency != invoice.currency:
        status, error = (
            ITEM_FAILED,
            (f"the price is in {charge.currency} but the invoice is in {invoice.currency}"),
        )
    request = None
    if status == ITEM_PENDING:
        request = json.dumps(
            item_params(
                mapping=mapping,
                charge=charge,
                key=key,
                invoice_id=invoice.invoice_id,
                stripe_customer_id=invoice.customer_id,
                period=period,
            ),
            sort_keys=True,
        )
    return InvoiceItemRecord(
        **base,
        pricing=charge.pricing,
        quantity=charge.quantity,
        amount=charge.amount,
        currency=charge.currency,
        request=request,
        status=status,
        error=error
        if status == ITEM_FAILED
        else ("zero usage: no line added" if status == ITEM_SKIPPED else None),
    )


def _remember_invoice(uow: UnitOfWork, invoice: InvoiceFields, ref: str, now: datetime) -> None:
    if uow.stripe_invoices.get(invoice.invoice_id) is not None:
        return
    now_us = to_micros(now)
    uow.stripe_invoices.put(
        StripeInvoiceRecord(
            invoice_id=invoice.invoice_id,
            customer_ref=ref,
            stripe_customer_id=invoice.customer_id,
            period_start_us=to_micros(invoice.period_start),
            period_end_us=to_micros(invoice.period_end),
            currency=invoice.currency,
            number=None,
            status="draft",
            subtotal=None,
            total=None,
            amount_due=None,
            finalized_us=None,
            created_us=now_us,
            updated_us=now_us,
        )
    )


def _line_with_key(port: StripePort, invoice_id: str, key: str) -> InvoiceLine | None:
    for line in port.invoice_lines(invoice_id):
        if line.metadata.get(KEY_METADATA) == key:
            return line
    return None


def _send(
    ctx: ServiceContext, tenant_id: str, port: StripePort, record: InvoiceItemRecord, fresh: bool
) -> None:
    """One Stripe call for one intent (none if an earlier attempt's line is found)."""
    assert record.request is not None
    if is_grant_record(record):
        try:
            grant = send_grant(port, record, fresh)
        except StripePermanentError as exc:
            _settle(ctx, tenant_id, record, ITEM_FAILED, error=exc.message)
            return
        _settle(
            ctx, tenant_id, record, ITEM_CREATED, stripe_item_id=grant.grant_id, amount=grant.amount
        )
        return
    if not fresh:
        line = _line_with_key(port, record.invoice_id, record.idempotency_key)
        if line is not None:
            _settle(
                ctx,
                tenant_id,
                record,
                ITEM_CREATED,
                stripe_item_id=line.invoice_item_id,
                amount=line.amount,
            )
            return
    try:
        item = port.create_invoice_item(json.loads(record.request), record.idempotency_key)
    except StripePermanentError as exc:
        _settle(ctx, tenant_id, record, ITEM_FAILED, error=exc.message)
        return
    _settle(ctx, tenant_id, record, ITEM_CREATED, stripe_item_id=item.item_id, amount=item.amount)


def _settle(
    ctx: ServiceContext,
    tenant_id: str,
    record: InvoiceItemRecord,
    status: str,
    *,
    stripe_item_id: str | None = None,
    amount: int | None = None,
    error: str | None = None,
) -> None:
    with ctx.store.unit_of_work(tenant_id) as uow:
        uow.invoice_items.settle(
            record,
            status=status,
            now_us=to_micros(ctx.clock.now()),
            stripe_item_id=stripe_item_id,
            amount=amount,
            error=error,
        )
        uow.commit()


def _summary(ctx: ServiceContext, tenant_id: str, invoice_id: str, notes: list[str]) -> Outcome:
    with ctx.store.unit_of_work(tenant_id, read_only=True) as uow:
        items = uow.invoice_items.for_invoices([invoice_id])
    failed = [f"{i.metric}: {i.error}" for i in items if i.status == ITEM_FAILED]
    counts = {
        s: sum(1 for i in items if i.status == s) for s in (ITEM_CREATED, ITEM_SKIPPED, ITEM_FAILED)
    }
    text = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    note = "; ".join([text, *notes, *failed]) or None
    return Outcome(JOB_FAILED if failed else JOB_DONE, note)


__all__ = ["Outcome", "PricingKind", "bill_invoice"]
