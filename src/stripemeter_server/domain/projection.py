"""Where a customer's current period is heading: quantity and cost at period end.

Only additive aggregations (``sum``, ``count``) grow with time, so only they are
extrapolated; the others are states or rates whose best forecast is their present value.
The projected cost re-prices the projected quantity, because with tiers, packages, minimums
and caps the cost is not proportional to the quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Final

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.pricing import Price, Quote, quote

PROJECTION_DECIMAL_PLACES: Final = 12
"""Projected quantities are rounded half-up to the ledger's quantity scale (DESIGN §2)."""

_RUN_RATE: Final = frozenset({"sum", "count"})
_CURRENT_VALUE: Final = frozenset({"max", "min", "latest", "unique_count", "avg"})
_ALIASES: Final = {"count_unique": "unique_count"}  # Unimeter spelling
_MICROSECOND: Final = timedelta(microseconds=1)


def _aggregation(aggregation: str) -> str:
    name = str(aggregation).lower()
    name = _ALIASES.get(name, name)
    if name not in _RUN_RATE and name not in _CURRENT_VALUE:
        raise ValidationError(
            f"unknown aggregation {aggregation!r}",
            code="invalid_aggregation",
            field="aggregation",
        )
    return name


def _micros_between(earlier: datetime, later: datetime) -> int:
    """Exact elapsed microseconds, never via float seconds.

    Both ends go to UTC first: Python subtracts two datetimes sharing one ``tzinfo`` as
    wall-clock times, which would be an hour off across a daylight-saving change.
    """
    return (later.astimezone(UTC) - earlier.astimezone(UTC)) // _MICROSECOND


def _check_period(period_start: datetime, period_end: datetime, as_of: datetime) -> None:
    for field, moment in (
        ("periodStart", period_start),
        ("periodEnd", period_end),
        ("asOf", as_of),
    ):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError(
                f"{field} must be timezone-aware", code="invalid_period", field=field
            )
    if _micros_between(period_start, period_end) <= 0:
        raise ValidationError(
            f"period end {period_end.isoformat()} is not after its start "
            f"{period_start.isoformat()}",
            code="invalid_period",
            field="periodEnd",
        )


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """Exact half-up (away from zero) rounding of a rational, without trailing zeros."""
    magnitude = floor(abs(value) * 10**places + Fraction(1, 2))
    exponent = -places
    while magnitude and magnitude % 10 == 0 and exponent < 0:
        magnitude //= 10
        exponent += 1
    if magnitude == 0:
        return Decimal(0)
    sign = "-" if value < 0 else ""
    return Decimal(f"{sign}{magnitude}E{exponent}")  # string construction is always exact


def projected_quantity(
    aggregation: str,
    current: Decimal | None,
    period_start: datetime,
    period_end: datetime,
    as_of: datetime,
) -> Decimal | None:
    """Forecast the period-end value of an aggregation from its value at ``as_of``.

    ``sum`` and ``count`` follow the run rate: ``current * length / elapsed``. With nothing
    elapsed yet (``as_of`` at or before the start) there is no rate to extrapolate, and at
    or after the end the period is complete; both return ``current``. Every other
    aggregation returns ``current``. ``None`` (an empty ``max``/``min``/...) stays ``None``.
    """
    kind = _aggregation(aggregation)
    _check_period(period_start, period_end, as_of)
    if current is None:
        return None
    if not isinstance(current, Decimal) or not current.is_finite():
        raise ValidationError(
            f"current value must be a finite decimal, got {current!r}",
            code="invalid_quantity",
            field="current",
        )
    if kind not in _RUN_RATE:
        return current
    length = _micros_between(period_start, period_end)
    elapsed = _micros_between(period_start, as_of)
    if elapsed <= 0 or elapsed >= length:
        return current
    return _round_half_up(Fraction(current) * length / elapsed, PROJECTION_DECIMAL_PLACES)


@dataclass(frozen=True, slots=True)
class ProjectionLine:
    """One metric of a projection. Costs are ``None`` when the metric has no price."""

    aggregation: str
    current_quantity: Decimal | None
    projected_quantity: Decimal | None
    current_cost: Quote | None
    projected_cost: Quote | None


def _cost(price: Price | None, quantity: Decimal | None) -> Quote | None:
    if price is None:
        return None
    # An empty period (no value at all) bills like zero usage: flat fees and minimums apply.
    return quote(price, Decimal(0) if quantity is None else quantity)


def project_line(
    price: Price | None,
    aggregation: str,
    current: Decimal | None,
    period_start: datetime,
    period_end: datetime,
    as_of: datetime,
) -> ProjectionLine:
    """Current and projected quantity, each priced on its own.

    The projected cost is ``quote(price, projected quantity)``, never the current cost
    scaled by the run rate: tiers, packages, minimums and caps make cost non-linear.
    """
    projected = projected_quantity(aggregation, current, period_start, period_end, as_of)
    return ProjectionLine(
        aggregation=_aggregation(aggregation),
        current_quantity=current,
        projected_quantity=projected,
        current_cost=_cost(price, current),
        projected_cost=_cost(price, projected),
    )
