"""``credit_balance_below`` alert rules on both stores: they fire in the ingest transaction
that takes the balance below the threshold, once per customer and period."""

from __future__ import annotations

from typing import Any

from tests.integration.credits.conftest import event, grant, track
from tests.support.app_client import Client

RULE = {"type": "credit_balance_below", "threshold": "97", "currency": "usd"}


def fired(client: Client) -> list[Any]:
    return [
        e
        for e in client.get("/v1/alerts/events").json()["data"]
        if e["kind"] == "credit_balance_below"
    ]


def test_usage_that_takes_the_balance_below_fires(client: Client) -> None:
    assert client.post("/v1/alerts", RULE).status_code == 201
    grant(client, "100", "g1")
    track(client, [event("3000", "e1")])  # $4: the balance is 96
    events = fired(client)
    assert [(e["customerRef"], e["value"], e["currency"]) for e in events] == [
        ("cus_1", "96.00", "usd")
    ]


def test_a_balance_above_the_threshold_does_not_fire(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "100", "g1")
    track(client, [event("2000", "e1")])  # $2: the balance is 98
    assert fired(client) == []


def test_the_alert_fires_once_per_period(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    grant(client, "100", "g1")
    track(client, [event("3000", "e1")])
    track(client, [event("3000", "e2")])
    assert len(fired(client)) == 1


def test_a_customer_without_credit_never_fires(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    track(client, [event("3000", "e1")])
    assert fired(client) == []


def test_currency_is_refused_on_a_quantity_rule(client: Client) -> None:
    response = client.post(
        "/v1/alerts", {"type": "quantity", "metric": "tokens", "threshold": "1", "currency": "usd"}
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "currency")
