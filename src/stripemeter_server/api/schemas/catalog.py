"""Metrics, customer records and prices on the wire."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, cast

from stripemeter_server.api.serialize import instant
from stripemeter_server.api.wire import (
    UNSET,
    Body,
    DecimalInput,
    DecimalText,
    Instant,
    JsonObject,
    StrictBody,
    Unset,
    render,
    request_body,
    response,
    shape_of,
)
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.domain.periods import PeriodSpec, PeriodType
from stripemeter_server.domain.pricing import PriceModel
from stripemeter_server.domain.timestamps import format_duration
from stripemeter_server.service.catalog.commands import CustomerTerms
from stripemeter_server.service.catalog.ports.definitions import CustomerRecord
from stripemeter_server.service.catalog.prices import PriceView


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


# --- commands -----------------------------------------------------------------------------


def customer_terms(customer_ref: str, body: Mapping[str, Any]) -> CustomerTerms:
    """A customer body as a command, through the same checks (and refusals) as ever."""
    if not customer_ref or len(customer_ref) > 255:
        raise ValidationError(
            "customerRef must be 1..255 characters", code="invalid_customer", field="customerRef"
        )
    anchor, timezone = body.get("anchorDay"), body.get("timezone")
    if anchor is not None or timezone is not None:
        try:  # PeriodSpec validates anchor range and the IANA name
            PeriodSpec(
                PeriodType.MONTH,
                anchor if anchor is not None else 1,
                timezone if timezone is not None else "UTC",  # a falsy non-string too
            )
        except (TypeError, ValidationError) as exc:
            raise ValidationError(
                str(exc),
                code="invalid_customer",
                field="anchorDay" if "anchor" in str(exc) else "timezone",
            ) from None
    stripe_id = body.get("stripeCustomerId")
    if stripe_id is not None and (not isinstance(stripe_id, str) or len(stripe_id) > 255):
        raise ValidationError(
            "stripeCustomerId must be a string of at most 255 characters",
            code="invalid_customer",
            field="stripeCustomerId",
        )
    return CustomerTerms(customer_ref, stripe_id, anchor, timezone)


# --- answers ------------------------------------------------------------------------------


class PeriodAnswer(StrictBody):
    type: Literal["month", "week", "day", "hour"]
    anchor_day: int
    timezone: str


class MetricAnswer(StrictBody):
    """A metric's definition; ``rebuilt`` only in the answer to a change."""

    code: str
    display_name: str | None
    unit: str | None
    aggregation: str
    value_property: str | None
    unique_property: str | None
    filter: JsonObject | None
    period: PeriodAnswer
    lateness_window: str
    late_policy: Literal["adjust", "reject"]
    rebuilt: bool | Unset = UNSET


class MetricList(StrictBody):
    data: list[MetricAnswer]


class CustomerAnswer(StrictBody):
    """A customer record; ``rebuilt`` only in the answer to a put."""

    customer_ref: str
    stripe_customer_id: str | None
    anchor_day: int | None
    timezone: str | None
    created_at: Instant
    updated_at: Instant
    rebuilt: bool | Unset = UNSET


class TierAnswer(StrictBody):
    up_to: DecimalText | None
    unit_amount: DecimalText | None
    flat_amount: DecimalText | None


class PriceAnswer(StrictBody, kw_only=True):
    """A price: the keys its model uses, then minimum and maximum."""

    metric: str
    customer_ref: str | None
    model: str
    currency: str
    unit_amount: DecimalText | Unset | None = UNSET
    tiers: list[TierAnswer] | Unset = UNSET
    package_size: DecimalText | Unset | None = UNSET
    package_amount: DecimalText | Unset | None = UNSET
    flat_amount: DecimalText | Unset | None = UNSET
    minimum: DecimalText | None
    maximum: DecimalText | None
    created_at: Instant
    updated_at: Instant


class PriceList(StrictBody):
    data: list[PriceAnswer]


def metric_answer(metric: Metric, rebuilt: bool | Unset = UNSET) -> MetricAnswer:
    return MetricAnswer(
        code=metric.code,
        display_name=metric.display_name,
        unit=metric.unit,
        aggregation=metric.aggregation.value,
        value_property=metric.value_property,
        unique_property=metric.unique_property,
        filter={path: json.loads(value) for path, value in metric.filter} or None,
        period=PeriodAnswer(
            type=cast(Any, metric.period.type.value),
            anchor_day=metric.period.anchor_day,
            timezone=metric.period.timezone,
        ),
        lateness_window=format_duration(metric.lateness_window),
        late_policy=cast(Any, metric.late_policy.value),
        rebuilt=rebuilt,
    )


def metric_json(metric: Metric, rebuilt: bool | Unset = UNSET) -> dict[str, Any]:
    return render(metric_answer(metric, rebuilt))


def metrics_json(metrics: list[Metric]) -> dict[str, Any]:
    return render(MetricList(data=[metric_answer(m) for m in metrics]))


def customer_json(record: CustomerRecord, rebuilt: bool | Unset = UNSET) -> dict[str, Any]:
    return render(
        CustomerAnswer(
            customer_ref=record.customer_ref,
            stripe_customer_id=record.stripe_customer_id,
            anchor_day=record.anchor_day,
            timezone=record.timezone,
            created_at=instant(record.created_us),
            updated_at=instant(record.updated_us),
            rebuilt=rebuilt,
        )
    )


def _exact(value: Decimal | None) -> str | None:
    """A price's amounts as stored: plain notation, never an exponent."""
    return None if value is None else format(value, "f")


def _price_answer(view: PriceView) -> PriceAnswer:
    price = view.price
    terms: dict[str, Any] = {}
    if price.model is PriceModel.PER_UNIT:
        terms["unit_amount"] = _exact(price.unit_amount)
    elif price.model in (PriceModel.GRADUATED, PriceModel.VOLUME):
        terms["tiers"] = [
            TierAnswer(
                up_to=_exact(t.up_to),
                unit_amount=_exact(t.unit_amount),
                flat_amount=_exact(t.flat_amount),
            )
            for t in price.tiers
        ]
    elif price.model is PriceModel.PACKAGE:
        terms["package_size"] = _exact(price.package_size)
        terms["package_amount"] = _exact(price.package_amount)
    else:
        terms["flat_amount"] = _exact(price.flat_amount)
    return PriceAnswer(
        metric=view.metric,
        customer_ref=view.customer_ref,
        model=price.model.value,
        currency=price.currency,
        **terms,
        minimum=_exact(price.minimum),
        maximum=_exact(price.maximum),
        created_at=instant(view.created_us),
        updated_at=instant(view.updated_us),
    )


def price_json(view: PriceView) -> dict[str, Any]:
    return render(_price_answer(view))


def prices_json(views: list[PriceView]) -> dict[str, Any]:
    return render(PriceList(data=[_price_answer(v) for v in views]))


Answers = dict[int | str, dict[str, Any]]
METRIC_CREATED: Answers = {
    201: response(MetricAnswer, "Created"),
    200: {"description": "The same definition existed already"},
}
METRIC: Answers = {200: response(MetricAnswer, "The metric")}
METRICS: Answers = {200: response(MetricList, "Every metric")}
CUSTOMER: Answers = {200: response(CustomerAnswer, "The customer record")}
PRICE_PUT: Answers = {
    201: response(PriceAnswer, "Created (200 when it replaced a price)"),
    200: response(PriceAnswer, "Replaced"),
}
PRICE: Answers = {200: response(PriceAnswer, "The price")}
PRICES: Answers = {200: response(PriceList, "Every price")}
