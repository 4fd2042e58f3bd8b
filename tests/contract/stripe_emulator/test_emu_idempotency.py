"""Idempotency keys: replay, parameter mismatch and concurrent use."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import send_event, wait_until


def test_same_key_replays_the_saved_response(client: stripe.StripeClient) -> None:
    first = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k1"})
    second = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k1"})
    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"


def test_replayed_meter_event_is_not_a_duplicate(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    send_event(client, customer.id, "5", identifier="p1", options={"idempotency_key": "k"})
    send_event(client, customer.id, "5", identifier="p1", options={"idempotency_key": "k"})
    assert len(server.control("GET", "/meter_events")["data"]) == 1


def test_same_key_with_other_parameters_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k1"})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(params={"name": "B"}, options={"idempotency_key": "k1"})


def test_key_expires_after_24_hours(client: stripe.StripeClient, server: EmulatorServer) -> None:
    first = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k1"})
    server.control("POST", "/clock/advance", {"seconds": 86400})
    second = client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k1"})
    assert second.id != first.id


def test_concurrent_use_of_a_key_is_409(
    client: stripe.StripeClient, server: EmulatorServer
) -> None:
    server.control(
        "POST",
        "/faults",
        {"kind": "hang", "path": "/v1/customers", "method": "POST", "count": 1, "delay": 1.5},
    )
    slow = threading.Thread(
        target=lambda: client.v1.customers.create(
            params={"name": "A"}, options={"idempotency_key": "busy"}
        )
    )
    slow.start()
    wait_until(
        lambda: "busy" in server.control("GET", "/locks")["idempotency_keys"],
        "the first request to be in flight",
    )
    with pytest.raises(stripe.APIError) as info:
        client.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "busy"})
    slow.join()
    assert info.value.http_status == 409
    assert info.value.json_body["error"]["code"] == "idempotency_key_in_use"


@pytest.mark.usefixtures("sync_meter_errors")  # a refusal on the call
def test_failed_request_is_not_saved_under_its_key(client: stripe.StripeClient, meter: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        send_event(client, "cus_unknown", "1", options={"idempotency_key": "k"})
    later = client.v1.customers.create(params={"name": "Late"})  # Stripe picks the id
    assert send_event(client, later.id, "1", options={"idempotency_key": "k"})
