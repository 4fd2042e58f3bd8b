"""Declared parameters of the billing surface beyond metering (test clocks, subscription
changes, tiered prices, previews, credits, credit notes, alerts), merged into `SCHEMAS`.

`EXTENSIONS` adds parameters to routes declared in `schemas.py` (kept apart so each
family's parameters live next to each other); `ROUTES` declares the new routes.
"""

from __future__ import annotations

from stripe_emulator.params import FREE, PAGE, Arr, NotModelled, Obj, S, Spec, obj

_TIER = obj(flat_amount=S, flat_amount_decimal=S, unit_amount=S, unit_amount_decimal=S, up_to=S)
_BOUND = obj(type=S, timestamp=S)
_ADDED_ITEM = obj(  # discounts and tax rates are refused by the handler (sub_added_items)
    price=S,
    price_data=obj(currency=S, product=S, tax_behavior=S, unit_amount=S, unit_amount_decimal=S),
    quantity=S,
    metadata=FREE,
    discountable=S,
    period=obj(start=_BOUND, end=_BOUND),
    discounts=NotModelled(),
    tax_rates=NotModelled(),
)
_SUB_ITEM_CHANGE = obj(id=S, price=S, quantity=S, metadata=FREE, deleted=S)
_PRORATION = {"proration_behavior": S, "proration_date": S}

_CREDIT_NOTE = obj(
    invoice=S,
    amount=S,
    credit_amount=S,
    refund_amount=S,
    out_of_band_amount=S,
    memo=S,
    metadata=FREE,
    reason=S,
    lines=Arr(
        obj(
            type=S,
            invoice_line_item=S,
            amount=S,
            quantity=S,
            unit_amount=S,
            unit_amount_decimal=S,
            description=S,
            metadata=FREE,
        )
    ),
)

EXTENSIONS: dict[tuple[str, str], dict[str, Spec]] = {
    ("POST", "/v1/customers"): {"test_clock": S},
    ("GET", "/v1/customers"): {"test_clock": S},
    ("POST", "/v1/prices"): {
        "billing_scheme": S,
        "tiers": Arr(_TIER),
        "tiers_mode": S,
        "transform_quantity": obj(divide_by=S, round=S),
    },
    ("POST", "/v1/subscriptions"): {
        "trial_period_days": S,
        "trial_end": S,
        "trial_from_plan": S,
        "cancel_at_period_end": S,
        "cancel_at": S,
        "proration_behavior": S,
        "add_invoice_items": Arr(_ADDED_ITEM),
    },
    ("DELETE", "/v1/subscriptions/{id}"): {
        "invoice_now": S,
        "prorate": S,
        "cancellation_details": obj(comment=S, feedback=S),
    },
}

ROUTES: dict[tuple[str, str], Obj] = {
    # test clocks
    ("POST", "/v1/test_helpers/test_clocks"): obj(frozen_time=S, name=S),
    ("GET", "/v1/test_helpers/test_clocks"): obj(**PAGE),
    ("GET", "/v1/test_helpers/test_clocks/{id}"): obj(),
    ("DELETE", "/v1/test_helpers/test_clocks/{id}"): obj(),
    ("POST", "/v1/test_helpers/test_clocks/{id}/advance"): obj(frozen_time=S),
    # subscription changes and items
    ("POST", "/v1/subscriptions/{id}"): obj(
        items=Arr(_SUB_ITEM_CHANGE),
        cancel_at_period_end=S,
        cancel_at=S,
        metadata=FREE,
        description=S,
        trial_end=S,
        **_PRORATION,
    ),
    ("POST", "/v1/subscription_items"): obj(
        subscription=S, price=S, quantity=S, metadata=FREE, **_PRORATION
    ),
    ("GET", "/v1/subscription_items"): obj(subscription=S, **PAGE),
    ("GET", "/v1/subscription_items/{id}"): obj(),
    ("POST", "/v1/subscription_items/{id}"): obj(price=S, quantity=S, metadata=FREE, **_PRORATION),
    ("DELETE", "/v1/subscription_items/{id}"): obj(**_PRORATION),
    # previews
    ("POST", "/v1/invoices/create_preview"): obj(
        customer=S,
        subscription=S,
        subscription_details=obj(
            items=Arr(_SUB_ITEM_CHANGE),
            cancel_at_period_end=S,
            cancel_at=S,
            cancel_now=S,
            trial_end=S,
            **_PRORATION,
        ),
    ),
    # customer balance transactions
    ("POST", "/v1/customers/{id}/balance_transactions"): obj(
        amount=S, currency=S, description=S, metadata=FREE
    ),
    ("GET", "/v1/customers/{id}/balance_transactions"): obj(**PAGE),
    ("GET", "/v1/customers/{id}/balance_transactions/{txn}"): obj(),
    ("POST", "/v1/customers/{id}/balance_transactions/{txn}"): obj(description=S, metadata=FREE),
    # credit notes
    ("POST", "/v1/credit_notes"): _CREDIT_NOTE,
    ("GET", "/v1/credit_notes/preview"): _CREDIT_NOTE,
    ("GET", "/v1/credit_notes/preview/lines"): obj(**_CREDIT_NOTE.fields, **PAGE),
    ("GET", "/v1/credit_notes"): obj(customer=S, invoice=S, **PAGE),
    ("GET", "/v1/credit_notes/{id}"): obj(),
    ("GET", "/v1/credit_notes/{id}/lines"): obj(**PAGE),
    ("POST", "/v1/credit_notes/{id}/void"): obj(),
    # invoice operations
    ("POST", "/v1/invoices/{id}/mark_uncollectible"): obj(),
    ("POST", "/v1/invoices/{id}/lines/{line}"): obj(
        amount=S,
        description=S,
        discountable=S,
        metadata=FREE,
        period=obj(start=S, end=S),
        pricing=obj(price=S),
        quantity=S,
        quantity_decimal=S,
    ),
    ("DELETE", "/v1/invoiceitems/{id}"): obj(),
    # billing alerts
    ("POST", "/v1/billing/alerts"): obj(
        alert_type=S,
        title=S,
        usage_threshold=obj(filters=Arr(obj(customer=S, type=S)), gte=S, meter=S, recurrence=S),
    ),
    ("GET", "/v1/billing/alerts"): obj(alert_type=S, meter=S, **PAGE),
    ("GET", "/v1/billing/alerts/{id}"): obj(),
    ("POST", "/v1/billing/alerts/{id}/activate"): obj(),
    ("POST", "/v1/billing/alerts/{id}/deactivate"): obj(),
    ("POST", "/v1/billing/alerts/{id}/archive"): obj(),
    # v2 event destinations and events (JSON bodies, no expand)
    ("POST", "/v2/core/event_destinations"): obj(
        name=S,
        description=S,
        enabled_events=Arr(S),
        event_payload=S,
        metadata=FREE,
        type=S,
        webhook_endpoint=obj(url=S),
        include=Arr(S),
    ),
    ("GET", "/v2/core/event_destinations"): obj(include=Arr(S), limit=S),
    ("GET", "/v2/core/event_destinations/{id}"): obj(include=Arr(S)),
    ("DELETE", "/v2/core/event_destinations/{id}"): obj(),
    ("POST", "/v2/core/event_destinations/{id}/enable"): obj(),
    ("POST", "/v2/core/event_destinations/{id}/disable"): obj(),
    ("GET", "/v2/core/events"): obj(
        object_id=S, types=Arr(S), limit=S, page=S, created=obj(gt=S, gte=S, lt=S, lte=S)
    ),
    ("GET", "/v2/core/events/{id}"): obj(),
    # billing credits
    ("POST", "/v1/billing/credit_grants"): obj(
        amount=obj(monetary=obj(currency=S, value=S), type=S),
        applicability_config=obj(scope=obj(price_type=S, prices=Arr(obj(id=S)))),
        category=S,
        customer=S,
        effective_at=S,
        expires_at=S,
        metadata=FREE,
        name=S,
        priority=S,
    ),
    ("GET", "/v1/billing/credit_grants"): obj(customer=S, **PAGE),
    ("GET", "/v1/billing/credit_grants/{id}"): obj(),
    ("POST", "/v1/billing/credit_grants/{id}"): obj(expires_at=S, metadata=FREE),
    ("POST", "/v1/billing/credit_grants/{id}/expire"): obj(),
    ("POST", "/v1/billing/credit_grants/{id}/void"): obj(),
    ("GET", "/v1/billing/credit_balance_summary"): obj(
        customer=S,
        filter=obj(
            type=S, credit_grant=S, applicability_scope=obj(price_type=S, prices=Arr(obj(id=S)))
        ),
    ),
    ("GET", "/v1/billing/credit_balance_transactions"): obj(credit_grant=S, customer=S, **PAGE),
    ("GET", "/v1/billing/credit_balance_transactions/{id}"): obj(),
}


def merge_into(schemas: dict[tuple[str, str], Obj]) -> None:
    """Add the surface's routes and parameter extensions to the route table."""
    for route, extra in EXTENSIONS.items():
        schemas[route] = Obj({**schemas[route].fields, **extra})
    schemas.update(ROUTES)
