"""Asynchronous meter error reports are the default (as in Stripe), and their v2 event list
pages and filters the way a consumer polls it: `limit`, `next_page_url`, `created`."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorConfig, EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import send_event

REPORT = "v1.billing.meter.error_report_triggered"


def _reports(client: stripe.StripeClient, **params: Any) -> Any:
    return client.v2.core.events.list(params={"types": [REPORT], **params})


def test_the_default_config_reports_errors_asynchronously() -> None:
    assert EmulatorConfig().async_meter_errors is True


def test_an_unknown_customer_is_answered_200_by_default(
    client: stripe.StripeClient, meter: Any
) -> None:
    accepted = send_event(client, "cus_typo", "3", identifier="push-a")
    assert accepted.identifier == "push-a"


def test_every_report_is_reached_through_next_page_url(
    client: stripe.StripeClient, meter: Any
) -> None:
    for n in range(5):
        send_event(client, "cus_typo", "1", identifier=f"push-{n}")
    seen = [
        e.data.reason.error_types[0].sample_errors[0].request.identifier
        for e in _reports(client, limit=2).auto_paging_iter()
    ]
    assert sorted(seen) == [f"push-{n}" for n in range(5)]


def test_a_page_holds_at_most_limit_reports(client: stripe.StripeClient, meter: Any) -> None:
    for n in range(3):
        send_event(client, "cus_typo", "1", identifier=f"push-{n}")
    page = _reports(client, limit=2)
    assert (len(page.data), page.next_page_url is not None) == (2, True)


def test_created_bounds_filter_the_reports(
    client: stripe.StripeClient, server: EmulatorServer, meter: Any
) -> None:
    send_event(client, "cus_typo", "1", identifier="before")
    server.control("POST", "/clock/advance", {"seconds": 60})
    send_event(client, "cus_typo", "1", identifier="after")
    newest = _reports(client).data[0].created
    later = _reports(client, created={"gte": newest}).data
    assert [e.data.reason.error_types[0].sample_errors[0].request.identifier for e in later] == [
        "after"
    ]


def test_a_forged_page_token_is_a_400_naming_page(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.raw_request("get", "/v2/core/events?page=not-a-token")
    assert caught.value.param == "page"


def test_a_report_fault_answers_200_then_reports_the_given_code(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, meter: Any
) -> None:
    server.control(
        "POST",
        "/faults",
        {
            "kind": "report",
            "path": "/v1/billing/meter_events",
            "code": "meter_event_customer_not_found",
        },
    )
    send_event(client, customer.id, "5", identifier="push-f")
    error = _reports(client).data[0].data.reason.error_types[0]
    assert (
        error.code,
        error.sample_errors[0].request.identifier,
        server.control("GET", "/meter_events")["data"],
    ) == ("meter_event_customer_not_found", "push-f", [])
