"""The one place that declares which parameters each Stripe route accepts.

Every name here is a real Stripe parameter of that route (a contract test checks each one
against the official library's parameter types); parameters Stripe has but the emulator
does not model are left out, so they are refused as unknown rather than silently ignored.
`expand[]` is accepted on every v1 route and ignored (expansion is not modelled).
"""

from __future__ import annotations

from collections.abc import Iterable

from stripe_emulator.param_tables import ECHOED, IGNORED, NOT_MODELLED
from stripe_emulator.params import (
    EXPAND,
    FREE,
    PAGE,
    Arr,
    Ignored,
    Legacy,
    NotModelled,
    Obj,
    S,
    Spec,
    obj,
)
from stripe_emulator.routing import Route
from stripe_emulator.surface_schemas import merge_into

_CUSTOMER = obj(description=S, email=S, metadata=FREE, name=S, phone=S)
_METER_EVENT = obj(event_name=S, identifier=S, payload=FREE, timestamp=S)
_ADJUSTMENT = obj(event_name=S, type=S, cancel=obj(identifier=S))
_NONE = obj()
_PRICE_DATA = obj(currency=S, product=S, tax_behavior=S, unit_amount=S, unit_amount_decimal=S)

SCHEMAS: dict[tuple[str, str], Obj] = {
    # customers
    ("POST", "/v1/customers"): _CUSTOMER,
    ("GET", "/v1/customers"): obj(email=S, **PAGE),
    ("GET", "/v1/customers/search"): obj(query=S, limit=S, page=S),
    ("GET", "/v1/customers/{id}"): _NONE,
    ("POST", "/v1/customers/{id}"): _CUSTOMER,
    # products and prices
    ("POST", "/v1/products"): obj(
        id=S,
        active=S,
        description=S,
        images=Arr(S),
        marketing_features=Arr(obj(name=S)),
        metadata=FREE,
        name=S,
        type=S,
    ),
    ("GET", "/v1/products"): obj(active=S, **PAGE),
    ("GET", "/v1/products/{id}"): _NONE,
    ("POST", "/v1/prices"): obj(
        active=S,
        currency=S,
        lookup_key=S,
        metadata=FREE,
        nickname=S,
        product=S,
        product_data=obj(name=S, metadata=FREE),
        recurring=obj(
            interval=S,
            interval_count=S,
            meter=S,
            usage_type=S,
            trial_period_days=S,
            aggregate_usage=Legacy(S),
        ),
        unit_amount=S,
        unit_amount_decimal=S,
    ),
    ("GET", "/v1/prices"): obj(active=S, product=S, **PAGE),
    ("GET", "/v1/prices/{id}"): _NONE,
    # meters and meter events
    ("POST", "/v1/billing/meters"): obj(
        display_name=S,
        event_name=S,
        default_aggregation=obj(formula=S),
        customer_mapping=obj(event_payload_key=S, type=S),
        value_settings=obj(event_payload_key=S),
        event_time_window=S,
    ),
    ("GET", "/v1/billing/meters"): obj(status=S, **PAGE),
    ("GET", "/v1/billing/meters/{id}"): _NONE,
    ("POST", "/v1/billing/meters/{id}"): obj(display_name=S),
    ("POST", "/v1/billing/meters/{id}/deactivate"): _NONE,
    ("POST", "/v1/billing/meters/{id}/reactivate"): _NONE,
    ("POST", "/v1/billing/meter_events"): _METER_EVENT,
    ("POST", "/v1/billing/meter_event_adjustments"): _ADJUSTMENT,
    ("GET", "/v1/billing/meters/{id}/event_summaries"): obj(
        customer=S, start_time=S, end_time=S, value_grouping_window=S, **PAGE
    ),
    # v2 (JSON bodies; no expand)
    ("POST", "/v2/billing/meter_event_session"): _NONE,
    ("POST", "/v2/billing/meter_event_stream"): obj(events=Arr(_METER_EVENT)),
    ("POST", "/v2/billing/meter_events"): _METER_EVENT,
    ("POST", "/v2/billing/meter_event_adjustments"): _ADJUSTMENT,
    # subscriptions and legacy usage records
    ("POST", "/v1/subscriptions"): obj(
        customer=S,
        items=Arr(obj(price=S, quantity=S, metadata=FREE)),
        billing_cycle_anchor=S,
        metadata=FREE,
    ),
    ("GET", "/v1/subscriptions"): obj(customer=S, price=S, status=S, **PAGE),
    ("GET", "/v1/subscriptions/{id}"): _NONE,
    ("DELETE", "/v1/subscriptions/{id}"): _NONE,
    ("POST", "/v1/subscription_items/{id}/usage_records"): obj(quantity=S, timestamp=S, action=S),
    ("GET", "/v1/subscription_items/{id}/usage_record_summaries"): obj(**PAGE),
    # invoices and invoice items
    ("POST", "/v1/invoices"): obj(
        auto_advance=S,
        currency=S,
        customer=S,
        description=S,
        metadata=FREE,
        pending_invoice_items_behavior=S,
    ),
    ("GET", "/v1/invoices"): obj(customer=S, status=S, subscription=S, **PAGE),
    ("GET", "/v1/invoices/{id}"): _NONE,
    ("POST", "/v1/invoices/{id}"): obj(auto_advance=S, description=S, metadata=FREE),
    ("DELETE", "/v1/invoices/{id}"): _NONE,
    ("GET", "/v1/invoices/{id}/lines"): obj(**PAGE),
    ("POST", "/v1/invoices/{id}/finalize"): obj(auto_advance=S),
    ("POST", "/v1/invoices/{id}/pay"): obj(paid_out_of_band=S),
    ("POST", "/v1/invoices/{id}/void"): _NONE,
    ("POST", "/v1/invoiceitems"): obj(
        amount=S,
        currency=S,
        customer=S,
        description=S,
        discountable=S,
        invoice=S,
        metadata=FREE,
        period=obj(start=S, end=S),
        pricing=obj(price=S),
        price=Legacy(S),
        price_data=_PRICE_DATA,
        quantity=S,
        quantity_decimal=S,
        unit_amount=Legacy(S),
        unit_amount_decimal=S,
    ),
    ("GET", "/v1/invoiceitems"): obj(customer=S, invoice=S, pending=S, **PAGE),
    ("GET", "/v1/invoiceitems/{id}"): _NONE,
    ("POST", "/v1/invoiceitems/{id}"): obj(
        amount=S,
        description=S,
        metadata=FREE,
        period=obj(start=S, end=S),
        pricing=obj(price=S),
        price_data=_PRICE_DATA,
        quantity=S,
        quantity_decimal=S,
        unit_amount_decimal=S,
    ),
    # webhook endpoints and events
    ("POST", "/v1/webhook_endpoints"): obj(
        url=S, enabled_events=Arr(S), api_version=S, description=S, metadata=FREE
    ),
    ("GET", "/v1/webhook_endpoints"): obj(**PAGE),
    ("GET", "/v1/webhook_endpoints/{id}"): _NONE,
    ("POST", "/v1/webhook_endpoints/{id}"): obj(
        url=S, enabled_events=Arr(S), disabled=S, description=S, metadata=FREE
    ),
    ("DELETE", "/v1/webhook_endpoints/{id}"): _NONE,
    ("GET", "/v1/events"): obj(type=S, types=Arr(S), **PAGE),
    ("GET", "/v1/events/{id}"): _NONE,
}

merge_into(SCHEMAS)  # the billing surface beyond metering: surface_schemas.py


def schema_for(method: str, pattern: str) -> Obj:
    """The declared parameters of a route, then the rest of its real Stripe parameters
    (`param_tables`: echoed, ignored, not modelled); v1 routes also take `expand[]`."""
    route = (method, pattern)
    fields: dict[str, Spec] = {name: NotModelled() for name in NOT_MODELLED.get(route, ())}
    fields |= {name: Ignored(FREE) for name in IGNORED.get(route, ())}
    fields |= dict.fromkeys(ECHOED.get(route, {}), FREE)
    fields |= SCHEMAS[route].fields
    if pattern.startswith("/v1/"):
        fields["expand"] = EXPAND
    return Obj(fields)


def check_coverage(routes: Iterable[Route]) -> None:
    """Every route has a schema and every schema a route (a missing one is a bug)."""
    served = {(r.method, r.pattern) for r in routes}
    missing = served - SCHEMAS.keys()
    extra = SCHEMAS.keys() - served
    if missing or extra:
        raise RuntimeError(
            f"parameter schemas out of step with routes: missing={missing} extra={extra}"
        )
