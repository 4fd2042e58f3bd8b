"""Webhook endpoints, signed deliveries and retries with backoff."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorConfig, EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import Receiver, wait_until


@pytest.fixture
def endpoint(client: stripe.StripeClient, receiver: Receiver) -> Any:
    return client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["customer.created", "invoice.created"]}
    )


def deliver(server: EmulatorServer) -> list[dict[str, Any]]:
    return list(server.control("POST", "/webhooks/deliver")["data"])


def test_endpoint_secret_is_whsec(endpoint: Any) -> None:
    assert endpoint.secret.startswith("whsec_")


def test_delivery_verifies_with_construct_event(
    server: EmulatorServer, client: stripe.StripeClient, endpoint: Any, receiver: Receiver
) -> None:
    customer = client.v1.customers.create(params={"name": "A"})
    deliver(server)
    headers, body = receiver.received[0]
    event = stripe.Webhook.construct_event(
        body.decode(), headers["stripe-signature"], endpoint.secret
    )
    assert (event.type, event.data.object.id) == ("customer.created", customer.id)


def test_wrong_secret_fails_signature_verification(
    server: EmulatorServer, client: stripe.StripeClient, endpoint: Any, receiver: Receiver
) -> None:
    client.v1.customers.create(params={"name": "A"})
    deliver(server)
    headers, body = receiver.received[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), headers["stripe-signature"], "whsec_wrong")


def test_events_not_subscribed_are_not_delivered(
    server: EmulatorServer, client: stripe.StripeClient, endpoint: Any, receiver: Receiver
) -> None:
    client.v1.products.create(params={"name": "P"})
    assert deliver(server) == []


def test_failed_delivery_is_retried_after_backoff(
    server: EmulatorServer, client: stripe.StripeClient, endpoint: Any, receiver: Receiver
) -> None:
    receiver.statuses.append(500)
    client.v1.customers.create(params={"name": "A"})
    first = deliver(server)
    server.control("POST", "/clock/advance", {"seconds": 60})
    second = deliver(server)
    assert [(r["status"], r["result"]) for r in first + second] == [
        (500, "pending"),
        (200, "succeeded"),
    ]


def test_retry_is_not_due_before_backoff(
    server: EmulatorServer, client: stripe.StripeClient, endpoint: Any, receiver: Receiver
) -> None:
    receiver.statuses.append(500)
    client.v1.customers.create(params={"name": "A"})
    deliver(server)
    server.control("POST", "/clock/advance", {"seconds": 59})
    assert deliver(server) == []


def test_events_are_listed(client: stripe.StripeClient, customer: Any) -> None:
    assert (
        client.v1.events.list(params={"type": "customer.created"}).data[0].type
        == "customer.created"
    )


def test_non_loopback_endpoint_is_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.create(
            params={"url": "https://example.com/hook", "enabled_events": ["*"]}
        )


def test_background_task_delivers_without_a_control_call(receiver: Receiver) -> None:
    config = EmulatorConfig(auto_deliver_webhooks=True, webhook_poll_interval=0.05)
    with EmulatorServer(config) as live:
        client = live.stripe_client()
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["customer.created"]}
        )
        client.v1.customers.create(params={"name": "A"})
        wait_until(lambda: receiver.received, "a background delivery")
    assert b"customer.created" in receiver.received[0][1]
