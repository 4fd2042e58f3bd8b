"""Stripe's own preview of the next invoice beside ours, and the difference line by line: a
reconciliation before the invoice exists.

Our lines and Stripe's are matched by what ties them: a Stripe price (a mapping that bills
through one: Stripe prices the usage it was sent) or our invoice-item key in the line's
metadata. Lines we bill as invoice items are only added when Stripe creates the draft
(``invoice.created``), so before then they show as ``added_at_invoice`` with our amount;
Stripe lines nothing of ours explains (a plan's base fee) show as ``only_stripe``. The
Stripe call runs outside any transaction: the read gathers what it needs first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stripemeter_server.domain.errors import StripeCallError
from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.stripe_mapping import StripeMapping, SyncMode
from stripemeter_server.service.context import StripeAccess
from stripemeter_server.service.invoicing.upcoming import InvoiceLine, UpcomingInvoice
from stripemeter_server.service.ports.stripe import InvoicePreview, PreviewLine, StripeCredentials
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.stripe_sync.customers import METADATA_KEY
from stripemeter_server.service.stripe_sync.mappings import decode_mapping

MATCH, DIFFERS = "match", "differs"
ADDED_AT_INVOICE, ONLY_OURS, ONLY_STRIPE = "added_at_invoice", "only_ours", "only_stripe"


@dataclass(frozen=True, slots=True)
class PreviewTarget:
    """What the Stripe call needs, read in the request's transaction."""

    credentials: StripeCredentials
    customer_ref: str
    stripe_customer_id: str | None  # None: looked up by metadata at the call
    mappings: dict[str, StripeMapping]


@dataclass(frozen=True, slots=True)
class LineDifference:
    metric: str | None
    stripe_price: str | None
    status: str
    currency: str | None
    our_quantity: Decimal | None
    stripe_quantity: Decimal | None
    our_amount: Decimal | None
    stripe_amount: Decimal | None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class StripeComparison:
    status: str  # compared, no_upcoming_invoice or unavailable
    preview: InvoicePreview | None
    lines: list[LineDifference]
    error: str | None = None


def preview_target(
    uow: UnitOfWork, access: StripeAccess, customer_ref: str
) -> PreviewTarget | None:
    """The tenant's Stripe account and what is known of the customer's Stripe id (the
    customer record's, a ``cus_`` ref, or the cached metadata lookup): no Stripe call and no
    write here, so the read stays a read."""
    credentials = access.credentials(uow)
    if credentials is None or access.factory is None:
        return None
    record = uow.customers.get(customer_ref)
    stripe_id = record.stripe_customer_id if record and record.stripe_customer_id else None
    if stripe_id is None:
        stripe_id = (
            customer_ref
            if customer_ref.startswith("cus_")
            else uow.stripe_customers.get(customer_ref)
        )
    mappings = {s.metric: decode_mapping(s.definition) for s in uow.mappings.all()}
    return PreviewTarget(credentials, customer_ref, stripe_id, mappings)


def compare_with_stripe(
    access: StripeAccess, target: PreviewTarget, ours: UpcomingInvoice
) -> StripeComparison | None:
    """Fetch Stripe's preview and compare it with ours, line by line; ``None`` when Stripe
    knows no customer for the ref."""
    port = access.port(target.credentials)
    try:
        stripe_id = target.stripe_customer_id or port.find_customer_by_metadata(
            METADATA_KEY, target.customer_ref
        )
        if stripe_id is None:
            return None
        preview = port.preview_invoice(stripe_id)
    except StripeCallError as exc:
        return StripeComparison("unavailable", None, [], exc.message)
    if preview is None:
        return StripeComparison(
            "no_upcoming_invoice", None, [_ours_alone(line, target) for line in ours.lines]
        )
    return StripeComparison("compared", preview, differences(ours.lines, preview, target))


def _major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_unit_exponent(currency))


def _ours_alone(line: InvoiceLine, target: PreviewTarget) -> LineDifference:
    mapping = target.mappings.get(line.metric)
    billed_as_item = mapping is not None and mapping.mode is SyncMode.INVOICE_ITEMS
    return LineDifference(
        line.metric,
        line.stripe_price,
        ADDED_AT_INVOICE if billed_as_item else ONLY_OURS,
        line.currency,
        line.quantity,
        None,
        line.amount,
        None,
    )


def _stripe_quantity(line: PreviewLine, mapping: StripeMapping | None) -> Decimal | None:
    """Stripe's quantity in the metric's unit (a meter counts pushed units)."""
    if line.quantity is None or mapping is None:
        return line.quantity
    return line.quantity / mapping.scale


def differences(
    ours: list[InvoiceLine], preview: InvoicePreview, target: PreviewTarget
) -> list[LineDifference]:
    left = list(preview.lines)
    found = []
    for line in ours:
        match = next((s for s in left if _ties(line, s)), None)
        if match is None:
            found.append(_ours_alone(line, target))
            continue
        left.remove(match)
        stripe_quantity = _stripe_quantity(match, target.mappings.get(line.metric))
        stripe_amount = _major(match.amount, match.currency)
        same = stripe_quantity == line.quantity and (
            line.amount is None or line.amount == stripe_amount
        )
        found.append(
            LineDifference(
                line.metric,
                line.stripe_price,
                MATCH if same else DIFFERS,
                match.currency,
                line.quantity,
                stripe_quantity,
                line.amount,
                stripe_amount,
                match.description,
            )
        )
    found += [
        LineDifference(
            s.metadata.get("stripemeter_metric"),
            s.price,
            ONLY_STRIPE,
            s.currency,
            None,
            s.quantity,
            None,
            _major(s.amount, s.currency),
            s.description,
        )
        for s in left
    ]
    return found


def _ties(line: InvoiceLine, stripe_line: PreviewLine) -> bool:
    if stripe_line.metadata.get("stripemeter_metric") == line.metric:
        return True
    return line.stripe_price is not None and stripe_line.price == line.stripe_price
