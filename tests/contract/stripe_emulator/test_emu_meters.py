"""Billing Meters through the real stripe library."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.contract.stripe_emulator.stripe_emulator_support import make_meter


def test_create_meter_applies_stripe_defaults(meter: Any) -> None:
    assert meter.object == "billing.meter"
    assert meter.customer_mapping.event_payload_key == "stripe_customer_id"
    assert meter.value_settings.event_payload_key == "value"
    assert meter.status == "active"


def test_create_meter_keeps_custom_payload_keys(client: stripe.StripeClient) -> None:
    meter = make_meter(
        client,
        "tokens",
        "last",
        customer_mapping={"type": "by_id", "event_payload_key": "cust"},
        value_settings={"event_payload_key": "n"},
        event_time_window="hour",
    )
    assert (
        meter.customer_mapping.event_payload_key,
        meter.value_settings.event_payload_key,
        meter.event_time_window,
        meter.default_aggregation.formula,
    ) == ("cust", "n", "hour", "last")


def test_list_meters_returns_created_meter(client: stripe.StripeClient, meter: Any) -> None:
    listed = client.v1.billing.meters.list()
    assert [m.id for m in listed.data] == [meter.id]


def test_retrieve_meter_by_id(client: stripe.StripeClient, meter: Any) -> None:
    assert client.v1.billing.meters.retrieve(meter.id).event_name == "api_calls"


def test_update_changes_display_name(client: stripe.StripeClient, meter: Any) -> None:
    updated = client.v1.billing.meters.update(meter.id, params={"display_name": "API calls"})
    assert updated.display_name == "API calls"


def test_deactivate_then_reactivate(client: stripe.StripeClient, meter: Any) -> None:
    inactive = client.v1.billing.meters.deactivate(meter.id)
    assert inactive.status == "inactive"
    assert inactive.status_transitions.deactivated_at is not None
    assert client.v1.billing.meters.reactivate(meter.id).status == "active"


def test_second_meter_for_same_event_name_is_rejected(
    client: stripe.StripeClient, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        make_meter(client)


def test_unknown_formula_is_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        make_meter(client, formula="avg")
    assert info.value.param == "default_aggregation[formula]"


def test_unknown_meter_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.billing.meters.retrieve("mtr_nope")
    assert (info.value.http_status, info.value.code) == (404, "resource_missing")
