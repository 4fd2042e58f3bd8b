"""Stripe credit grants in reconciliation and the invoice gate (ADR 0922).

A grant record of the invoice-items ledger (``credit:{grant}:stripe_grant``) must be matched
in Stripe by exactly one unvoided billing credit grant carrying its key in the metadata, for
what the burn-down drew from that grant for the metered periods the record names, in its
currency. A grant voided, re-keyed, or in another currency counts as absent. Amounts are
compared as the credit lines' are, negative (credit lowers the bill), so the money at stake
reads the same: positive when Stripe bills too much.

A repair on a draft voids every live grant with the key and creates one for the right
amount under a per-run key (``{key}:repair:{run}``), keeping the record's key in the
metadata so the next run finds it. Stripe grants cannot change their amount, hence void and
recreate.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.reconciliation import (
    InvoiceLineCheck,
    absolute_drift,
    classify_invoice_line,
    invoice_money_at_stake,
    relative_drift,
)
from stripemeter_server.domain.stripe_mapping import SyncMode
from stripemeter_server.service.invoicing.credit_grants import (
    billed_of,
    grant_of,
    grant_out,
    live_grants,
)
from stripemeter_server.service.invoicing.credit_lines import credit_drawn
from stripemeter_server.service.invoicing.ports import InvoiceItemRecord
from stripemeter_server.service.ports.stripe import StripeCreditGrant
from stripemeter_server.service.reconciliation.ports import LineRecord
from stripemeter_server.service.reconciliation.ports import ReconciliationUnitOfWork as UnitOfWork
from stripemeter_server.service.reconciliation.reader import StripeReader


def expected_grant(uow: UnitOfWork, item: InvoiceItemRecord, now: datetime) -> int:
    """What the grant must credit, in minor units (positive), by the ledger today."""
    if item.currency is None:
        return 0
    drawn = credit_drawn(uow, item.customer_ref, item.currency, billed_of(item), now)
    return drawn.get(grant_of(item), 0)


def _in_stripe(reader: StripeReader, intent: InvoiceItemRecord) -> list[StripeCreditGrant]:
    return reader.call(lambda: live_grants(reader.port, intent))


def _major(minor: int, currency: str | None) -> Decimal:
    return Decimal(minor).scaleb(-minor_unit_exponent(currency or "usd"))


def compare_grant(
    customer_ref: str,
    intent: InvoiceItemRecord,
    expected_minor: int,
    invoice_status: str | None,
    reader: StripeReader,
) -> tuple[LineRecord, str | None] | None:
    """The grant's comparison and the live Stripe grant's id, or None when neither side
    credits anything. ``expected_minor`` is negative (credit)."""
    grants = _in_stripe(reader, intent)
    currency = intent.currency
    matching = [g for g in grants if g.currency == currency]
    expected = _major(expected_minor, currency)
    stripe = -sum((_major(g.amount, currency) for g in matching), Decimal(0)) if matching else None
    if not (expected or stripe):
        return None
    check = InvoiceLineCheck(expected, expected, stripe, stripe)
    status = classify_invoice_line(check, Decimal(0))
    notes = [f"invoice {intent.invoice_id} ({invoice_status or 'unknown'})", "Stripe credit grant"]
    if len(grants) > 1:
        notes.append(f"{len(grants)} Stripe grants carry this credit's key")
    if len(matching) < len(grants):
        notes.append("a Stripe grant with this key is in another currency")
    c = check.comparison
    line = LineRecord(
        line_no=0,
        customer_ref=customer_ref,
        metric=intent.metric,
        mode=SyncMode.METER_EVENTS.value,
        period_start_us=intent.period_start_us,
        period_end_us=intent.period_end_us,
        local_value=expected,
        pushed_value=None,
        stripe_value=stripe,
        absolute_drift=absolute_drift(c),
        relative_drift=relative_drift(c),
        status=status.value,
        money_at_stake=invoice_money_at_stake(check),
        currency=currency,
        action=None,
        note="; ".join(notes),
        invoice_id=intent.invoice_id,
        expected_amount=expected,
        stripe_amount=stripe,
    )
    return line, grants[0].grant_id if grants else intent.stripe_item_id


def _void(reader: StripeReader, grant_id: str, key: str) -> None:
    reader.call(lambda: reader.port.void_credit_grant(grant_id, key))


def fix_grant(
    intent: InvoiceItemRecord, expected_minor: int, reader: StripeReader, run_id: str
) -> str:
    """Void every live grant with the key, then create the right one under a per-run key.
    Stripe errors (``StripeCallError``) propagate for the caller to record."""
    key = f"{intent.idempotency_key}:repair:{run_id}"[:255]
    voided = []
    for grant in _in_stripe(reader, intent):
        _void(reader, grant.grant_id, f"{key}:void:{grant.grant_id}"[:255])
        voided.append(grant.grant_id)
    amount = -expected_minor
    note = f"voided {', '.join(voided)}" if voided else "no live grant"
    if amount <= 0:
        return note
    out = grant_out(intent, amount, key)
    created = reader.call(lambda: reader.port.create_credit_grant(out))
    return f"{note}; grant {created.grant_id} created"
