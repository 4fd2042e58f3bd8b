"""v2 meter event sessions, streams, events and adjustments."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0


def stream_client(server: EmulatorServer, client: stripe.StripeClient) -> stripe.StripeClient:
    session = client.v2.billing.meter_event_session.create()
    return server.stripe_client(session.authentication_token)


def events(customer: Any, n: int, prefix: str = "s") -> list[dict[str, Any]]:
    return [
        {
            "event_name": "api_calls",
            "identifier": f"{prefix}{i}",
            "timestamp": "2026-01-14T23:59:00.000Z",
            "payload": {"stripe_customer_id": customer.id, "value": "1"},
        }
        for i in range(n)
    ]


def test_session_token_is_valid_for_15_minutes(client: stripe.StripeClient) -> None:
    session = client.v2.billing.meter_event_session.create()
    assert session.authentication_token
    assert (session.created, session.expires_at) == (
        "2026-01-15T00:00:00.000Z",
        "2026-01-15T00:15:00.000Z",
    )


def test_stream_accepts_events_with_a_session_token(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    stream_client(server, client).v2.billing.meter_event_stream.create(
        params={"events": events(customer, 3)}
    )
    assert len(server.control("GET", "/meter_events")["data"]) == 3


def test_stream_rejects_more_than_100_events(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        stream_client(server, client).v2.billing.meter_event_stream.create(
            params={"events": events(customer, 101)}
        )


def test_stream_records_per_event_errors_without_failing(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    streamer = stream_client(server, client)
    streamer.v2.billing.meter_event_stream.create(params={"events": events(customer, 1)})
    streamer.v2.billing.meter_event_stream.create(params={"events": events(customer, 1)})
    assert server.control("GET", "/stream_errors")["data"][0]["code"] == "duplicate_meter_event"


def test_expired_session_raises_temporary_session_expired(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    streamer = stream_client(server, client)
    server.control("POST", "/clock/advance", {"seconds": 900})
    with pytest.raises(stripe.TemporarySessionExpiredError) as info:
        streamer.v2.billing.meter_event_stream.create(params={"events": events(customer, 1)})
    assert (info.value.http_status, info.value.code) == (401, "billing_meter_event_session_expired")


def test_stream_rejects_an_api_key(client: stripe.StripeClient, customer: Any, meter: Any) -> None:
    with pytest.raises(stripe.AuthenticationError):
        client.v2.billing.meter_event_stream.create(params={"events": events(customer, 1)})


def test_v2_meter_event_is_created(client: stripe.StripeClient, customer: Any, meter: Any) -> None:
    event = client.v2.billing.meter_events.create(params=events(customer, 1, "v")[0])
    assert (event.object, event.identifier, event.timestamp) == (
        "v2.billing.meter_event",
        "v0",
        "2026-01-14T23:59:00.000Z",
    )


def test_v2_duplicate_identifier_is_rejected(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    client.v2.billing.meter_events.create(params=events(customer, 1)[0])
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v2.billing.meter_events.create(params=events(customer, 1)[0])
    assert info.value.code == "duplicate_meter_event"


def test_v2_adjustment_cancels_by_identifier(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    client.v2.billing.meter_events.create(params=events(customer, 1)[0])
    adjustment = client.v2.billing.meter_event_adjustments.create(
        params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "s0"}}
    )
    assert adjustment.cancel.identifier == "s0"
    assert server.control("GET", "/meter_events")["data"][0]["cancelled_at"] == T0


def test_v2_missing_payload_error_carries_a_code(client: stripe.StripeClient, meter: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v2.billing.meter_events.create(params={"event_name": "api_calls"})  # type: ignore[typeddict-item]
    assert info.value.code == "parameter_missing"


def test_v2_invalid_value_error_carries_a_code(client: stripe.StripeClient, meter: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v2.billing.meter_event_adjustments.create(
            params={"event_name": "api_calls", "type": "refund", "cancel": {"identifier": "x"}}
        )
    assert (info.value.http_status, info.value.code) == (400, "invalid_request")


def test_v2_bad_session_token_error_carries_a_code(server: EmulatorServer) -> None:
    with pytest.raises(stripe.AuthenticationError) as info:
        server.stripe_client("mes_token_bogus").v2.billing.meter_event_stream.create(
            params={"events": []}
        )
    assert info.value.json_body["error"]["code"] == "unauthorized"  # the library drops it


def test_v2_unknown_route_error_carries_a_code(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.raw_request("post", "/v2/billing/nothing_here")
    assert (info.value.http_status, info.value.code) == (404, "not_found")
