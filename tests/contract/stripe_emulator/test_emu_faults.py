"""Injected faults and how the stripe library reacts to them."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import send_event, wait_until

EVENTS = "/v1/billing/meter_events"


def fault(server: EmulatorServer, kind: str, **extra: Any) -> None:
    server.control("POST", "/faults", {"kind": kind, "path": EVENTS, "method": "POST", **extra})


def test_server_error_is_raised_as_api_error(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "server_error")
    with pytest.raises(stripe.APIError) as info:
        send_event(client, customer.id, "1")
    assert info.value.http_status == 500


def test_server_error_is_retried_by_the_library(
    customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "server_error")
    retrying = server.stripe_client(max_network_retries=1)
    assert send_event(retrying, customer.id, "1", identifier="x").identifier == "x"


def test_rate_limit_fault_raises_rate_limit_error(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "rate_limit")
    with pytest.raises(stripe.RateLimitError):
        send_event(client, customer.id, "1")


def test_rate_limit_without_retry_header_is_not_retried(
    customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "rate_limit")
    retrying = server.stripe_client(max_network_retries=2)
    with pytest.raises(stripe.RateLimitError):
        send_event(retrying, customer.id, "1")


def test_rate_limit_with_retry_header_is_retried(
    customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "rate_limit", should_retry=True)
    retrying = server.stripe_client(max_network_retries=1)
    assert send_event(retrying, customer.id, "1", identifier="y").identifier == "y"


def test_fault_fires_only_count_times(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "server_error", count=1)
    with pytest.raises(stripe.APIError):
        send_event(client, customer.id, "1")
    assert send_event(client, customer.id, "1")


def test_dropped_response_still_commits(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "drop_response")
    with pytest.raises(stripe.APIConnectionError):
        send_event(client, customer.id, "5", identifier="lost")
    assert [e["identifier"] for e in server.control("GET", "/meter_events")["data"]] == ["lost"]


def test_resend_after_dropped_response_hits_identifier_dedupe(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "drop_response")
    with pytest.raises(stripe.APIConnectionError):
        send_event(client, customer.id, "5", identifier="lost")
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "5", identifier="lost")
    assert info.value.headers["Stripe-Should-Retry"] == "false"


def test_resend_after_dropped_response_with_same_key_replays(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "drop_response")
    with pytest.raises(stripe.APIConnectionError):
        send_event(client, customer.id, "5", identifier="lost", options={"idempotency_key": "i"})
    again = send_event(
        client, customer.id, "5", identifier="lost", options={"idempotency_key": "i"}
    )
    assert again.last_response.headers["Idempotent-Replayed"] == "true"


def test_hang_times_out_the_client_but_commits_later(
    customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "hang", delay=1.0)
    impatient = server.stripe_client(http_client=stripe.RequestsClient(timeout=0.2))
    with pytest.raises(stripe.APIConnectionError):
        send_event(impatient, customer.id, "5", identifier="slow")
    wait_until(lambda: server.control("GET", "/meter_events")["data"], "the hung request")
    assert server.control("GET", "/meter_events")["data"][0]["identifier"] == "slow"


def test_refuse_fault_answers_a_permanent_400_with_the_given_code(
    client: stripe.StripeClient, customer: Any, meter: Any, server: EmulatorServer
) -> None:
    fault(server, "refuse", code="timestamp_too_far_in_past", message="too old")
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "1")
    assert (info.value.http_status, info.value.code) == (400, "timestamp_too_far_in_past")
