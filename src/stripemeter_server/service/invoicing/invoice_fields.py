"""The few fields of a Stripe invoice the billing flow and the reconciliation schedule read.

The body is Stripe's and its signature verified, but verified bodies can still surprise (a
newer API version, an expanded customer), so each field is checked once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from stripemeter_server.domain.errors import ValidationError

__all__ = ["InvoiceFields", "invoice_fields"]


@dataclass(frozen=True, slots=True)
class InvoiceFields:
    invoice_id: str
    customer_id: str
    status: str
    currency: str | None
    period_start: datetime
    period_end: datetime


def invoice_fields(invoice: object) -> InvoiceFields:
    """The few invoice fields the flow reads, checked (the body is Stripe's, but verified
    bodies can still surprise: a newer API version, an expanded customer)."""
    if not isinstance(invoice, dict):
        raise ValidationError("the event carries no invoice object", code="invalid_event")
    customer = invoice.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    ident, status = invoice.get("id"), invoice.get("status")
    start, end = invoice.get("period_start"), invoice.get("period_end")
    if not (
        isinstance(ident, str)
        and isinstance(customer, str)
        and isinstance(status, str)
        and isinstance(start, int)
        and isinstance(end, int)
    ):
        raise ValidationError(
            "the invoice lacks id, customer, status or its period", code="invalid_event"
        )
    currency = invoice.get("currency")
    return InvoiceFields(
        ident,
        customer,
        status,
        currency.lower() if isinstance(currency, str) else None,
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(end, UTC),
    )
