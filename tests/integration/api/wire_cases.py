"""How to call each route that takes a JSON body: the state it needs and its concrete path.

The body itself is never written here: the wire-format test sends the example the OpenAPI
document carries, so a documented example that the route refuses is a failure too. A case's
``prepare`` may create state (a pending adjustment to approve, a reservation to commit) and
returns the path to call; it runs before every request, so each probe has fresh state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from tests.integration.api.conftest import Api

METRIC = {"code": "api_calls", "aggregation": "sum"}
PRICE = {"model": "per_unit", "currency": "usd", "unitAmount": "0.01"}
FEATURE = {"type": "metered", "name": "Tokens", "metric": "api_calls"}
GRANT = {"limit": "1000000", "enforcement": "hard"}
Prepare = Callable[[Api], str]


@dataclass(frozen=True)
class Case:
    prepare: Prepare
    media_type: str = "application/json"
    # Calls made with another key than the admin's (portal token, second admin).
    key: Callable[[Api], str] | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def put(api: Api, path: str, body: object) -> Any:
    return ok(api.client.put(path, json=body, headers=api.headers()))


def metric(api: Api) -> None:
    api.post("/v1/metrics", METRIC)  # 201, or 200 when it exists already


def mapped(api: Api) -> None:
    metric(api)
    put(api, "/v1/mappings/api_calls", {"mode": "meter_events", "meterEventName": "api_calls"})


def tokens_metric(api: Api) -> None:
    api.post("/v1/metrics", {"code": "tokens", "aggregation": "sum"})


def priced(api: Api) -> None:
    metric(api)
    put(api, "/v1/prices/api_calls", PRICE)


def entitled(api: Api, customer: str = "cus_1") -> None:
    metric(api)
    put(api, "/v1/features/tokens", FEATURE)
    put(api, f"/v1/customers/{customer}/entitlements/tokens", GRANT)


def no_metric(api: Api) -> None:
    api.client.delete("/v1/metrics/api_calls", headers=api.headers())


def fixed(path: str, *needs: Callable[[Api], None]) -> Prepare:
    def prepare(api: Api) -> str:
        for need in needs:
            need(api)
        return path

    return prepare


def second_admin(api: Api) -> str:
    return api.new_key({"admin", "read", "ingest"})


def four_eyes(api: Api) -> None:
    metric(api)
    put(api, "/v1/corrections/policy", {"fourEyes": True})


def pending_adjustment(decision: str) -> Prepare:
    def prepare(api: Api) -> str:
        four_eyes(api)
        made = ok(
            api.post(
                "/v1/adjustments",
                {"metric": "api_calls", "customerRef": "cus_2", "delta": "5", "reason": "credit"},
            )
        )
        return f"/v1/adjustments/{made['id']}/{decision}"

    return prepare


def pending_backfill(decision: str) -> Prepare:
    def prepare(api: Api) -> str:
        four_eyes(api)
        made = ok(
            api.post(
                "/v1/backfills",
                {
                    "metric": "api_calls",
                    "customers": ["cus_1"],
                    "from": "2024-01-01T00:00:00Z",
                    "to": "2025-01-01T00:00:00Z",
                },
            )
        )
        ok(api.post(f"/v1/backfills/{made['id']}/close", {}))
        return f"/v1/backfills/{made['id']}/{decision}"

    return prepare


def rotate(api: Api) -> str:
    made = ok(api.post("/v1/admin/api-keys", {"scopes": ["read"]}))
    return f"/v1/admin/api-keys/{made['id']}/rotate"


def alert_rule(api: Api) -> str:
    metric(api)
    made = ok(
        api.post(
            "/v1/alerts",
            {"name": "r", "type": "quantity", "metric": "api_calls", "threshold": "10"},
        )
    )
    return f"/v1/alerts/{made['id']}"


def reservation(api: Api) -> str:
    entitled(api)
    made = ok(
        api.post(
            "/v1/entitlements/reservations",
            {
                "customerRef": "cus_1",
                "feature": "tokens",
                "quantity": "4000",
                "idempotencyKey": f"hold-{uuid4().hex}",
            },
        )
    )
    return f"/v1/entitlements/reservations/{made['id']}/commit"


def ingested_key(api: Api) -> str:
    metric(api)
    ok(
        api.post(
            "/v1/events/ingest",
            {
                "events": [
                    {
                        "metric": "api_calls",
                        "customerRef": "cus_2",
                        "idempotencyKey": "order/42/line/4",
                    }
                ]
            },
        )
    )
    return "/v1/events/void"


def portal_token(api: Api) -> str:
    metric(api)
    made = ok(
        api.post(
            "/v1/portal/tokens", {"customerRef": "cus_1", "scopes": ["usage:read", "alerts:write"]}
        )
    )
    return str(made["token"])


CASES: dict[str, Case] = {
    "POST /v1/events/ingest": Case(fixed("/v1/events/ingest", metric)),
    "POST /v1/metrics": Case(fixed("/v1/metrics", no_metric)),
    "PATCH /v1/metrics/{code}": Case(fixed("/v1/metrics/api_calls", metric)),
    "PUT /v1/metrics/{code}": Case(fixed("/v1/metrics/api_calls", metric)),
    "PUT /v1/customers/{customer_ref}": Case(fixed("/v1/customers/cus_ABC123")),
    "POST /v1/usage/projection": Case(fixed("/v1/usage/projection", priced)),
    "POST /v1/usage/query": Case(fixed("/v1/usage/query", metric)),
    "POST /v1/periods/close": Case(fixed("/v1/periods/close", metric)),
    "POST /v1/adjustments": Case(fixed("/v1/adjustments", metric)),
    "POST /v1/admin/api-keys": Case(fixed("/v1/admin/api-keys")),
    "POST /v1/admin/api-keys/{key_id}/rotate": Case(rotate),
    "PUT /v1/prices/{metric}": Case(fixed("/v1/prices/api_calls", metric)),
    "PUT /v1/customers/{customer_ref}/prices/{metric}": Case(
        fixed("/v1/customers/cus_1/prices/api_calls", metric)
    ),
    "POST /v1/alerts": Case(fixed("/v1/alerts", metric)),
    "PATCH /v1/alerts/{rule_id}": Case(alert_rule),
    "PUT /v1/stripe/account": Case(fixed("/v1/stripe/account")),
    "POST /v1/mappings": Case(fixed("/v1/mappings", metric)),
    "PUT /v1/mappings/{metric}": Case(fixed("/v1/mappings/api_calls", metric)),
    "PUT /v1/customers/{customerRef}/stripe-subscription-items/{metric}": Case(
        fixed("/v1/customers/cus_1/stripe-subscription-items/api_calls", metric)
    ),
    "POST /v1/reconciliation/runs": Case(fixed("/v1/reconciliation/runs", mapped)),
    "PUT /v1/reconciliation/settings": Case(fixed("/v1/reconciliation/settings")),
    "POST /v1/events/void": Case(ingested_key),
    "PUT /v1/corrections/policy": Case(fixed("/v1/corrections/policy")),
    "POST /v1/adjustments/{adjustment_id}/approve": Case(
        pending_adjustment("approve"), key=second_admin
    ),
    "POST /v1/adjustments/{adjustment_id}/reject": Case(
        pending_adjustment("reject"), key=second_admin
    ),
    "POST /v1/backfills": Case(fixed("/v1/backfills", metric)),
    "POST /v1/backfills/{backfill_id}/approve": Case(pending_backfill("approve"), key=second_admin),
    "POST /v1/backfills/{backfill_id}/reject": Case(pending_backfill("reject"), key=second_admin),
    "POST /v1/rebuilds": Case(fixed("/v1/rebuilds", metric)),
    "POST /api/v1/events": Case(
        fixed("/api/v1/events", metric), media_type="application/cloudevents+json"
    ),
    "POST /v1/portal/tokens": Case(fixed("/v1/portal/tokens", metric)),
    "PUT /v1/portal/settings": Case(fixed("/v1/portal/settings")),
    "POST /portal/v1/alerts": Case(fixed("/portal/v1/alerts"), key=portal_token),
    "PUT /v1/features/{key}": Case(fixed("/v1/features/tokens", tokens_metric)),
    "PUT /v1/customers/{customer_ref}/entitlements/{feature}": Case(
        fixed(
            "/v1/customers/cus_1/entitlements/tokens",
            metric,
            lambda api: put(api, "/v1/features/tokens", FEATURE),
        )
    ),
    "POST /v1/customers/{customer_ref}/entitlements/{feature}/extra-grants": Case(
        fixed("/v1/customers/cus_1/entitlements/tokens/extra-grants", entitled)
    ),
    "POST /v1/entitlements/check": Case(fixed("/v1/entitlements/check", entitled)),
    "POST /v1/entitlements/reservations": Case(fixed("/v1/entitlements/reservations", entitled)),
    "POST /v1/entitlements/reservations/{reservation_id}/commit": Case(reservation),
    "POST /v1/customers/{customer_ref}/credit-grants": Case(
        fixed("/v1/customers/cus_ABC123/credit-grants")
    ),
}
