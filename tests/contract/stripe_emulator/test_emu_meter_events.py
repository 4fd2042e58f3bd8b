"""Meter events and cancellations: the ingest rules the pusher relies on."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, make_meter, send_event

DAY = 86400


def test_event_echoes_identifier_and_timestamp(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    event = send_event(client, customer.id, "5", identifier="push-1")
    assert (event.object, event.identifier, event.timestamp) == (
        "billing.meter_event",
        "push-1",
        T0,
    )


def test_missing_identifier_is_generated(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    assert send_event(client, customer.id, "1").identifier


def test_duplicate_identifier_is_rejected_without_retry(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    send_event(client, customer.id, "5", identifier="push-1")
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "5", identifier="push-1")
    assert "An event already exists with identifier push-1" in str(info.value.user_message)
    assert info.value.headers["Stripe-Should-Retry"] == "false"


def test_identifier_can_be_reused_after_24_hours(
    server: EmulatorServer, customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    send_event(client, customer.id, "5", identifier="push-1")
    server.control("POST", "/clock/advance", {"seconds": DAY})
    assert send_event(client, customer.id, "5", identifier="push-1", timestamp=T0 + DAY)


def test_timestamp_older_than_35_days_is_rejected(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "1", timestamp=T0 - 35 * DAY - 1)
    assert info.value.param == "timestamp"
    assert "35 days in past" in str(info.value.user_message)


def test_timestamp_exactly_35_days_old_is_accepted(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    assert send_event(client, customer.id, "1", timestamp=T0 - 35 * DAY).timestamp == T0 - 35 * DAY


def test_timestamp_more_than_5_minutes_ahead_is_rejected(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "1", timestamp=T0 + 301)
    assert "5 minutes in the future" in str(info.value.user_message)


def test_timestamp_5_minutes_ahead_is_accepted(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    assert send_event(client, customer.id, "1", timestamp=T0 + 300).timestamp == T0 + 300


def test_payload_without_customer_key_is_rejected(meter: Any, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meter_events.create(
            params={"event_name": "api_calls", "payload": {"value": "1"}}
        )
    assert info.value.param == "payload[stripe_customer_id]"


def test_payload_without_value_key_is_rejected(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meter_events.create(
            params={"event_name": "api_calls", "payload": {"stripe_customer_id": customer.id}}
        )
    assert info.value.param == "payload[value]"


def test_non_numeric_value_is_rejected(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        send_event(client, customer.id, "lots")


def test_event_for_inactive_meter_is_rejected(
    customer: Any, meter: Any, client: stripe.StripeClient
) -> None:
    client.v1.billing.meters.deactivate(meter.id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "1")
    assert info.value.code == "archived_meter"


@pytest.mark.usefixtures("sync_meter_errors")
def test_event_without_meter_is_rejected(customer: Any, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        send_event(client, customer.id, "1", event_name="nothing")
    assert info.value.code == "no_meter"


@pytest.mark.usefixtures("sync_meter_errors")
def test_event_for_unknown_customer_is_rejected(meter: Any, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        send_event(client, "cus_unknown", "1")


def test_custom_payload_keys_are_read(
    customer: Any, client: stripe.StripeClient, server: EmulatorServer
) -> None:
    make_meter(
        client,
        "tokens",
        customer_mapping={"type": "by_id", "event_payload_key": "c"},
        value_settings={"event_payload_key": "n"},
    )
    client.v1.billing.meter_events.create(
        params={"event_name": "tokens", "payload": {"c": customer.id, "n": "7"}}
    )
    assert server.control("GET", "/meter_events")["data"][0]["value"] == "7"


def test_cancel_marks_event_cancelled(
    customer: Any, meter: Any, client: stripe.StripeClient, server: EmulatorServer
) -> None:
    send_event(client, customer.id, "5", identifier="push-1")
    adjustment = client.v1.billing.meter_event_adjustments.create(
        params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "push-1"}}
    )
    assert adjustment.cancel.identifier == "push-1"
    assert server.control("GET", "/meter_events")["data"][0]["cancelled_at"] == T0


def test_cancel_after_24_hours_is_rejected(
    customer: Any, meter: Any, client: stripe.StripeClient, server: EmulatorServer
) -> None:
    send_event(client, customer.id, "5", identifier="push-1")
    server.control("POST", "/clock/advance", {"seconds": DAY})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meter_event_adjustments.create(
            params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "push-1"}}
        )
    assert "within 24 hours" in str(info.value.user_message)


def test_cancel_of_unknown_identifier_is_rejected(meter: Any, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing.meter_event_adjustments.create(
            params={"event_name": "api_calls", "type": "cancel", "cancel": {"identifier": "nope"}}
        )
