"""Test clocks: customers attached to a clock live on its time; advancing the clock renews
their subscriptions and sends the webhooks, and leaves everyone else alone."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, Receiver, send_event

MAR_1 = 1772323200  # 2026-03-01T00:00:00Z
APR_1 = 1775001600
MAY_1 = 1777593600


@pytest.fixture
def clock(client: stripe.StripeClient) -> Any:
    return client.v1.test_helpers.test_clocks.create(params={"frozen_time": MAR_1, "name": "march"})


@pytest.fixture
def clocked(client: stripe.StripeClient, clock: Any) -> Any:
    return client.v1.customers.create(params={"name": "Clocked", "test_clock": clock.id})


def _subscribe(client: stripe.StripeClient, customer: str, **price: Any) -> Any:
    created = client.v1.prices.create(
        params={
            "currency": "usd",
            "product_data": {"name": "Plan"},
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            **price,
        }
    )
    return client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": created.id}]}
    )


def test_a_clock_is_created_ready_at_its_frozen_time(clock: Any) -> None:
    assert (clock.object, clock.status, clock.frozen_time, clock.name) == (
        "test_helpers.test_clock",
        "ready",
        MAR_1,
        "march",
    )


def test_a_customer_is_attached_to_the_clock(clock: Any, clocked: Any) -> None:
    assert clocked.test_clock == clock.id


def test_a_customer_on_an_unknown_clock_is_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params={"test_clock": "clock_missing"})
    # 400, not 404: the missing object is named by a parameter, not by the URL (as Stripe).
    assert (caught.value.http_status, caught.value.param) == (400, "test_clock")


def test_a_clocked_subscription_starts_at_the_clocks_time(
    client: stripe.StripeClient, clocked: Any
) -> None:
    sub = _subscribe(client, clocked.id)
    item = sub["items"].data[0]
    assert (sub.start_date, item.current_period_start, item.current_period_end, sub.test_clock) == (
        MAR_1,
        MAR_1,
        APR_1,
        clocked.test_clock,
    )


def test_advancing_answers_advancing_then_reads_ready(
    client: stripe.StripeClient, clock: Any
) -> None:
    answer = client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1})
    later = client.v1.test_helpers.test_clocks.retrieve(clock.id)
    assert (
        answer.status,
        answer.status_details.advancing.target_frozen_time,
        later.status,
        later.frozen_time,
    ) == ("advancing", APR_1, "ready", APR_1)


def test_advancing_renews_the_clocks_subscriptions(
    client: stripe.StripeClient, clock: Any, clocked: Any
) -> None:
    sub = _subscribe(client, clocked.id)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1 + 7200})
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    renewal = invoices[0]
    assert (
        renewal.billing_reason,
        renewal.period_start,
        renewal.period_end,
        renewal.status,
        renewal.total,
        renewal.test_clock,
    ) == ("subscription_cycle", MAR_1, APR_1, "open", 1000, clock.id)


def test_advancing_sends_the_renewal_webhooks(
    client: stripe.StripeClient, clock: Any, clocked: Any
) -> None:
    _subscribe(client, clocked.id)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1 + 7200})
    types = {e.type for e in client.v1.events.list(params={"limit": 100}).data}
    assert {
        "invoice.created",
        "invoice.finalized",
        "customer.subscription.updated",
        "test_helpers.test_clock.ready",
    } <= types


def test_advancing_bills_metered_usage_from_the_meter(
    client: stripe.StripeClient, clock: Any, clocked: Any, meter: Any
) -> None:
    sub = _subscribe(
        client,
        clocked.id,
        unit_amount=3,
        recurring={"interval": "month", "usage_type": "metered", "meter": meter.id},
    )
    send_event(client, clocked.id, "14", timestamp=MAR_1 + 60)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1})
    renewal = client.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert renewal.total == 42


def test_the_emulator_clock_does_not_renew_clocked_subscriptions(
    client: stripe.StripeClient, server: EmulatorServer, clocked: Any
) -> None:
    sub = _subscribe(client, clocked.id)
    server.control("POST", "/clock/set", {"at": MAY_1})
    assert [
        i.billing_reason for i in client.v1.invoices.list(params={"subscription": sub.id}).data
    ] == ["subscription_create"]


def test_advancing_backwards_is_refused(client: stripe.StripeClient, clock: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": MAR_1})
    assert caught.value.param == "frozen_time"


def test_advancing_past_two_intervals_of_a_subscription_is_refused(
    client: stripe.StripeClient, clock: Any, clocked: Any
) -> None:
    _subscribe(client, clocked.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": MAY_1 + 86400})
    assert caught.value.param == "frozen_time"


def test_clocks_are_listed_newest_first(client: stripe.StripeClient, clock: Any) -> None:
    newer = client.v1.test_helpers.test_clocks.create(params={"frozen_time": APR_1})
    listed = client.v1.test_helpers.test_clocks.list()
    assert [c.id for c in listed.data] == [newer.id, clock.id]


def test_deleting_a_clock_deletes_its_customers(
    client: stripe.StripeClient, clock: Any, clocked: Any
) -> None:
    deleted = client.v1.test_helpers.test_clocks.delete(clock.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve(clocked.id)
    assert (deleted.deleted, caught.value.http_status) == (True, 404)


def test_customers_are_listed_by_clock(
    client: stripe.StripeClient, clock: Any, clocked: Any, customer: Any
) -> None:
    listed = client.v1.customers.list(params={"test_clock": clock.id})
    assert [c.id for c in listed.data] == [clocked.id]


def test_meter_event_timestamps_follow_the_customers_clock(
    client: stripe.StripeClient, clocked: Any, meter: Any
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        send_event(client, clocked.id, "1", timestamp=T0)
    assert caught.value.code == "timestamp_too_far_in_past"


def test_a_clocked_draft_finalizes_an_hour_after_delivery_on_the_clocks_time(
    client: stripe.StripeClient,
    server: EmulatorServer,
    receiver: Receiver,
    clock: Any,
    clocked: Any,
) -> None:
    client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["invoice.created"]}
    )
    sub = _subscribe(client, clocked.id)
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1})
    server.control("POST", "/webhooks/deliver")
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1 + 3599})
    early = client.v1.invoices.list(params={"subscription": sub.id}).data[0].status
    client.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": APR_1 + 3600})
    late = client.v1.invoices.list(params={"subscription": sub.id}).data[0].status
    assert (early, late) == ("draft", "open")
