"""The declared parameter schemas name only real Stripe parameters: each one is checked
against the official library's parameter types for that route (generated from Stripe's
OpenAPI spec), and every route the emulator serves has a schema."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

from stripe_emulator.param_tables import ECHOED, IGNORED, NOT_MODELLED
from stripe_emulator.params import Arr, Free, Legacy, NotModelled, Obj, Spec
from stripe_emulator.routing import Router
from stripe_emulator.schemas import SCHEMAS, check_coverage, schema_for
from tests.contract.stripe_emulator.surface_library_params import SURFACE_LIBRARY_PARAMS

# (method, route) → the library's params class. Legacy usage-record routes have none
# (the library dropped them with 2025-03-31.basil) and are checked by version tests.
LIBRARY_PARAMS = {
    ("POST", "/v1/customers"): "_customer_create_params:CustomerCreateParams",
    ("GET", "/v1/customers"): "_customer_list_params:CustomerListParams",
    ("GET", "/v1/customers/search"): "_customer_search_params:CustomerSearchParams",
    ("GET", "/v1/customers/{id}"): "_customer_retrieve_params:CustomerRetrieveParams",
    ("POST", "/v1/customers/{id}"): "_customer_update_params:CustomerUpdateParams",
    ("POST", "/v1/products"): "_product_create_params:ProductCreateParams",
    ("GET", "/v1/products"): "_product_list_params:ProductListParams",
    ("GET", "/v1/products/{id}"): "_product_retrieve_params:ProductRetrieveParams",
    ("POST", "/v1/prices"): "_price_create_params:PriceCreateParams",
    ("GET", "/v1/prices"): "_price_list_params:PriceListParams",
    ("GET", "/v1/prices/{id}"): "_price_retrieve_params:PriceRetrieveParams",
    ("POST", "/v1/billing/meters"): "billing._meter_create_params:MeterCreateParams",
    ("GET", "/v1/billing/meters"): "billing._meter_list_params:MeterListParams",
    ("GET", "/v1/billing/meters/{id}"): "billing._meter_retrieve_params:MeterRetrieveParams",
    ("POST", "/v1/billing/meters/{id}"): "billing._meter_update_params:MeterUpdateParams",
    (
        "POST",
        "/v1/billing/meters/{id}/deactivate",
    ): "billing._meter_deactivate_params:MeterDeactivateParams",
    (
        "POST",
        "/v1/billing/meters/{id}/reactivate",
    ): "billing._meter_reactivate_params:MeterReactivateParams",
    (
        "POST",
        "/v1/billing/meter_events",
    ): "billing._meter_event_create_params:MeterEventCreateParams",
    (
        "POST",
        "/v1/billing/meter_event_adjustments",
    ): "billing._meter_event_adjustment_create_params:MeterEventAdjustmentCreateParams",
    (
        "GET",
        "/v1/billing/meters/{id}/event_summaries",
    ): "billing._meter_list_event_summaries_params:MeterListEventSummariesParams",
    (
        "POST",
        "/v2/billing/meter_event_session",
    ): "v2.billing._meter_event_session_create_params:MeterEventSessionCreateParams",
    (
        "POST",
        "/v2/billing/meter_event_stream",
    ): "v2.billing._meter_event_stream_create_params:MeterEventStreamCreateParams",
    (
        "POST",
        "/v2/billing/meter_events",
    ): "v2.billing._meter_event_create_params:MeterEventCreateParams",
    (
        "POST",
        "/v2/billing/meter_event_adjustments",
    ): "v2.billing._meter_event_adjustment_create_params:MeterEventAdjustmentCreateParams",
    ("POST", "/v1/subscriptions"): "_subscription_create_params:SubscriptionCreateParams",
    ("GET", "/v1/subscriptions"): "_subscription_list_params:SubscriptionListParams",
    ("GET", "/v1/subscriptions/{id}"): "_subscription_retrieve_params:SubscriptionRetrieveParams",
    ("DELETE", "/v1/subscriptions/{id}"): "_subscription_cancel_params:SubscriptionCancelParams",
    (
        "GET",
        "/v1/subscription_items/{id}",
    ): "_subscription_item_retrieve_params:SubscriptionItemRetrieveParams",
    ("POST", "/v1/invoices"): "_invoice_create_params:InvoiceCreateParams",
    ("GET", "/v1/invoices"): "_invoice_list_params:InvoiceListParams",
    ("GET", "/v1/invoices/{id}"): "_invoice_retrieve_params:InvoiceRetrieveParams",
    ("POST", "/v1/invoices/{id}"): "_invoice_update_params:InvoiceUpdateParams",
    ("DELETE", "/v1/invoices/{id}"): "_invoice_delete_params:InvoiceDeleteParams",
    ("GET", "/v1/invoices/{id}/lines"): "_invoice_list_lines_params:InvoiceListLinesParams",
    (
        "POST",
        "/v1/invoices/{id}/finalize",
    ): "_invoice_finalize_invoice_params:InvoiceFinalizeInvoiceParams",
    ("POST", "/v1/invoices/{id}/pay"): "_invoice_pay_params:InvoicePayParams",
    ("POST", "/v1/invoices/{id}/void"): "_invoice_void_invoice_params:InvoiceVoidInvoiceParams",
    ("POST", "/v1/invoiceitems"): "_invoice_item_create_params:InvoiceItemCreateParams",
    ("GET", "/v1/invoiceitems"): "_invoice_item_list_params:InvoiceItemListParams",
    ("GET", "/v1/invoiceitems/{id}"): "_invoice_item_retrieve_params:InvoiceItemRetrieveParams",
    ("POST", "/v1/invoiceitems/{id}"): "_invoice_item_update_params:InvoiceItemUpdateParams",
    (
        "POST",
        "/v1/webhook_endpoints",
    ): "_webhook_endpoint_create_params:WebhookEndpointCreateParams",
    ("GET", "/v1/webhook_endpoints"): "_webhook_endpoint_list_params:WebhookEndpointListParams",
    (
        "GET",
        "/v1/webhook_endpoints/{id}",
    ): "_webhook_endpoint_retrieve_params:WebhookEndpointRetrieveParams",
    (
        "POST",
        "/v1/webhook_endpoints/{id}",
    ): "_webhook_endpoint_update_params:WebhookEndpointUpdateParams",
    (
        "DELETE",
        "/v1/webhook_endpoints/{id}",
    ): "_webhook_endpoint_delete_params:WebhookEndpointDeleteParams",
    ("GET", "/v1/events"): "_event_list_params:EventListParams",
    ("GET", "/v1/events/{id}"): "_event_retrieve_params:EventRetrieveParams",
}
LIBRARY_PARAMS.update(SURFACE_LIBRARY_PARAMS)
NO_LIBRARY_PARAMS = {
    ("POST", "/v1/subscription_items/{id}/usage_records"),
    ("GET", "/v1/subscription_items/{id}/usage_record_summaries"),
}
# `expand` is accepted on every v1 route (and ignored); the library omits it on deletes.
# `page` is the opaque token of a v2 list's `next_page_url`, which the library follows
# without typing it.
ALWAYS_ALLOWED = {"expand", "page"}


def _annotations(cls: type) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__name__ != "RequestOptions":
            out.update(getattr(klass, "__annotations__", {}))
    return out


def _nested_class(module: Any, owner: type, annotation: Any) -> type | None:
    names = re.findall(rf"\b({owner.__name__}\w+)\b", str(annotation))
    return getattr(module, names[0]) if names else None


def _undeclared_by_library(spec: Spec, module: Any, cls: type, path: str) -> list[str]:
    if isinstance(spec, Arr):
        return _undeclared_by_library(spec.item, module, cls, path)
    if not isinstance(spec, Obj):
        return []
    real = _annotations(cls)
    wrong: list[str] = []
    for name, inner in spec.fields.items():
        where = f"{path}[{name}]" if path else name
        if isinstance(inner, Legacy) or (not path and name in ALWAYS_ALLOWED):
            continue
        if name not in real:
            wrong.append(where)
            continue
        if isinstance(inner, Free):
            continue
        nested = _nested_class(module, cls, real[name])
        if nested is not None:
            wrong += _undeclared_by_library(inner, module, nested, where)
    return wrong


@pytest.mark.parametrize("route", sorted(LIBRARY_PARAMS), ids=lambda r: f"{r[0]} {r[1]}")
def test_every_declared_parameter_is_a_real_stripe_parameter(route: tuple[str, str]) -> None:
    module_name, class_name = LIBRARY_PARAMS[route].split(":")
    module = importlib.import_module(f"stripe.params.{module_name}")
    spec = schema_for(*route)
    assert _undeclared_by_library(spec, module, getattr(module, class_name), "") == []


def test_every_schema_is_mapped_to_the_library_or_listed_as_legacy() -> None:
    assert set(SCHEMAS) == set(LIBRARY_PARAMS) | NO_LIBRARY_PARAMS


def test_a_route_without_a_schema_is_refused_at_start() -> None:
    router = Router()
    router.add("GET", "/v1/not_declared", lambda req: None)
    with pytest.raises(RuntimeError, match="not_declared"):
        check_coverage(router.routes)


# What the library's params classes inherit from its request options (not API parameters).
REQUEST_OPTIONS = {
    "api_key",
    "content_type",
    "headers",
    "idempotency_key",
    "max_network_retries",
    "stripe_account",
    "stripe_context",
    "stripe_version",
}
# Create and update routes of the resources a billing integration is built on. Subscription
# creation honours trials (also from the plan), add_invoice_items, cancel_at_period_end and
# cancel_at (28 of 35); discounts and tax rates are what it lacks beyond 0.8.
COVERAGE_FLOOR = {
    ("POST", "/v1/customers"): 0.8,
    ("POST", "/v1/customers/{id}"): 0.8,
    ("POST", "/v1/invoices"): 0.8,
    ("POST", "/v1/invoices/{id}"): 0.8,
    ("POST", "/v1/invoiceitems"): 0.8,
    ("POST", "/v1/invoiceitems/{id}"): 0.8,
    ("POST", "/v1/prices"): 0.8,
    ("POST", "/v1/subscriptions"): 0.8,
}


def _library_params(route: tuple[str, str]) -> set[str]:
    module_name, class_name = LIBRARY_PARAMS[route].split(":")
    module = importlib.import_module(f"stripe.params.{module_name}")
    return set(_annotations(getattr(module, class_name))) - REQUEST_OPTIONS - ALWAYS_ALLOWED


@pytest.mark.parametrize("route", sorted(LIBRARY_PARAMS), ids=lambda r: f"{r[0]} {r[1]}")
def test_no_real_parameter_is_refused_as_unknown(route: tuple[str, str]) -> None:
    assert _library_params(route) - set(schema_for(*route).fields) == set()


@pytest.mark.parametrize("route", sorted(COVERAGE_FLOOR), ids=lambda r: f"{r[0]} {r[1]}")
def test_most_real_parameters_are_honoured(route: tuple[str, str]) -> None:
    real = _library_params(route)
    fields = schema_for(*route).fields
    honoured = {name for name in real if not isinstance(fields.get(name), NotModelled)}
    assert len(honoured) / len(real) >= COVERAGE_FLOOR[route]


def test_a_parameter_is_in_one_table_only() -> None:
    """A route that starts modelling a parameter moves it out of NOT_MODELLED."""
    overlaps = {}
    for route in set(NOT_MODELLED) | set(IGNORED) | set(ECHOED):
        tables = [
            set(SCHEMAS[route].fields),
            set(ECHOED.get(route, {})),
            set(IGNORED.get(route, ())),
            set(NOT_MODELLED.get(route, ())),
        ]
        seen: set[str] = set()
        for names in tables:
            if names & seen:
                overlaps[route] = names & seen
            seen |= names
    assert overlaps == {}
