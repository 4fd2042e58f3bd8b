"""Stripe billing credit grants through the official library, as the port's typed records.

Kept beside the gateway (which delegates here) so the gateway stays one small file; every
call runs inside the gateway's error translation.
"""

from __future__ import annotations

from typing import Any

import stripe

from stripemeter_server.service.ports.stripe import CreditGrantOut, StripeCreditGrant


def grant_record(grant: Any) -> StripeCreditGrant:
    data: dict[str, Any] = grant.to_dict() if hasattr(grant, "to_dict") else dict(grant)
    money = data["amount"]["monetary"]
    metadata = data.get("metadata") or {}
    return StripeCreditGrant(
        str(data["id"]),
        str(money["currency"]),
        int(money["value"]),
        data.get("voided_at") is not None,
        {str(k): str(v) for k, v in metadata.items()},
    )


def create(client: stripe.StripeClient, grant: CreditGrantOut) -> StripeCreditGrant:
    created = client.v1.billing.credit_grants.create(
        params={
            "customer": grant.stripe_customer_id,
            "name": grant.name,
            "category": "paid",
            "amount": {
                "type": "monetary",
                "monetary": {"currency": grant.currency, "value": grant.amount},
            },
            "applicability_config": {"scope": {"price_type": "metered"}},
            "metadata": grant.metadata,
        },
        options={"idempotency_key": grant.idempotency_key},
    )
    return grant_record(created)


def of_customer(client: stripe.StripeClient, stripe_customer_id: str) -> list[StripeCreditGrant]:
    page = client.v1.billing.credit_grants.list(
        params={"customer": stripe_customer_id, "limit": 100}
    )
    return [grant_record(g) for g in page.auto_paging_iter()]


def void(client: stripe.StripeClient, grant_id: str, idempotency_key: str) -> None:
    client.v1.billing.credit_grants.void_grant(
        grant_id, options={"idempotency_key": idempotency_key}
    )


def balance(client: stripe.StripeClient, stripe_customer_id: str, currency: str) -> int:
    summary = client.v1.billing.credit_balance_summary.retrieve(
        params={
            "customer": stripe_customer_id,
            "filter": {
                "type": "applicability_scope",
                "applicability_scope": {"price_type": "metered"},
            },
        }
    ).to_dict()
    for entry in summary.get("balances") or []:
        money = entry["available_balance"]["monetary"]
        if money["currency"] == currency:
            return int(money["value"])
    return 0
