"""How a metric reaches Stripe: the mapping, validated once, as an immutable value.

A mapping is parsed from the API's camelCase shape here, so the pusher, the invoice flow and
reconciliation never re-validate it. Which Stripe meter formula a metric needs is decided
here too, in one place (``meter_formula``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from stripemeter_server.domain.decimals import check_precision, parse_decimal, to_plain_string
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Aggregation
from stripemeter_server.domain.money import normalize_currency

MAX_PRECISION = 12
_EVENT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,99}", re.ASCII)
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}", re.ASCII)
_FIELDS = frozenset(
    {
        "metric",
        "mode",
        "meterEventName",
        "transport",
        "precision",
        "price",
        "unitAmount",
        "currency",
        "description",
        "tolerance",
        "tenantId",
    }
)


class SyncMode(StrEnum):
    METER_EVENTS = "meter_events"
    USAGE_RECORDS = "usage_records"
    INVOICE_ITEMS = "invoice_items"


class Transport(StrEnum):
    V1 = "v1"
    V2_STREAM = "v2_stream"


class MeterFormula(StrEnum):
    SUM = "sum"
    LAST = "last"


# Value-like aggregations are sent as the value itself to a ``last`` meter; additive ones as
# deltas to a ``sum`` meter (Stripe's sum of the deltas is then the ledger's value).
_LAST_AGGREGATIONS = frozenset(
    {Aggregation.LATEST, Aggregation.MAX, Aggregation.MIN, Aggregation.AVG}
)


def meter_formula(aggregation: Aggregation) -> MeterFormula:
    """The Stripe meter formula a metric of this aggregation is pushed to."""
    return MeterFormula.LAST if aggregation in _LAST_AGGREGATIONS else MeterFormula.SUM


@dataclass(frozen=True, slots=True)
class StripeMapping:
    metric: str
    mode: SyncMode = SyncMode.METER_EVENTS
    meter_event_name: str | None = None
    transport: Transport = Transport.V1
    precision: int = 0
    price: str | None = None
    unit_amount: Decimal | None = None
    currency: str | None = None
    description: str | None = None
    # Reconciliation's tolerance in the metric's unit (None: half a pushed unit).
    tolerance: Decimal | None = None

    @property
    def event_name(self) -> str:
        """The Stripe meter's ``event_name`` (defaults to the metric code)."""
        return self.meter_event_name or self.metric

    @property
    def scale(self) -> Decimal:
        """How many pushed units make one metric unit (10 ** precision)."""
        return Decimal(10) ** self.precision


def _text(raw: MappingType[str, Any], name: str, limit: int = 255) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise ValidationError(
            f"{name} must be a non-empty string of at most {limit} characters",
            code="invalid_field",
            field=name,
        )
    return value


E = TypeVar("E", bound=StrEnum)


def _choice(raw: MappingType[str, Any], name: str, kind: type[E], default: E) -> E:
    value = raw.get(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise ValidationError(
            f"{name} must be one of: {allowed}", code="invalid_field", field=name
        ) from None


def _precision(raw: MappingType[str, Any]) -> int:
    value = raw.get("precision", 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRECISION:
        raise ValidationError(
            f"precision must be an integer from 0 to {MAX_PRECISION} (decimal places sent)",
            code="invalid_field",
            field="precision",
        )
    return value


def _unit_amount(raw: MappingType[str, Any]) -> Decimal | None:
    value = raw.get("unitAmount")
    if value is None:
        return None
    try:
        amount = parse_decimal(value)
        check_precision(amount)
    except (ValueError, ArithmeticError):
        raise ValidationError(
            "unitAmount must be a decimal amount in the currency's minor unit (e.g. cents)",
            code="invalid_field",
            field="unitAmount",
        ) from None
    if amount < 0:
        raise ValidationError(
            "unitAmount must not be negative", code="invalid_field", field="unitAmount"
        )
    return amount


def _tolerance(raw: MappingType[str, Any]) -> Decimal | None:
    value = raw.get("tolerance")
    if value is None:
        return None
    try:
        tolerance = parse_decimal(value)
        check_precision(tolerance)
    except (ValueError, ArithmeticError):
        tolerance = Decimal(-1)
    if tolerance < 0:
        raise ValidationError(
            "tolerance must be a non-negative decimal in the metric's unit",
            code="invalid_field",
            field="tolerance",
        )
    return tolerance


def mapping_from_dict(raw: object, *, metric: str | None = None) -> StripeMapping:
    """Validate the API's shape; every error names its field."""
    if not isinstance(raw, dict):
        raise ValidationError("the body must be a JSON object", code="invalid_body")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValidationError(
            f"unknown field: {unknown[0]}", code="unknown_field", field=unknown[0]
        )
    code = metric or _text(raw, "metric")
    if code is None:
        raise ValidationError("metric is required", code="missing_field", field="metric")
    event_name = _text(raw, "meterEventName", 100)
    if event_name is not None and not _EVENT_NAME.fullmatch(event_name):
        raise ValidationError(
            "meterEventName may hold letters, digits and _ . : - (at most 100)",
            code="invalid_field",
            field="meterEventName",
        )
    price = _text(raw, "price")
    if price is not None and not _STRIPE_ID.fullmatch(price):
        raise ValidationError(
            "price must be a Stripe price id (price_…)", code="invalid_field", field="price"
        )
    currency = _text(raw, "currency", 3)
    mapping = StripeMapping(
        metric=code,
        mode=_choice(raw, "mode", SyncMode, SyncMode.METER_EVENTS),
        meter_event_name=event_name,
        transport=_choice(raw, "transport", Transport, Transport.V1),
        precision=_precision(raw),
        price=price,
        unit_amount=_unit_amount(raw),
        currency=None if currency is None else _currency(currency),
        description=_text(raw, "description", 500),
        tolerance=_tolerance(raw),
    )
    _check_mode_fields(mapping)
    return mapping


def _currency(text: str) -> str:
    try:
        return normalize_currency(text)
    except ValidationError:
        raise ValidationError(
            "currency must be an ISO 4217 code", code="invalid_field", field="currency"
        ) from None


def _check_mode_fields(mapping: StripeMapping) -> None:
    if mapping.mode is SyncMode.USAGE_RECORDS and mapping.price is None:
        raise ValidationError(
            "price (the subscription item's Stripe price) is required for usage_records",
            code="missing_field",
            field="price",
        )
    if mapping.mode is not SyncMode.METER_EVENTS and mapping.transport is Transport.V2_STREAM:
        raise ValidationError(
            "transport v2_stream applies to meter_events only",
            code="invalid_field",
            field="transport",
        )
    if mapping.unit_amount is not None and mapping.currency is None:
        raise ValidationError(
            "currency is required with unitAmount", code="missing_field", field="currency"
        )


def mapping_to_dict(mapping: StripeMapping) -> dict[str, Any]:
    """The API's shape (and the stored definition)."""
    return {
        "metric": mapping.metric,
        "mode": mapping.mode.value,
        "meterEventName": mapping.meter_event_name,
        "transport": mapping.transport.value,
        "precision": mapping.precision,
        "price": mapping.price,
        "unitAmount": None if mapping.unit_amount is None else to_plain_string(mapping.unit_amount),
        "currency": mapping.currency,
        "description": mapping.description,
        "tolerance": None if mapping.tolerance is None else to_plain_string(mapping.tolerance),
    }
