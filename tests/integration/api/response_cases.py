"""How to call each route whose JSON answer is checked against its declared schema and that
is not a wire-format case (reads, and writes without a body): the state it needs, its path.

A ``body`` of ``"example"`` sends the example the document carries; ``None`` sends none."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from httpx2 import Response
from stripe import WebhookSignature

from stripemeter_server.service.stripe_sync.planner import plan_tenant
from tests.integration.api.conftest import Api
from tests.integration.api.wire_cases import (
    Prepare,
    fixed,
    ingested_key,
    mapped,
    metric,
    ok,
    pending_adjustment,
    portal_token,
    priced,
    put,
    second_admin,
)

ITEM = "/v1/customers/cus_1/stripe-subscription-items/api_calls"
# Corrections land on a customer of their own: the usage calls close cus_1's current period
# (to show its lock), and the store is shared by every call in the run.
CORRECTED = "cus_2"
SECRET = "sk_test_response_schemas_01"
WEBHOOK_SECRET = "whsec_response_schemas_01"


@dataclass(frozen=True)
class Call:
    prepare: Prepare
    body: object = None
    key: Callable[[Api], str] | None = None
    media_type: str = "application/json"
    # A request the others cannot make (Stripe's signed webhook); ``prepare`` runs first.
    send: Callable[[Api, str], Response] | None = None


def run(api: Api) -> str:
    mapped(api)
    made = ok(api.post("/v1/reconciliation/runs", {}))
    return f"/v1/reconciliation/runs/{made['id']}"


def pushed(api: Api) -> str:
    """A push in the outbox (the planner's, as the worker writes it): its id."""
    mapped(api)
    event = {"metric": "api_calls", "customerRef": "cus_1", "quantity": "3"}
    ok(api.post("/v1/events/ingest", {"events": [event]}))
    with api.store.unit_of_work("default") as uow:
        plan_tenant(uow, api.clock.now(), since_us=None)
        uow.commit()
    return str(ok(api.get("/v1/pushes"))["data"][0]["id"])


def subscription_item(api: Api) -> str:
    mapped(api)
    put(api, ITEM, {"subscriptionItem": "si_123"})
    return ITEM


def new_key(api: Api) -> str:
    return f"/v1/admin/api-keys/{ok(api.post('/v1/admin/api-keys', {'scopes': ['read']}))['id']}"


def priced_usage(api: Api) -> None:
    priced(api)
    event = {"metric": "api_calls", "customerRef": "cus_1", "quantity": "30"}
    ok(api.post("/v1/events/ingest", {"events": [event]}))


def ledger(api: Api) -> str:
    """Two events (one with metadata holding a decimal number), listed one per page."""
    events = [
        {"metric": "api_calls", "customerRef": "cus_1", "quantity": "3", "meta": {"n": 1.5}},
        {"metric": "api_calls", "customerRef": "cus_1", "quantity": "2"},
    ]
    ok(api.post("/v1/events/ingest", {"events": events}))
    return "/v1/events?limit=1"


def portal_rule(api: Api) -> None:
    """A threshold the customer set through the portal."""
    key = portal_token(api)
    body = json.dumps({"metric": "api_calls", "threshold": "80", "percentOf": "100"})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    answer = api.client.post("/portal/v1/alerts", content=body, headers=headers)
    assert answer.status_code == 201, answer.text


def closed_usage(api: Api) -> None:
    """Priced usage of cus_1 whose current period is closed (so its lock is shown)."""
    priced_usage(api)
    ok(api.post("/v1/periods/close", {"customerRef": "cus_1", "metric": "api_calls"}))


def window(path: str) -> Prepare:
    """``path`` over the 62 days around the clock's now, for cus_1's api_calls."""

    def prepare(api: Api) -> str:
        closed_usage(api)
        now = api.clock.now()
        start, end = (now - timedelta(days=31)).isoformat(), (now + timedelta(days=31)).isoformat()
        query = urlencode({"customerRef": "cus_1", "metric": "api_calls", "from": start, "to": end})
        return f"{path}?{query}"

    return prepare


def webhook(api: Api, path: str) -> Response:
    """An event Stripe signed with the tenant's webhook secret (one the flow ignores)."""
    event = {
        "id": "evt_response_1",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_x", "object": "customer"}},
    }
    body = json.dumps(event)
    signature = WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    return api.client.post(path, content=body, headers={"Stripe-Signature": signature})


def received(api: Api) -> str:
    webhook(api, "/v1/stripe/webhook/default")
    return "/v1/stripe/webhook-events"


def direct(api: Api) -> None:
    """Four-eyes off (an earlier call may have turned it on): corrections count at once."""
    metric(api)
    put(api, "/v1/corrections/policy", {"fourEyes": False})


def adjustment(api: Api) -> str:
    direct(api)
    body = {"metric": "api_calls", "customerRef": CORRECTED, "delta": "-2", "reason": "credit"}
    return f"/v1/adjustments/{ok(api.post('/v1/adjustments', body))['id']}"


def approved_adjustment(api: Api) -> str:
    """A four-eyes adjustment a second key approved: it answers with its approval."""
    path = pending_adjustment("approve")(api)
    key = second_admin(api)
    ok(api.client.post(path, headers={"Authorization": f"Bearer {key}"}))
    return path.removesuffix("/approve")


def backfill(api: Api) -> str:
    """An open session holding one event."""
    direct(api)
    made = ok(api.post("/v1/backfills", {"metric": "api_calls", "customers": [CORRECTED]}))
    event = {"metric": "api_calls", "customerRef": CORRECTED, "backfillId": made["id"]}
    ok(api.post("/v1/events/ingest", {"events": [event]}))
    return f"/v1/backfills/{made['id']}"


def closed_backfill(api: Api) -> str:
    """A closed session: its answer carries the close report."""
    path = backfill(api)
    ok(api.post(f"{path}/close", {}))
    return path


def rebuild_job(api: Api) -> str:
    metric(api)
    made = ok(api.post("/v1/rebuilds", {"metric": "api_calls", "waitSeconds": 5}))
    return f"/v1/rebuilds/{made['id']}"


def voided_by_path(api: Api) -> str:
    ingested_key(api)
    return "/v1/events/order/42/line/4/void"


CALLS: dict[str, Call] = {
    "GET /v1/events": Call(ledger),
    "GET /portal/v1/usage": Call(fixed("/portal/v1/usage", closed_usage), key=portal_token),
    "GET /portal/v1/history": Call(
        fixed("/portal/v1/history?metric=api_calls", priced_usage), key=portal_token
    ),
    "GET /portal/v1/projection": Call(
        fixed("/portal/v1/projection", priced_usage), key=portal_token
    ),
    "GET /portal/v1/entitlements": Call(fixed("/portal/v1/entitlements"), key=portal_token),
    "GET /portal/v1/credits": Call(fixed("/portal/v1/credits"), key=portal_token),
    "GET /portal/v1/upcoming-invoice": Call(
        fixed("/portal/v1/upcoming-invoice", priced_usage), key=portal_token
    ),
    "GET /portal/v1/alerts": Call(fixed("/portal/v1/alerts", portal_rule), key=portal_token),
    "GET /v1/usage/current": Call(fixed("/v1/usage/current?customerRef=cus_1", closed_usage)),
    "GET /v1/usage/periods": Call(window("/v1/usage/periods")),
    "GET /v1/usage/history": Call(window("/v1/usage/history")),
    "GET /v1/customers/{customer_ref}/upcoming-invoice": Call(
        fixed("/v1/customers/cus_1/upcoming-invoice", priced_usage)
    ),
    "POST /v1/stripe/webhook/{tenant_id}": Call(fixed("/v1/stripe/webhook/default"), send=webhook),
    "GET /v1/stripe/webhook-events": Call(received),
    "GET /v1/stripe/invoices": Call(fixed("/v1/stripe/invoices")),
    "GET /health/live": Call(fixed("/health/live")),
    "GET /health/ready": Call(fixed("/health/ready")),
    "GET /v1/admin/tenants": Call(fixed("/v1/admin/tenants")),
    "GET /v1/admin/api-keys": Call(fixed("/v1/admin/api-keys")),
    "DELETE /v1/admin/api-keys/{key_id}": Call(new_key),
    "GET /v1/audit": Call(lambda api: new_key(api) and "/v1/audit"),
    "GET /v1/portal/tokens": Call(lambda api: portal_token(api) and "/v1/portal/tokens"),
    "GET /v1/portal/settings": Call(fixed("/v1/portal/settings")),
    "GET /portal/v1/me": Call(fixed("/portal/v1/me"), key=portal_token),
    "GET /v1/stripe/account": Call(fixed("/v1/stripe/account")),
    "GET /v1/mappings": Call(fixed("/v1/mappings", mapped)),
    "GET /v1/mappings/{metric}": Call(fixed("/v1/mappings/api_calls", mapped)),
    "POST /v1/stripe/meters/sync": Call(fixed("/v1/stripe/meters/sync?check=true")),
    "GET /v1/pushes": Call(lambda api: pushed(api) and "/v1/pushes"),
    "POST /v1/pushes/{push_id}/retry": Call(lambda api: f"/v1/pushes/{pushed(api)}/retry"),
    "GET /v1/customers/{customerRef}/stripe-subscription-items/{metric}": Call(subscription_item),
    "GET /v1/reconciliation/runs": Call(lambda api: run(api) and "/v1/reconciliation/runs"),
    "GET /v1/reconciliation/runs/{run_id}": Call(run),
    "GET /v1/reconciliation/settings": Call(fixed("/v1/reconciliation/settings")),
    "GET /v1/reconciliation/invoices": Call(fixed("/v1/reconciliation/invoices")),
    "POST /v1/events/{key}/void": Call(voided_by_path),
    "GET /v1/adjustments": Call(lambda api: adjustment(api) and "/v1/adjustments"),
    "GET /v1/adjustments/{adjustment_id}": Call(approved_adjustment),
    "POST /v1/adjustments/{adjustment_id}/revert": Call(lambda api: f"{adjustment(api)}/revert"),
    "GET /v1/corrections/policy": Call(fixed("/v1/corrections/policy")),
    "GET /v1/backfills": Call(lambda api: closed_backfill(api) and "/v1/backfills"),
    "GET /v1/backfills/{backfill_id}": Call(closed_backfill),
    "POST /v1/backfills/{backfill_id}/close": Call(lambda api: f"{backfill(api)}/close"),
    "POST /v1/backfills/{backfill_id}/revert": Call(lambda api: f"{closed_backfill(api)}/revert"),
    "GET /v1/rebuilds/{job_id}": Call(rebuild_job),
}
