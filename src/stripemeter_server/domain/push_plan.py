"""Push arithmetic: what to send Stripe so its total equals the ledger's, exactly.

The pushed total is kept in whole *units* (the metric's value times ``10 ** precision``,
rounded half-up). Each push is computed from the ledger's whole value, never from the
previous delta, so rounding never accumulates: the remainder is carried by construction and
Stripe's total differs from the ledger by at most half a unit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from stripemeter_server.domain.decimals import ARITHMETIC
from stripemeter_server.domain.stripe_mapping import MeterFormula

STRIPE_MAX_AGE_SECONDS = 35 * 24 * 3600
# Pushes must reach Stripe a little before its 35-day limit, or they are refused.
PUSH_AGE_MARGIN_SECONDS = 3600
# How far ahead of now a ``last`` push may step to stay strictly after its predecessor.
FUTURE_STEP_SECONDS = 60


@dataclass(frozen=True, slots=True)
class PushDecision:
    """One push: the value sent, and the pushed total once Stripe has it."""

    value: int
    pushed_units_after: int


def to_units(value: Decimal | None, scale: Decimal) -> int:
    """The ledger value in pushed units (``None`` — an empty max/min/latest — is 0)."""
    if value is None:
        return 0
    scaled = ARITHMETIC.multiply(value, scale)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=ARITHMETIC))


def from_units(units: int, scale: Decimal) -> Decimal:
    """Pushed units back in the metric's unit (exact)."""
    return ARITHMETIC.divide(Decimal(units), scale)


def next_push(
    local_value: Decimal | None, pushed_units: int | None, formula: MeterFormula, scale: Decimal
) -> PushDecision | None:
    """What to send now, or None when Stripe already has the ledger's value.

    ``pushed_units`` is None when nothing was ever pushed for this counter. A ``sum`` meter
    gets the signed difference; a ``last`` meter gets the value itself.
    """
    target = to_units(local_value, scale)
    if formula is MeterFormula.SUM:
        done = pushed_units or 0
        if target == done:
            return None
        return PushDecision(value=target - done, pushed_units_after=target)
    if pushed_units is None and local_value is None:
        return None
    if pushed_units == target:
        return None
    return PushDecision(value=target, pushed_units_after=target)


def push_identifier(
    tenant_id: str, metric: str, customer_ref: str, period_start_us: int, seq: int
) -> str:
    """The meter event's ``identifier``: the same push always has the same one, so a
    re-send after a crash is dropped by Stripe, and it is unique per (counter, seq)."""
    material = "\x1f".join((tenant_id, metric, customer_ref, str(period_start_us), str(seq)))
    return "smp_" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def push_identifiers(tenant_id: str, metric: str) -> Callable[[str, int, int], str]:
    """``push_identifier`` for one tenant and metric, as a function of (customer, period
    start, seq): the hash of the shared prefix is taken once and copied per push (a plan
    computes thousands); equal to ``push_identifier`` (tested)."""
    prefix = hashlib.sha256(f"{tenant_id}\x1f{metric}\x1f".encode())

    def identifier(customer_ref: str, period_start_us: int, seq: int) -> str:
        digest = prefix.copy()
        digest.update(f"{customer_ref}\x1f{period_start_us}\x1f{seq}".encode())
        return "smp_" + digest.hexdigest()[:40]

    return identifier


def push_timestamp(
    now_s: int,
    period_start_s: int,
    period_end_s: int,
    previous_s: int | None = None,
    *,
    strictly_after: bool = False,
) -> int:
    """A meter event time inside the period: now, clamped to ``[start, end - 1]``, and never
    before the counter's previous push.

    A ``last`` meter keeps the value with the greatest timestamp, so its pushes ask for
    ``strictly_after``: one second past the previous push when that still lies inside the
    period and at most ``FUTURE_STEP_SECONDS`` ahead of now (Stripe refuses events more than
    five minutes ahead); otherwise the previous time again (ties keep arrival order).
    """
    at = min(max(now_s, period_start_s), period_end_s - 1)
    if previous_s is None or previous_s < at:
        return at
    if strictly_after:
        bumped = previous_s + 1
        if bumped <= period_end_s - 1 and bumped <= now_s + FUTURE_STEP_SECONDS:
            return bumped
    return min(previous_s, period_end_s - 1)


def too_old_for_stripe(timestamp_s: int, now_s: int) -> bool:
    """Stripe refuses meter events more than 35 days old (with a margin for the send)."""
    return timestamp_s < now_s - STRIPE_MAX_AGE_SECONDS + PUSH_AGE_MARGIN_SECONDS


def oldest_pushable_end_s(now_s: int) -> int:
    """Periods ending at or before this instant are outside Stripe's window: a counter there
    that was never pushed is history from before its mapping and is not pushed at all."""
    return now_s - STRIPE_MAX_AGE_SECONDS + PUSH_AGE_MARGIN_SECONDS


def retry_delay_s(attempt: int, first_s: float, max_s: float, jitter: float) -> float:
    """Exponential backoff with full jitter: ``jitter`` in [0, 1) is the caller's random draw
    (the domain reads no randomness), so two workers retrying together spread out."""
    ceiling = min(first_s * float(2 ** min(max(attempt - 1, 0), 30)), max_s)
    return ceiling / 2 + ceiling / 2 * jitter
