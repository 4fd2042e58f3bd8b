"""Every field the official library types as non-optional (the API reference's required
fields for its pinned version) is present in what the emulator returns, at every depth
where a nested object is present."""

from __future__ import annotations

import typing
from typing import Any

import pytest
import stripe
from stripe._stripe_object import StripeObject

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event

FEB_15 = 1771113600


def _optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(
        annotation
    )


def _nested(owner: type, annotation: Any) -> type | None:
    """The nested StripeObject class an annotation refers to (List/Optional unwrapped)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        for inner in (candidate, *typing.get_args(candidate)):
            if (
                isinstance(inner, type)
                and issubclass(inner, StripeObject)
                and inner.__qualname__.startswith(owner.__qualname__ + ".")
            ):
                return inner
    return None


def missing_fields(cls: type, data: dict[str, Any], path: str = "") -> list[str]:
    """Required fields of `cls` absent from `data`, recursively."""
    missing: list[str] = []
    for name, annotation in cls.__annotations__.items():
        if (
            name.startswith("_")
            or typing.get_origin(annotation) is typing.ClassVar
            or name == "OBJECT_NAME"
        ):
            continue
        where = f"{path}.{name}" if path else name
        if name not in data:
            if not _optional(annotation):
                missing.append(where)
            continue
        nested = _nested(cls, annotation)
        value = data[name]
        if nested is None or value is None:
            continue
        for index, element in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(element, dict):
                suffix = f"[{index}]" if isinstance(value, list) else ""
                missing += missing_fields(nested, element, where + suffix)
    return missing


def raw(obj: Any) -> dict[str, Any]:
    data = obj.to_dict()
    assert isinstance(data, dict)
    return data


@pytest.fixture
def renewal(server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any) -> Any:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2,
            "product_data": {"name": "API"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    send_event(client, customer.id, "3", timestamp=T0 + 60)
    invoice_id = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0})[
        "invoices_created"
    ][0]
    return sub, client.v1.invoices.retrieve(invoice_id)


@pytest.fixture
def item_invoice(client: stripe.StripeClient, customer: Any) -> Any:
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 7, "product_data": {"name": "Seats"}}
    )
    draft = client.v1.invoices.create(params={"customer": customer.id})
    item = client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "pricing": {"price": price.id}}
    )
    return item, client.v1.invoices.retrieve(draft.id), price


def test_customer_has_every_required_field(customer: Any) -> None:
    assert missing_fields(stripe.Customer, raw(customer)) == []


def test_product_and_price_have_every_required_field(
    item_invoice: Any, client: stripe.StripeClient
) -> None:
    price = item_invoice[2]
    product = client.v1.products.retrieve(price.product)
    assert (
        missing_fields(stripe.Price, raw(price)) + missing_fields(stripe.Product, raw(product))
        == []
    )


def test_invoice_with_item_lines_has_every_required_field(item_invoice: Any) -> None:
    assert missing_fields(stripe.Invoice, raw(item_invoice[1])) == []


def test_item_line_has_every_required_field(item_invoice: Any) -> None:
    line = raw(item_invoice[1])["lines"]["data"][0]
    assert missing_fields(stripe.InvoiceLineItem, line) == []


def test_invoice_item_has_every_required_field(item_invoice: Any) -> None:
    assert missing_fields(stripe.InvoiceItem, raw(item_invoice[0])) == []


def test_renewal_invoice_has_every_required_field(renewal: Any) -> None:
    assert missing_fields(stripe.Invoice, raw(renewal[1])) == []


def test_subscription_line_has_every_required_field(renewal: Any) -> None:
    line = raw(renewal[1])["lines"]["data"][0]
    assert missing_fields(stripe.InvoiceLineItem, line) == []


def test_subscription_has_every_required_field(renewal: Any) -> None:
    assert missing_fields(stripe.Subscription, raw(renewal[0])) == []


def test_subscription_item_has_every_required_field(renewal: Any) -> None:
    item = raw(renewal[0])["items"]["data"][0]
    assert missing_fields(stripe.SubscriptionItem, item) == []


def test_meter_objects_have_every_required_field(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    event = send_event(client, customer.id, "1", identifier="f1")
    adjustment = client.v1.billing.meter_event_adjustments.create(
        params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "f1"}}
    )
    summary = client.v1.billing.meters.event_summaries.list(
        meter.id, params={"customer": customer.id, "start_time": T0 - 3600, "end_time": T0 + 3600}
    ).data[0]
    assert (
        missing_fields(stripe.billing.Meter, raw(meter))
        + missing_fields(stripe.billing.MeterEvent, raw(event))
        + missing_fields(stripe.billing.MeterEventAdjustment, raw(adjustment))
        + missing_fields(stripe.billing.MeterEventSummary, raw(summary))
        == []
    )


def test_v2_objects_have_every_required_field(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    session = client.v2.billing.meter_event_session.create()
    event = client.v2.billing.meter_events.create(
        params={
            "event_name": "api_calls",
            "identifier": "v1",
            "payload": {"stripe_customer_id": customer.id, "value": "1"},
        }
    )
    adjustment = client.v2.billing.meter_event_adjustments.create(
        params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "v1"}}
    )
    assert (
        missing_fields(stripe.v2.billing.MeterEventSession, raw(session))
        + missing_fields(stripe.v2.billing.MeterEvent, raw(event))
        + missing_fields(stripe.v2.billing.MeterEventAdjustment, raw(adjustment))
        == []
    )


def test_webhook_endpoint_and_event_have_every_required_field(
    client: stripe.StripeClient, customer: Any
) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    )
    event = client.v1.events.list().data[0]
    assert (
        missing_fields(stripe.WebhookEndpoint, raw(endpoint))
        + missing_fields(stripe.Event, raw(event))
        == []
    )


def test_the_walker_reports_a_missing_required_field() -> None:
    assert missing_fields(stripe.billing.Meter, {"id": "mtr_1"})[:2] == [
        "created",
        "customer_mapping",
    ]
