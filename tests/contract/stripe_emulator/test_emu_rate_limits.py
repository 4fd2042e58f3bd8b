"""Rate limits: per-second budgets and one concurrent meter-event call per customer/meter."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import send_event, wait_until


def test_requests_over_the_per_second_limit_get_429(
    server: EmulatorServer, client: stripe.StripeClient
) -> None:
    server.control("POST", "/config", {"requests_per_second": 2})
    client.v1.customers.list()
    client.v1.customers.list()
    with pytest.raises(stripe.RateLimitError) as info:
        client.v1.customers.list()
    assert info.value.json_body["error"]["code"] == "rate_limit"


def test_budget_refills_in_the_next_second(
    server: EmulatorServer, client: stripe.StripeClient
) -> None:
    server.control("POST", "/config", {"requests_per_second": 1})
    client.v1.customers.list()
    server.control("POST", "/clock/advance", {"seconds": 1})
    assert client.v1.customers.list().object == "list"


def test_meter_event_limit_counts_only_meter_events(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    server.control("POST", "/config", {"meter_events_per_second": 1})
    send_event(client, customer.id, "1")
    client.v1.customers.list()
    with pytest.raises(stripe.RateLimitError):
        send_event(client, customer.id, "1")


def _hold_slot(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any
) -> threading.Thread:
    server.control(
        "POST",
        "/faults",
        {"kind": "hang", "path": "/v1/billing/meter_events", "count": 1, "delay": 1.0},
    )
    slow = threading.Thread(target=lambda: send_event(client, customer.id, "1", identifier="a"))
    slow.start()
    wait_until(lambda: server.control("GET", "/locks")["data"], "the slot to be held")
    return slow


def test_concurrent_call_for_same_customer_and_meter_is_lock_timeout(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    slow = _hold_slot(server, client, customer)
    with pytest.raises(stripe.RateLimitError) as info:
        send_event(client, customer.id, "1", identifier="b")
    slow.join()
    assert info.value.json_body["error"]["code"] == "lock_timeout"
    assert info.value.headers["Stripe-Should-Retry"] == "true"


def test_concurrent_call_for_another_customer_proceeds(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    other = client.v1.customers.create(params={"name": "Other"})
    slow = _hold_slot(server, client, customer)
    event = send_event(client, other.id, "1", identifier="b")
    slow.join()
    assert event.identifier == "b"
