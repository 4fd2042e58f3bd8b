"""Webhook secrets (issue 18, findings 1-2 and 6): verification always uses the tenant's
current stored secret; a rotation keeps the previous one valid for its grace (frozen clock),
then refuses it; two tenants sharing one Stripe key and base each verify with their own; a
signed body that cannot be stored is a 400 problem on both stores."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from stripe import WebhookSignature

from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from tests.integration.stripe_invoices.conftest import Flow

NEW_SECRET = "whsec_RotatedSecretValue0001"
TB_SECRET = "whsec_TenantBOwnSecret0002"


def _event(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_x", "object": "customer"}},
    }


def _post(
    flow: Flow,
    secret: str,
    event_id: str = "evt_rot_1",
    tenant: str = "default",
    body: str | None = None,
) -> Any:
    text = body if body is not None else json.dumps(_event(event_id))
    signature = WebhookSignature.generate_signature_header(text, secret)
    return flow.http.post(
        f"/v1/stripe/webhook/{tenant}",
        content=text.encode(),
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def _rotate(
    flow: Flow,
    grace: int | None = None,
    headers: dict[str, str] | None = None,
    secret: str = NEW_SECRET,
) -> None:
    body: dict[str, Any] = {
        "secretKey": "sk_test_invoice_flow",
        "webhookSecret": secret,
        "apiBase": flow.emulator.url,
    }
    if grace is not None:
        body["webhookSecretGraceSeconds"] = grace
    response = flow.http.put("/v1/stripe/account", json=body, headers=headers or flow.headers)
    assert response.status_code == 200, response.text


def test_a_new_secret_is_accepted_at_once(flow: Flow) -> None:
    _rotate(flow)
    assert _post(flow, NEW_SECRET).status_code == 200


def test_the_previous_secret_is_accepted_within_its_grace(flow: Flow) -> None:
    old = flow.webhook_secret
    _rotate(flow, grace=3600)
    flow.clock.advance(timedelta(seconds=3599))
    assert _post(flow, old).status_code == 200


def test_the_previous_secret_is_refused_once_its_grace_ends(flow: Flow) -> None:
    old = flow.webhook_secret
    _rotate(flow, grace=3600)
    flow.clock.advance(timedelta(seconds=3600))
    response = _post(flow, old)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")


def test_a_rotation_with_no_grace_refuses_the_previous_secret_at_once(flow: Flow) -> None:
    old = flow.webhook_secret
    _rotate(flow, grace=0)
    assert _post(flow, old).status_code == 400


def test_the_account_view_shows_when_the_previous_secret_expires(flow: Flow) -> None:
    _rotate(flow, grace=60)
    expected = (flow.clock.now() + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S")
    shown = flow.get("/v1/stripe/account")["previousWebhookSecretValidUntil"]
    assert shown is not None and shown.startswith(expected)


def test_the_default_grace_is_the_operators_setting(flow: Flow) -> None:
    old = flow.webhook_secret
    _rotate(flow)  # the policy's default: 24 hours
    flow.clock.advance(timedelta(hours=23))
    accepted = _post(flow, old, "evt_rot_a").status_code
    flow.clock.advance(timedelta(hours=1))
    assert (accepted, _post(flow, old, "evt_rot_b").status_code) == (200, 400)


def test_two_tenants_sharing_a_stripe_key_each_verify_with_their_own_secret(flow: Flow) -> None:
    with flow.store.unit_of_work() as uow:
        create_tenant(uow, "tb", name=None, auto_create_metrics=True, now=flow.clock.now())
        key = issue_key(uow, "tb", frozenset({"admin"}), label=None, now=flow.clock.now())
        uow.commit()
    _post(flow, flow.webhook_secret)  # default's gateway is built and cached first
    _rotate(flow, headers={"Authorization": f"Bearer {key.secret}"}, secret=TB_SECRET)
    outcomes = (
        _post(flow, TB_SECRET, "evt_tb_own", tenant="tb").status_code,
        _post(flow, flow.webhook_secret, "evt_tb_default", tenant="tb").status_code,
        _post(flow, TB_SECRET, "evt_default_tb").status_code,
    )
    assert outcomes == (200, 400, 400)


def _problem(response: Any) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], (body.get("errors") or [{}])[0].get("field")


def test_a_lone_surrogate_in_the_event_id_is_a_400_naming_it(flow: Flow) -> None:
    body = json.dumps(_event("evt_\ud800"))  # written as the escape \ud800
    assert _problem(_post(flow, flow.webhook_secret, body=body)) == (
        400,
        "invalid_webhook_event",
        "id",
    )


def test_a_nul_in_the_event_id_is_a_400_naming_it(flow: Flow) -> None:
    body = json.dumps(_event("evt_\x00nul"))
    assert _problem(_post(flow, flow.webhook_secret, body=body)) == (
        400,
        "invalid_webhook_event",
        "id",
    )


def test_a_body_nested_900_deep_is_a_400(flow: Flow) -> None:
    event = _event("evt_deep")
    body = json.dumps(event)[:-1] + ', "deep": ' + "[" * 900 + "]" * 900 + "}"
    assert _problem(_post(flow, flow.webhook_secret, body=body)) == (
        400,
        "invalid_webhook_event",
        "body",
    )


def test_a_body_that_is_not_utf8_is_a_400(flow: Flow) -> None:
    raw = b'{"id": "evt_\xff", "type": "x"}'
    signature = WebhookSignature.generate_signature_header(
        raw.decode("latin-1"), flow.webhook_secret
    )
    response = flow.http.post(
        "/v1/stripe/webhook/default", content=raw, headers={"Stripe-Signature": signature}
    )
    assert response.status_code == 400
