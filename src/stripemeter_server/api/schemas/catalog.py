"""Metrics, customer records and prices on the wire."""

from __future__ import annotations

from typing import Any, Literal

from stripemeter_server.api.wire import (
    UNSET,
    Body,
    DecimalInput,
    JsonObject,
    StrictBody,
    Unset,
    request_body,
    shape_of,
)


class Period(Body):
    type: Literal["month", "week", "day", "hour"] | Unset = UNSET
    anchor_day: int | Unset = UNSET
    timezone: str | Unset = UNSET


class MetricChange(Body):
    """A metric's definition; on create ``code`` is required, on update every key is
    optional and ``code`` must equal the path's."""

    tenant_id: str | Unset = UNSET
    code: str | Unset = UNSET
    display_name: str | Unset | None = UNSET
    unit: str | Unset | None = UNSET
    aggregation: str | Unset = UNSET
    value_property: str | Unset | None = UNSET
    unique_property: str | Unset | None = UNSET
    filter: JsonObject | Unset | None = UNSET
    period: Period | Unset | None = UNSET
    lateness_window: str | Unset | None = UNSET
    late_policy: Literal["adjust", "reject"] | Unset | None = UNSET


class CustomerChange(Body):
    tenant_id: str | Unset = UNSET
    stripe_customer_id: str | Unset | None = UNSET
    anchor_day: int | Unset | None = UNSET
    timezone: str | Unset | None = UNSET


class PriceTier(StrictBody):
    up_to: DecimalInput | Unset | None = UNSET
    unit_amount: DecimalInput | Unset | None = UNSET
    flat_amount: DecimalInput | Unset | None = UNSET


class PriceChange(StrictBody):
    model: str
    currency: str | Unset = UNSET
    unit_amount: DecimalInput | Unset | None = UNSET
    tiers: list[PriceTier] | Unset | None = UNSET
    package_size: DecimalInput | Unset | None = UNSET
    package_amount: DecimalInput | Unset | None = UNSET
    flat_amount: DecimalInput | Unset | None = UNSET
    minimum: DecimalInput | Unset | None = UNSET
    maximum: DecimalInput | Unset | None = UNSET


METRIC_EXAMPLE: dict[str, Any] = {
    "code": "api_calls",
    "displayName": "API calls",
    "unit": "call",
    "aggregation": "sum",
    "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
    "latenessWindow": "PT48H",
    "latePolicy": "adjust",
}
PRICE_EXAMPLE: dict[str, Any] = {
    "model": "graduated",
    "currency": "usd",
    "tiers": [{"upTo": "1000", "unitAmount": "0"}, {"upTo": None, "unitAmount": "0.002"}],
    "minimum": None,
    "maximum": None,
}
CREATE_METRIC = request_body(MetricChange, examples=(METRIC_EXAMPLE,))
CHANGE_METRIC = request_body(MetricChange, examples=({"displayName": "API calls (v2)"},))
PUT_CUSTOMER = request_body(
    CustomerChange,
    examples=({"stripeCustomerId": "cus_123", "anchorDay": 15, "timezone": "Europe/Berlin"},),
)
PUT_PRICE = request_body(PriceChange, examples=(PRICE_EXAMPLE,))
METRIC_SHAPE = shape_of(MetricChange)
CUSTOMER_SHAPE = shape_of(CustomerChange)
