"""Stripe's legacy usage records (``mode = usage_records``) through the official library.

Usage records were removed from the API in ``2025-03-31.basil`` and from the library's typed
services, so every call here is a raw request at the API version pinned for them. Kept
beside the gateway (which delegates here) so the gateway stays one small file; every call
runs inside the gateway's error translation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import stripe

from stripemeter_server.service.ports.stripe import SubscriptionItemInfo
from stripemeter_server.stripe.records import UsageRecordSummary, plain, usage_summary

# The API version pinned for legacy usage records (removed in 2025-03-31.basil).
LEGACY_USAGE_RECORDS_VERSION = "2024-12-18.acacia"
# A subscription in one of these states bills its items' usage.
_BILLING_STATUSES = ("active", "trialing", "past_due")


def find_subscription_item(
    client: stripe.StripeClient, stripe_customer_id: str, price: str
) -> SubscriptionItemInfo | None:
    """The item with ``price`` on the customer's active subscription, if any."""
    page = client.v1.subscriptions.list(params={"customer": stripe_customer_id, "limit": 100})
    for sub in page.data:
        if sub.status not in _BILLING_STATUSES:
            continue
        for item in sub["items"].data:
            if str(item.price.id) == price:
                start = getattr(item, "current_period_start", None) or getattr(
                    sub, "current_period_start", None
                )
                return SubscriptionItemInfo(str(item.id), None if start is None else int(start))
    return None


def set_quantity(
    client: stripe.StripeClient,
    subscription_item: str,
    quantity: int,
    timestamp_s: int,
    idempotency_key: str,
) -> None:
    """``action=set`` on a subscription item."""
    _legacy(
        client,
        "post",
        f"/v1/subscription_items/{subscription_item}/usage_records",
        idempotency_key=idempotency_key,
        quantity=quantity,
        timestamp=timestamp_s,
        action="set",
    )


def summaries(client: stripe.StripeClient, subscription_item: str) -> list[UsageRecordSummary]:
    """The item's usage-record summaries (first page of 100: one per period)."""
    found = _legacy(
        client,
        "get",
        f"/v1/subscription_items/{subscription_item}/usage_record_summaries",
        limit=100,
    )
    return [usage_summary(s) for s in found.get("data") or []]


def total_at(found: list[UsageRecordSummary], at_s: int) -> Decimal | None:
    """``total_usage`` of the summary whose period contains ``at_s``; None when none does."""
    for summary in found:
        start, end = summary.period_start_s, summary.period_end_s
        if start is not None and end is not None and start <= at_s < end:
            return Decimal(summary.total_usage)
    return None


def _legacy(
    client: stripe.StripeClient,
    method: str,
    path: str,
    *,
    idempotency_key: str | None = None,
    **params: Any,
) -> dict[str, Any]:
    """A request to a legacy route the typed services no longer carry, at the pinned
    version."""
    options: dict[str, Any] = {"stripe_version": LEGACY_USAGE_RECORDS_VERSION}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    response = client.raw_request(method, path, **params, **options)
    return plain(client.deserialize(response, api_mode="V1"))
