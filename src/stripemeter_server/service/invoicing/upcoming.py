"""The upcoming invoice as stripemeter will bill it: one line per mapped or priced metric
for the customer's period containing an instant, the credit its usage draws, and totals.

Lines are priced the way the invoice flow prices them (``domain/invoice_items.charge_for``:
the project's price first, else the mapping's Stripe price or unit amount), from the live
counters; credits are the burn-down's (``service/credits/burn.py``) for the same periods.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stripemeter_server.domain.bounded import check_identifier
from stripemeter_server.domain.decimals import ZERO
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.invoice_items import PricingKind, charge_for
from stripemeter_server.domain.money import minor_unit_exponent, zero_amount
from stripemeter_server.domain.periods import Period, period_containing
from stripemeter_server.domain.pricing import Price, PriceLine, quote
from stripemeter_server.domain.stripe_mapping import StripeMapping
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.catalog.definitions import decode_metric, spec_for
from stripemeter_server.service.catalog.prices import resolve_prices
from stripemeter_server.service.credits.burn import BurnDown, burn_from
from stripemeter_server.service.invoicing.ports import InvoicingUnitOfWork as UnitOfWork
from stripemeter_server.service.stripe_sync.mappings import decode_mapping


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    metric: str
    period: Period
    quantity: Decimal
    pricing: str  # price, stripe_price or unit_amount
    stripe_price: str | None
    currency: str | None
    amount: Decimal | None  # None where Stripe prices it (a Stripe price)
    tiers: tuple[PriceLine, ...]


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    subtotal: Decimal
    credits: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class UpcomingInvoice:
    customer_ref: str
    at: datetime
    as_of: datetime
    lines: list[InvoiceLine]
    totals: list[CurrencyTotal]

    @property
    def period(self) -> Period | None:
        if not self.lines:
            return None
        return Period(
            min(line.period.start for line in self.lines),
            max(line.period.end for line in self.lines),
        )


def upcoming_invoice(
    uow: UnitOfWork,
    customer_ref: str,
    at: datetime,
    now: datetime,
    only: frozenset[str] | None = None,
) -> UpcomingInvoice:
    """The preview; ``only`` limits it to those metrics (a portal token's), lines and
    totals alike, so nothing of another metric shows even in a sum."""
    check_identifier(customer_ref, "customerRef", code="invalid_request")
    if at > now and to_micros(at) - to_micros(now) > 400 * 86_400_000_000:
        raise ValidationError(
            "at may be at most 400 days ahead", code="invalid_timestamp", field="at"
        )
    # One statement reads every input (ADR 0948); a line's counter is among those whose
    # stored period contains ``at``, else read by its key (it may not exist).
    inputs = uow.billing_reads.billing_inputs(customer_ref, to_micros(now), to_micros(at))
    metrics = {code: decode_metric(text) for code, text in inputs.metrics.items()}
    prices = resolve_prices(inputs.prices)
    mappings = {s.metric: decode_mapping(s.definition) for s in inputs.mappings}
    containing = {c.key: c for c in inputs.containing}
    lines = []
    billable = (set(mappings) | set(prices)) & set(metrics)
    for code in sorted(billable if only is None else billable & only):
        metric = metrics[code]
        period = period_containing(spec_for(metric, inputs.customer), at)
        key = (code, customer_ref, to_micros(period.start))
        counter = containing[key] if key in containing else uow.counters.get(key)
        value = counter.state.value(metric.aggregation) if counter else None
        line = _line(code, mappings.get(code), prices.get(code), value, period)
        if line is not None:
            lines.append(line)
    current = burn_from(inputs, now)
    return UpcomingInvoice(customer_ref, at, now, lines, _totals(current, lines))


def _line(
    code: str,
    mapping: StripeMapping | None,
    price: Price | None,
    value: Decimal | None,
    period: Period,
) -> InvoiceLine | None:
    quantity = ZERO if value is None or value < ZERO else value
    if mapping is None:
        mapping = StripeMapping(code)
    try:
        charge = charge_for(mapping, price, quantity)
    except ValidationError:
        return None  # nothing prices the metric: it bills nothing
    tiers: tuple[PriceLine, ...] = ()
    amount = None
    if charge.pricing == PricingKind.PRICE and price is not None:
        priced = quote(price, quantity)
        tiers, amount = priced.lines, priced.amount
    elif charge.amount is not None and charge.currency is not None:
        amount = Decimal(charge.amount).scaleb(-minor_unit_exponent(charge.currency))
    return InvoiceLine(
        code, period, quantity, charge.pricing, mapping.price, charge.currency, amount, tiers
    )


def _totals(current: BurnDown, lines: list[InvoiceLine]) -> list[CurrencyTotal]:
    subtotals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.currency is not None and line.amount is not None:
            subtotals[line.currency] += line.amount
    billed = {(line.metric, line.period.start) for line in lines}
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in current.periods:
        if item.currency is not None and (item.total.metric, item.total.period_start) in billed:
            credits[item.currency] += item.money_drawn
    out = []
    for currency in sorted(set(subtotals) | set(credits)):
        zero = zero_amount(currency)
        subtotal, credit = subtotals[currency] + zero, credits[currency] + zero
        out.append(CurrencyTotal(currency, subtotal, credit, max(subtotal - credit, zero)))
    return out
