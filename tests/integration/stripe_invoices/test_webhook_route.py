"""The webhook route: signatures, events the flow ignores, and customers it does not know."""

from __future__ import annotations

import json
from collections.abc import Mapping

from stripe import WebhookSignature

from tests.integration.stripe_invoices.conftest import FEB_1, JAN_1, Flow, at
from tests.integration.stripe_invoices.support import metric, subscribe, usage_lines


def _signed(
    flow: Flow, event: Mapping[str, object], secret: str | None = None
) -> tuple[bytes, str]:
    body = json.dumps(event)
    return body.encode(), WebhookSignature.generate_signature_header(
        body, secret or flow.webhook_secret
    )


EVENT = {
    "id": "evt_test_1",
    "object": "event",
    "type": "customer.created",
    "data": {"object": {"id": "cus_x", "object": "customer"}},
}


def test_a_bad_signature_is_400_and_records_nothing(flow: Flow) -> None:
    body, _ = _signed(flow, EVENT)
    _, forged = _signed(flow, EVENT, secret="whsec_not_the_tenants_secret")
    response = flow.post_webhook(body, forged)
    assert (
        response.status_code,
        response.json()["code"],
        flow.get("/v1/stripe/webhook-events")["data"],
    ) == (400, "invalid_signature", [])


def test_a_missing_signature_is_400(flow: Flow) -> None:
    body, _ = _signed(flow, EVENT)
    response = flow.post_webhook(body, None)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")


def test_a_tenant_without_a_webhook_secret_is_400(flow: Flow) -> None:
    body, signature = _signed(flow, EVENT)
    response = flow.http.post(
        "/v1/stripe/webhook/no_such_tenant", content=body, headers={"Stripe-Signature": signature}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")


def test_a_body_over_the_limit_is_413(flow: Flow) -> None:
    response = flow.post_webhook(b"x" * (1024 * 1024 + 1), "t=1,v1=00")
    assert response.status_code == 413


def test_another_event_type_is_acknowledged_and_recorded_as_ignored(flow: Flow) -> None:
    body, signature = _signed(flow, EVENT)
    response = flow.post_webhook(body, signature)
    job = flow.get("/v1/stripe/webhook-events")["data"][0]
    assert (response.status_code, job["eventId"], job["status"]) == (200, "evt_test_1", "ignored")


def test_an_unknown_customer_is_acknowledged_ignored_and_billed_nothing(flow: Flow) -> None:
    subscribe(flow, "stranger", metadata={})
    metric(flow, "api_calls", "sum")
    flow.send(
        "PUT",
        "/v1/mappings/api_calls",
        {"mode": "invoice_items", "unitAmount": "1", "currency": "usd"},
    )
    flow.clock.set(at(FEB_1 + 60))
    invoice_id = flow.advance_stripe(FEB_1 - JAN_1)["invoices_created"][0]
    reports = flow.deliver()
    job = flow.get("/v1/stripe/webhook-events")["data"][0]
    assert (
        [r["status"] for r in reports],
        job["status"],
        job["error"],
        usage_lines(flow, invoice_id),
    ) == ([200], "ignored", "unknown customer", {})
