"""Reconciliation arithmetic: is what Stripe holds what the ledger says, and if not, how far.

One line compares, for one mapping, customer and period, three numbers in the metric's unit:
the ledger's value (``local``), what the pusher has sent (``pushed``) and what Stripe reports
(``stripe``). The status is decided here, in one place:

* ``ok``                 Stripe equals the ledger within the tolerance;
* ``pending``            Stripe holds exactly what was sent, and the rest is still on its way
                         (the outbox or the next push pass carries it): not drift;
* ``missing_in_stripe``  the ledger has usage and Stripe has none (nothing on its way);
* ``missing_locally``    Stripe has usage the ledger does not;
* ``drift``              anything else: Stripe differs from what we sent, or a push failed.

The tolerance is half a pushed unit (``0.5 * 10^-precision``): a whole-number metric pushed in
whole units must match exactly; a decimal metric may differ by the rounding the push makes.

An invoice line (``invoice_items`` mapping, or the invoice gate) is compared on two axes: the
quantity Stripe bills against the ledger, and — where the amount is known locally — the
amount Stripe bills against the amount the ledger and the price give (``classify_invoice_line``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from stripemeter_server.domain.decimals import ARITHMETIC, ZERO


class LineStatus(StrEnum):
    OK = "ok"
    PENDING = "pending"
    DRIFT = "drift"
    MISSING_IN_STRIPE = "missing_in_stripe"
    MISSING_LOCALLY = "missing_locally"


HALF = Decimal("0.5")


def tolerance_for(precision: int) -> Decimal:
    """Half a pushed unit: the most a correct push can differ from the ledger."""
    return ARITHMETIC.multiply(HALF, ARITHMETIC.power(Decimal(10), -precision))


@dataclass(frozen=True, slots=True)
class Comparison:
    """The three numbers of one line, in the metric's unit (None: nothing there)."""

    local: Decimal | None
    pushed: Decimal | None
    stripe: Decimal | None
    # True when the difference between the ledger and what was sent is on its way (an unsent
    # outbox row, or a change the next push pass will send); False for failed pushes and for
    # flows with nothing in flight (invoice items).
    in_flight: bool = False


def _value(value: Decimal | None) -> Decimal:
    return ZERO if value is None else value


def absolute_drift(c: Comparison) -> Decimal:
    """Stripe minus the ledger (positive: Stripe would bill more)."""
    return ARITHMETIC.subtract(_value(c.stripe), _value(c.local))


def relative_drift(c: Comparison) -> Decimal | None:
    """The drift as a share of the ledger's value (None when the ledger has zero)."""
    local = _value(c.local)
    if local == ZERO:
        return None
    return ARITHMETIC.divide(absolute_drift(c), abs(local))


def classify(c: Comparison, tolerance: Decimal) -> LineStatus:
    local, stripe = _value(c.local), _value(c.stripe)
    if abs(ARITHMETIC.subtract(stripe, local)) <= tolerance:
        return LineStatus.OK
    if c.in_flight and abs(ARITHMETIC.subtract(stripe, _value(c.pushed))) <= tolerance:
        return LineStatus.PENDING  # Stripe holds exactly what we sent; the rest is coming
    if stripe == ZERO:
        return LineStatus.MISSING_IN_STRIPE
    if local == ZERO:
        return LineStatus.MISSING_LOCALLY
    return LineStatus.DRIFT


@dataclass(frozen=True, slots=True)
class InvoiceLineCheck:
    """One usage line of an invoice: the ledger's quantity and the amount the price gives it
    (``expected_amount``; None when Stripe prices it), against the line Stripe holds
    (``stripe``/``stripe_amount`` both None: there is no line). Amounts in currency units."""

    local: Decimal | None
    expected_amount: Decimal | None
    stripe: Decimal | None
    stripe_amount: Decimal | None

    @property
    def comparison(self) -> Comparison:
        return Comparison(self.local, None, self.stripe)


def _bills_something(quantity: Decimal | None, amount: Decimal | None) -> bool:
    return _value(quantity) != ZERO or _value(amount) != ZERO


def classify_invoice_line(c: InvoiceLineCheck, tolerance: Decimal) -> LineStatus:
    """``ok`` when the line bills the ledger's quantity (within the tolerance) and, where it
    is known, the expected amount to the minor unit; no line is ``ok`` only for nothing."""
    if c.stripe is None and c.stripe_amount is None:
        if _bills_something(c.local, c.expected_amount):
            return LineStatus.MISSING_IN_STRIPE
        return LineStatus.OK
    if not _bills_something(c.local, c.expected_amount):
        if _bills_something(c.stripe, c.stripe_amount):
            return LineStatus.MISSING_LOCALLY
        return LineStatus.OK
    quantity_off = abs(ARITHMETIC.subtract(_value(c.stripe), _value(c.local))) > tolerance
    amount_off = (
        c.expected_amount is not None
        and c.stripe_amount is not None
        and c.expected_amount != c.stripe_amount
    )
    return LineStatus.DRIFT if quantity_off or amount_off else LineStatus.OK


def invoice_money_at_stake(c: InvoiceLineCheck) -> Decimal | None:
    """What the line bills beyond what it should (negative: under-billed), if known."""
    if c.expected_amount is None:
        return None
    return ARITHMETIC.subtract(_value(c.stripe_amount), c.expected_amount)


def needs_attention(status: str) -> bool:
    """Statuses an operator must act on (``ok`` and ``pending`` need nothing)."""
    return status not in (LineStatus.OK, LineStatus.PENDING)
