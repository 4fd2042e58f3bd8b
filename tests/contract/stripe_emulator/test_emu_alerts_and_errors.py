"""Billing alerts (`usage_threshold`, `billing.alert.triggered`) and asynchronous meter
error reports delivered as thin v2 events to event destinations."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from stripe.events import (
    V1BillingMeterErrorReportTriggeredEvent,
    V1BillingMeterErrorReportTriggeredEventNotification,
    V1BillingMeterNoMeterFoundEvent,
)
from stripe.params.billing import (
    AlertCreateParamsUsageThreshold,
    AlertCreateParamsUsageThresholdFilter,
)

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import Receiver, send_event


def _alert(
    client: stripe.StripeClient,
    meter: Any,
    gte: int,
    filters: list[AlertCreateParamsUsageThresholdFilter] | None = None,
) -> Any:
    threshold: AlertCreateParamsUsageThreshold = {
        "gte": gte,
        "meter": meter.id,
        "recurrence": "one_time",
    }
    if filters is not None:
        threshold["filters"] = filters
    return client.v1.billing.alerts.create(
        params={
            "alert_type": "usage_threshold",
            "title": "Big spender",
            "usage_threshold": threshold,
        }
    )


def _triggered(client: stripe.StripeClient) -> list[Any]:
    return list(client.v1.events.list(params={"type": "billing.alert.triggered"}).data)


def test_an_alert_is_created_active(client: stripe.StripeClient, meter: Any) -> None:
    alert = _alert(client, meter, 100)
    assert (alert.object, alert.status, alert.usage_threshold.gte, alert.usage_threshold.meter) == (
        "billing.alert",
        "active",
        100,
        meter.id,
    )


def test_reaching_the_threshold_triggers_the_alert(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    _alert(client, meter, 100)
    send_event(client, customer.id, "60", identifier="a")
    quiet = _triggered(client)
    send_event(client, customer.id, "40", identifier="b")
    fired = _triggered(client)
    assert (quiet, fired[0].data.object.customer, fired[0].data.object.value) == (
        [],
        customer.id,
        100,
    )


def test_a_one_time_alert_triggers_once_per_customer(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    _alert(client, meter, 10)
    send_event(client, customer.id, "20", identifier="a")
    send_event(client, customer.id, "20", identifier="b")
    assert len(_triggered(client)) == 1


def test_a_customer_filter_limits_the_alert(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    other = client.v1.customers.create(params={"name": "Other"})
    _alert(client, meter, 10, filters=[{"type": "customer", "customer": other.id}])
    send_event(client, customer.id, "20")
    assert _triggered(client) == []


def test_a_deactivated_alert_stays_quiet(
    client: stripe.StripeClient, customer: Any, meter: Any
) -> None:
    alert = _alert(client, meter, 10)
    client.v1.billing.alerts.deactivate(alert.id)
    send_event(client, customer.id, "20")
    assert _triggered(client) == []


def test_alerts_are_listed_by_meter(client: stripe.StripeClient, meter: Any) -> None:
    alert = _alert(client, meter, 10)
    listed = client.v1.billing.alerts.list(params={"meter": meter.id})
    assert [a.id for a in listed.data] == [alert.id]


def test_an_unknown_customer_is_accepted_then_reported(
    client: stripe.StripeClient, meter: Any
) -> None:
    accepted = send_event(client, "cus_missing", "5", identifier="lost-1")
    report = client.v2.core.events.list(params={"object_id": meter.id}).data[0]
    assert isinstance(report, V1BillingMeterErrorReportTriggeredEvent)
    error_type = report.data.reason.error_types[0]
    assert (
        accepted.identifier,
        report.type,
        error_type.code,
        error_type.sample_errors[0].request.identifier,
    ) == (
        "lost-1",
        "v1.billing.meter.error_report_triggered",
        "meter_event_customer_not_found",
        "lost-1",
    )


def test_an_unknown_meter_is_accepted_then_reported(
    client: stripe.StripeClient, customer: Any
) -> None:
    send_event(client, customer.id, "5", event_name="nobody_listens")
    report = client.v2.core.events.list(params={"types": ["v1.billing.meter.no_meter_found"]}).data[
        0
    ]
    assert isinstance(report, V1BillingMeterNoMeterFoundEvent)
    assert report.data.reason.error_types[0].code == "no_meter"


def test_a_refused_event_is_not_counted(
    client: stripe.StripeClient, server: EmulatorServer, meter: Any
) -> None:
    send_event(client, "cus_missing", "5")
    assert server.control("GET", "/meter_events")["data"] == []


@pytest.mark.usefixtures("sync_meter_errors")
def test_without_async_errors_an_unknown_customer_is_refused_at_once(
    client: stripe.StripeClient, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        send_event(client, "cus_missing", "5")
    assert caught.value.code == "meter_event_customer_not_found"


def test_an_event_destination_receives_the_signed_thin_event(
    client: stripe.StripeClient, server: EmulatorServer, receiver: Receiver, meter: Any
) -> None:
    destination = client.v2.core.event_destinations.create(
        params={
            "name": "errors",
            "type": "webhook_endpoint",
            "event_payload": "thin",
            "enabled_events": ["v1.billing.meter.error_report_triggered"],
            "webhook_endpoint": {"url": receiver.url},
        }
    )
    send_event(client, "cus_missing", "5")
    server.control("POST", "/webhooks/deliver")
    headers, body = receiver.received[0]
    assert destination.webhook_endpoint is not None
    notification = client.parse_event_notification(
        body, headers["stripe-signature"], destination.webhook_endpoint.signing_secret
    )
    assert isinstance(notification, V1BillingMeterErrorReportTriggeredEventNotification)
    assert (
        notification.type,
        notification.related_object.id,
        notification.fetch_event().data.reason.error_count,
    ) == ("v1.billing.meter.error_report_triggered", meter.id, 1)
