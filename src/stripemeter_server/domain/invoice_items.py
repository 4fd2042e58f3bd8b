"""What the invoice webhook flow puts on a Stripe invoice, decided without I/O.

Three rules live here so they are written once and tested alone:

* **Which period** an invoice bills (``usage_period``): the metric's period, for the
  customer's anchor and time zone, that contains the middle of the invoice's usage period —
  the period that just ended when Stripe renewed. The middle, not an end, because Stripe's
  cycle starts at the subscription's time of day while ours starts at local midnight: an
  end instant can fall a few hours into the next period, the middle never does.
* **What the item says** (``charge_for``): the project's price for the metric/customer
  first (an exact ``amount``); else the mapping's Stripe price with the quantity; else the
  mapping's ``unitAmount`` as ``unit_amount_decimal`` with the quantity.
* **The idempotency key** (``item_key``): ``stripemeter:{tenant}:{customer}:{metric}:
  {periodStart}``, the same on every retry, so Stripe and the local table both recognise it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.money import minor_unit_exponent
from stripemeter_server.domain.periods import Period, PeriodSpec, period_containing
from stripemeter_server.domain.pricing import Price, quote
from stripemeter_server.domain.stripe_mapping import StripeMapping
from stripemeter_server.domain.timestamps import format_timestamp

KEY_METADATA = "stripemeter_key"
MAX_KEY_LENGTH = 255


class PricingKind:
    PRICE = "price"  # the project's own price (tiers, minimum, maximum) → an exact amount
    STRIPE_PRICE = "stripe_price"  # the mapping's Stripe price times the quantity
    UNIT_AMOUNT = "unit_amount"  # the mapping's unit amount (minor units) times the quantity


@dataclass(frozen=True, slots=True)
class Charge:
    """The priced part of one invoice item. ``amount`` is in minor units when it is known
    locally (always, except with a Stripe price, where Stripe computes it)."""

    pricing: str
    quantity: Decimal
    currency: str | None
    amount: int | None
    params: dict[str, Any]

    @property
    def is_zero(self) -> bool:
        """Nothing to bill: no usage and no fee (a minimum or flat fee still bills)."""
        return self.quantity == 0 and not self.amount


def usage_period(spec: PeriodSpec, invoice_start: datetime, invoice_end: datetime) -> Period:
    """The metric period an invoice with usage period ``[start, end)`` bills.

    Raises for an invoice without a usage period (``end <= start``, e.g. a manual invoice):
    it has no period that "just ended", and billing the running one would close it early.
    """
    if invoice_end <= invoice_start:
        raise ValidationError(
            "the invoice has no usage period (period_end <= period_start)",
            code="no_usage_period",
            field="period_end",
        )
    return period_containing(spec, invoice_start + (invoice_end - invoice_start) / 2)


def item_key(tenant_id: str, customer_ref: str, metric: str, period_start: datetime) -> str:
    """``stripemeter:{tenant}:{customer}:{metric}:{periodStart}`` with the period start as
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC). Stripe takes keys of at most 255 characters, so a
    longer one (very long refs) becomes ``stripemeter:sha256:{hex of the long form}``."""
    key = f"stripemeter:{tenant_id}:{customer_ref}:{metric}:{format_timestamp(period_start)}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "stripemeter:sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _quantity_params(quantity: Decimal) -> dict[str, Any]:
    if quantity == quantity.to_integral_value():
        return {"quantity": int(quantity)}
    return {"quantity_decimal": to_plain_string(quantity)}


def _minor(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(minor_unit_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def charge_for(mapping: StripeMapping, price: Price | None, value: Decimal | None) -> Charge:
    """Price a period's final value for an invoice item.

    A missing or negative value bills as zero (a price never pays the customer; credits are
    adjustments). Raises ``ValidationError(code="no_price")`` when nothing prices the metric.
    """
    quantity = Decimal(0) if value is None or value < 0 else value
    if price is not None:
        priced = quote(price, quantity)
        amount = _minor(priced.amount, price.currency)
        return Charge(
            PricingKind.PRICE,
            quantity,
            price.currency,
            amount,
            {"amount": amount, "currency": price.currency},
        )
    if mapping.price is not None:
        return Charge(
            PricingKind.STRIPE_PRICE,
            quantity,
            mapping.currency,
            None,
            {"pricing": {"price": mapping.price}, **_quantity_params(quantity)},
        )
    if mapping.unit_amount is not None and mapping.currency is not None:
        amount = int((mapping.unit_amount * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return Charge(
            PricingKind.UNIT_AMOUNT,
            quantity,
            mapping.currency,
            amount,
            {
                "unit_amount_decimal": to_plain_string(mapping.unit_amount),
                "currency": mapping.currency,
                **_quantity_params(quantity),
            },
        )
    raise ValidationError(
        f"metric {mapping.metric!r} has no price: set a price (/v1/prices) or the mapping's "
        "price or unitAmount",
        code="no_price",
        field="price",
    )


def describe(mapping: StripeMapping, quantity: Decimal, period: Period) -> str:
    """The line's text: the metric, the quantity and the period (UTC bounds)."""
    name = mapping.description or mapping.metric
    return (
        f"{name}: {to_plain_string(quantity)} "
        f"({format_timestamp(period.start)} to {format_timestamp(period.end)})"
    )[:500]


def item_params(
    *,
    mapping: StripeMapping,
    charge: Charge,
    key: str,
    invoice_id: str,
    stripe_customer_id: str,
    period: Period,
) -> dict[str, Any]:
    """The complete ``POST /v1/invoiceitems`` parameters (stored, and re-sent verbatim)."""
    return {
        "customer": stripe_customer_id,
        "invoice": invoice_id,
        "description": describe(mapping, charge.quantity, period),
        "period": {"start": int(period.start.timestamp()), "end": int(period.end.timestamp())},
        "metadata": {
            KEY_METADATA: key,
            "stripemeter_metric": mapping.metric,
            "stripemeter_quantity": to_plain_string(charge.quantity),
        },
        **charge.params,
    }
