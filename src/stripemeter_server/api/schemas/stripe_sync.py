"""The Stripe account, metric mappings and subscription items on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import (
    UNSET,
    DecimalInput,
    StrictBody,
    Unset,
    request_body,
)


class AccountChange(StrictBody):
    secret_key: str | Unset = UNSET
    webhook_secret: str | Unset | None = UNSET
    api_base: str | Unset | None = UNSET
    webhook_secret_grace_seconds: int | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class MappingChange(StrictBody):
    metric: str | Unset = UNSET
    mode: str | Unset = UNSET
    meter_event_name: str | Unset | None = UNSET
    transport: str | Unset | None = UNSET
    precision: int | Unset | None = UNSET
    price: str | Unset | None = UNSET
    unit_amount: DecimalInput | Unset | None = UNSET
    currency: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    tolerance: DecimalInput | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class SubscriptionItemChange(StrictBody):
    subscription_item: str


MAPPING_EXAMPLE = {
    "metric": "api_calls",
    "mode": "meter_events",
    "meterEventName": "api_calls",
    "transport": "v1",
    "precision": 0,
}
ACCOUNT = request_body(
    AccountChange,
    examples=(
        {
            "secretKey": "sk_test_example",
            "webhookSecret": "whsec_example",
            "webhookSecretGraceSeconds": 86400,
        },
    ),
)
MAPPING = request_body(MappingChange, examples=(MAPPING_EXAMPLE,))
SUBSCRIPTION_ITEM = request_body(SubscriptionItemChange, examples=({"subscriptionItem": "si_123"},))
