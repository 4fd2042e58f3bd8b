"""``entitlement_usage`` alert rules on both stores: they fire in the ingest transaction whose
usage reaches a percent of the customer's limit, once per usage window and threshold, and
are delivered as signed webhooks like every alert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from stripemeter_server.domain.alerts import SIGNATURE_HEADER, verify_signature
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.workers.alert_delivery import AlertDeliveryWorker, DeliveryPolicy
from tests.integration.entitlements.conftest import TOKENS, grant, track
from tests.support.app_client import Client, running_app
from tests.support.receiver import webhook_receiver

RULE = {"type": "entitlement_usage", "feature": "tokens", "threshold": "80"}
SECRET = "whsec_entitlement_test"


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock, allow_private_webhooks=True) as running:
        assert (
            running.post("/v1/metrics", {"code": "tokens", "aggregation": "sum"}).status_code == 201
        )
        assert running.put("/v1/features/tokens", TOKENS).status_code == 201
        yield running


def fired(client: Client) -> list[Any]:
    return [
        e
        for e in client.get("/v1/alerts/events").json()["data"]
        if e["kind"] == "entitlement_usage"
    ]


def test_usage_reaching_the_percent_of_the_limit_fires(client: Client) -> None:
    assert client.post("/v1/alerts", RULE).status_code == 201
    grant(client, "cus_1", "100")
    track(client, "cus_1", "80", "e1")
    assert [
        (e["customerRef"], e["feature"], e["value"], e["threshold"], e["limit"])
        for e in fired(client)
    ] == [("cus_1", "tokens", "80", "80", "100")]


def test_usage_below_the_percent_does_not_fire(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "cus_1", "100")
    track(client, "cus_1", "79.999", "e1")
    assert fired(client) == []


def test_the_alert_fires_once_per_window(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "cus_1", "100")
    for key in ("e1", "e2", "e3"):
        track(client, "cus_1", "40", key)
    assert len(fired(client)) == 1


def test_the_next_window_fires_again(client: Client, clock: FrozenClock) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "cus_1", "100")
    track(client, "cus_1", "90", "e1", ts="2025-01-10T00:00:00Z")
    clock.advance(timedelta(days=31))
    track(client, "cus_1", "90", "e2", ts="2025-02-10T00:00:00Z")
    assert [e["periodStart"][:7] for e in fired(client)] == ["2025-01", "2025-02"]


def test_each_threshold_fires_once(client: Client) -> None:
    for percent in ("50", "80", "100"):
        client.post("/v1/alerts", {**RULE, "threshold": percent})
    grant(client, "cus_1", "10")
    for key in ("e1", "e2", "e3", "e4"):
        track(client, "cus_1", "3", key)
    assert sorted(e["threshold"] for e in fired(client)) == ["10", "5", "8"]


def test_an_extra_grant_raises_the_limit_the_percent_is_of(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "cus_1", "100")
    client.post("/v1/customers/cus_1/entitlements/tokens/extra-grants", {"amount": "100"})
    track(client, "cus_1", "150", "e1")
    assert fired(client) == []


def test_a_customer_without_a_grant_never_fires(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    track(client, "cus_1", "1000", "e1")
    assert fired(client) == []


def test_a_rule_for_one_customer_ignores_the_others(client: Client) -> None:
    client.post("/v1/alerts", {**RULE, "customerRef": "cus_2"})
    grant(client, "cus_1", "10")
    track(client, "cus_1", "10", "e1")
    assert fired(client) == []


def test_a_committed_reservation_can_cross_the_threshold(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "cus_1", "10")
    held = client.post(
        "/v1/entitlements/reservations",
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "9", "idempotencyKey": "r1"},
    )
    client.post(f"/v1/entitlements/reservations/{held.json()['id']}/commit", {})
    assert [e["value"] for e in fired(client)] == ["9"]


def test_the_crossing_is_delivered_as_a_signed_webhook(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    with webhook_receiver([200]) as receiver:
        client.post("/v1/alerts", {**RULE, "webhookUrl": receiver.url, "secret": SECRET})
        grant(client, "cus_1", "100")
        track(client, "cus_1", "85", "e1")
        with AlertDeliveryWorker(store, clock, DeliveryPolicy(allow_private=True)) as worker:
            worker.run_once(clock.now())
    request = receiver.requests[0]
    assert verify_signature(
        SECRET, request.headers[SIGNATURE_HEADER], request.body, now=int(clock.now().timestamp())
    )
    assert json.loads(request.body)["feature"] == "tokens"


@pytest.mark.parametrize(
    "feature",
    [
        {"type": "metered", "metric": "tokens", "reset": "day"},
        {"type": "metered", "metric": "tokens", "filter": {"meta.model": "large"}},
        {"type": "boolean"},
    ],
)
def test_a_feature_not_counted_by_the_counter_is_refused(
    client: Client, feature: dict[str, Any]
) -> None:
    client.put("/v1/features/other", feature)
    response = client.post("/v1/alerts", {**RULE, "feature": "other"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "feature")


def test_an_unknown_feature_is_refused(client: Client) -> None:
    response = client.post("/v1/alerts", {**RULE, "feature": "nope"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "feature")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RULE, "threshold": "1e80"}, "threshold"),
        ({**RULE, "threshold": "0"}, "threshold"),
        ({**RULE, "feature": "a\u0000b"}, "feature"),
        ({**RULE, "feature": "f" * 256}, "feature"),
        ({**RULE, "metric": "tokens"}, "metric"),
        ({**RULE, "percentOf": "100"}, "percentOf"),
        (
            {"type": "quantity", "metric": "tokens", "threshold": "1", "feature": "tokens"},
            "feature",
        ),
        ({k: v for k, v in RULE.items() if k != "feature"}, "feature"),
    ],
)
def test_bad_rule_fields_are_a_problem_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/alerts", body)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)


def test_another_tenant_cannot_watch_this_tenants_feature(client: Client) -> None:
    with client.store.unit_of_work() as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=client.clock.now())
        issued = issue_key(uow, "other", frozenset({"admin"}), label=None, now=client.clock.now())
        uow.commit()
    response = client.http.post(
        "/v1/alerts", json=RULE, headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "feature")


def test_another_tenants_usage_never_fires_this_tenants_rule(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "cus_1", "10")
    with client.store.unit_of_work() as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=client.clock.now())
        issued = issue_key(uow, "other", frozenset({"admin"}), label=None, now=client.clock.now())
        uow.commit()
    other = {"Authorization": f"Bearer {issued.secret}"}
    client.http.post(
        "/v1/events/ingest",
        headers=other,
        json={
            "events": [
                {
                    "metric": "tokens",
                    "customerRef": "cus_1",
                    "quantity": "10",
                    "idempotencyKey": "o1",
                }
            ]
        },
    )
    assert fired(client) == []
