"""Stripe's invoice preview (``invoices.create_preview``) as the port's typed record.

A line's price is where API versions from 2025 put it (``pricing.price_details.price``),
falling back to the older ``price`` object; quantities are ``quantity_decimal`` when Stripe
gives one (metered usage may be fractional), else ``quantity``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from stripemeter_server.service.ports.stripe import InvoicePreview, PreviewLine


def _price_of(line: dict[str, Any]) -> str | None:
    pricing = line.get("pricing") or {}
    details = pricing.get("price_details") or {}
    price = details.get("price") or line.get("price")
    if isinstance(price, dict):
        price = price.get("id")
    return str(price) if price else None


def _quantity_of(line: dict[str, Any]) -> Decimal | None:
    raw = line.get("quantity_decimal") or line.get("quantity")
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def preview_line(line: dict[str, Any]) -> PreviewLine:
    metadata = line.get("metadata") or {}
    return PreviewLine(
        _price_of(line),
        line.get("description"),
        _quantity_of(line),
        int(line["amount"]),
        str(line["currency"]),
        {str(k): str(v) for k, v in metadata.items()},
    )


def invoice_preview(invoice: dict[str, Any], lines: list[dict[str, Any]]) -> InvoicePreview:
    """The record for a preview and all its lines (raises ``KeyError``/``TypeError`` on a
    shape it cannot read, which the gateway turns into ``stripe_bad_response``)."""
    subscription = invoice.get("subscription") or (
        (invoice.get("parent") or {}).get("subscription_details") or {}
    ).get("subscription")
    return InvoicePreview(
        currency=str(invoice["currency"]),
        subtotal=int(invoice["subtotal"]),
        total=int(invoice["total"]),
        period_start_s=invoice.get("period_start"),
        period_end_s=invoice.get("period_end"),
        subscription=str(subscription) if subscription else None,
        lines=tuple(preview_line(line) for line in lines),
    )
