"""Webhook delivery of alert events: signed POSTs to a local receiver, retries, the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from stripemeter_server.domain.alerts import SIGNATURE_HEADER, verify_signature
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker, DeliveryPolicy
from tests.support.app_client import Client, running_app
from tests.support.receiver import Receiver, webhook_receiver

SECRET = "whsec_test_secret"
LOCAL = DeliveryPolicy(allow_private=True)  # the receiver listens on 127.0.0.1


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock, allow_private_webhooks=True) as running:
        running.post("/v1/metrics", {"code": "calls", "aggregation": "sum"})
        yield running


def fire(client: Client, receiver: Receiver) -> str:
    """A rule with the receiver as its webhook, and usage that crosses it; the event id."""
    rule = client.post(
        "/v1/alerts",
        {"metric": "calls", "threshold": "10", "webhookUrl": receiver.url, "secret": SECRET},
    )
    assert rule.status_code == 201, rule.text
    client.post(
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": "calls",
                    "customerRef": "cus_1",
                    "quantity": "11",
                    "ts": "2025-01-10T00:00:00Z",
                }
            ]
        },
    )
    event_id: str = client.get("/v1/alerts/events").json()["data"][0]["id"]
    return event_id


def deliver_until_quiet(worker: AlertDeliveryWorker, clock: FrozenClock, hours: int = 30) -> None:
    """Run the worker minute by minute on the frozen clock (no real waiting)."""
    for minute in range(hours * 60):
        worker.run_once(clock.now() + timedelta(minutes=minute))


def attempts(client: Client, event_id: str) -> list[dict[str, Any]]:
    body = client.get(f"/v1/alerts/events/{event_id}/deliveries").json()
    data: list[dict[str, Any]] = body["data"]
    return data


def test_a_refused_delivery_is_retried_until_the_receiver_accepts(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    with webhook_receiver([500, 503, 200]) as receiver:
        event_id = fire(client, receiver)
        with AlertDeliveryWorker(store, clock, LOCAL) as worker:
            deliver_until_quiet(worker, clock, hours=1)
    assert [a["outcome"] for a in attempts(client, event_id)] == [
        "retrying",
        "retrying",
        "delivered",
    ]


def test_the_signature_verifies_with_the_rule_secret(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    with webhook_receiver([200]) as receiver:
        fire(client, receiver)
        with AlertDeliveryWorker(store, clock, LOCAL) as worker:
            worker.run_once(clock.now())
    request = receiver.requests[0]
    assert verify_signature(
        SECRET, request.headers[SIGNATURE_HEADER], request.body, now=int(clock.now().timestamp())
    )


def test_the_body_is_the_alert_event(client: Client, store: Store, clock: FrozenClock) -> None:
    with webhook_receiver([200]) as receiver:
        event_id = fire(client, receiver)
        with AlertDeliveryWorker(store, clock, LOCAL) as worker:
            worker.run_once(clock.now())
    body = json.loads(receiver.requests[0].body)
    assert (body["id"], body["type"], body["value"], body["threshold"]) == (
        event_id,
        "alert.triggered",
        "11",
        "10",
    )


def test_a_retry_waits_for_its_backoff(client: Client, store: Store, clock: FrozenClock) -> None:
    with webhook_receiver([500]) as receiver:
        fire(client, receiver)
        with AlertDeliveryWorker(store, clock, LOCAL) as worker:
            made = [
                worker.run_once(clock.now()),
                worker.run_once(clock.now() + timedelta(seconds=9)),
                worker.run_once(clock.now() + timedelta(seconds=10)),
            ]
    assert made == [1, 0, 1]


def test_delivery_gives_up_after_24_hours(client: Client, store: Store, clock: FrozenClock) -> None:
    with webhook_receiver([500]) as receiver:
        event_id = fire(client, receiver)
        with AlertDeliveryWorker(store, clock, LOCAL) as worker:
            deliver_until_quiet(worker, clock, hours=30)
    body = client.get(f"/v1/alerts/events/{event_id}/deliveries").json()
    assert (body["deliveries"][0]["status"], body["data"][-1]["outcome"]) == ("failed", "failed")


def test_an_unreachable_receiver_is_logged_as_an_error(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    with webhook_receiver([200]) as receiver:
        url = receiver.url
    event_id = fire(client, Receiver(url=url, statuses=[]))  # the server is gone now
    with AlertDeliveryWorker(store, clock, LOCAL) as worker:
        worker.run_once(clock.now())
    attempt = attempts(client, event_id)[0]
    assert (attempt["outcome"], attempt["statusCode"], attempt["error"]) == (
        "retrying",
        None,
        "refused",
    )


def test_an_http_error_status_is_categorised(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    with webhook_receiver([500]) as receiver:
        event_id = fire(client, receiver)
        with AlertDeliveryWorker(store, clock, LOCAL) as worker:
            worker.run_once(clock.now())
    attempt = attempts(client, event_id)[0]
    assert (attempt["statusCode"], attempt["error"]) == (500, "http_status")


def test_a_private_destination_is_blocked_at_delivery_and_not_retried(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    """The rule was allowed when made (private webhooks on); the worker of a server that
    does not allow them refuses to connect, and says only ``blocked``."""
    with webhook_receiver([200]) as receiver:
        event_id = fire(client, receiver)
        with AlertDeliveryWorker(store, clock) as worker:
            worker.run_once(clock.now())
    attempt = attempts(client, event_id)[0]
    assert (attempt["outcome"], attempt["error"], receiver.requests) == ("failed", "blocked", [])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://10.0.0.5:8080/h",
        "http://169.254.169.254/latest",
        "http://[::1]:5432/",
        "http://localhost:9/h",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://user@hooks.example.com/",
    ],
)
def test_a_rule_to_a_private_destination_is_refused_when_made(
    store: Store, clock: FrozenClock, url: str
) -> None:
    with running_app(store, clock) as strict:
        strict.post("/v1/metrics", {"code": "calls", "aggregation": "sum"})
        response = strict.post(
            "/v1/alerts", {"metric": "calls", "threshold": "1", "webhookUrl": url}
        )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "webhookUrl")


def test_a_patch_to_a_private_destination_is_refused(store: Store, clock: FrozenClock) -> None:
    with running_app(store, clock) as strict:
        strict.post("/v1/metrics", {"code": "calls", "aggregation": "sum"})
        rule = strict.post(
            "/v1/alerts",
            {"metric": "calls", "threshold": "1", "webhookUrl": "https://hooks.example.com/h"},
        ).json()
        response = strict.patch(f"/v1/alerts/{rule['id']}", {"webhookUrl": "http://192.168.1.1/h"})
    assert response.status_code == 422
