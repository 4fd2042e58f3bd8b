"""Prices over HTTP: default, overrides, validation errors naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app

GRADUATED = {
    "model": "graduated",
    "currency": "usd",
    "tiers": [
        {"upTo": "1000", "unitAmount": "0"},
        {"upTo": None, "unitAmount": "0.002", "flatAmount": "1"},
    ],
}


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock) as running:
        running.post("/v1/metrics", {"code": "calls", "aggregation": "sum"})
        yield running


def test_put_then_get_round_trips_the_price(client: Client) -> None:
    assert client.put("/v1/prices/calls", GRADUATED).status_code == 201
    body = client.get("/v1/prices/calls").json()
    assert body["tiers"][1] == {"upTo": None, "unitAmount": "0.002", "flatAmount": "1"}


def test_replacing_a_price_answers_200(client: Client) -> None:
    client.put("/v1/prices/calls", GRADUATED)
    assert client.put("/v1/prices/calls", GRADUATED).status_code == 200


def test_a_customer_override_is_its_own_resource(client: Client) -> None:
    override = {"model": "flat", "currency": "jpy", "flatAmount": "5000"}
    assert client.put("/v1/customers/cus_1/prices/calls", override).status_code == 201
    body = client.get("/v1/customers/cus_1/prices/calls").json()
    assert (body["customerRef"], body["currency"], body["flatAmount"]) == ("cus_1", "jpy", "5000")


def test_delete_removes_the_price(client: Client) -> None:
    client.put("/v1/prices/calls", GRADUATED)
    assert client.delete("/v1/prices/calls").status_code == 204
    assert client.get("/v1/prices/calls").json()["code"] == "price_not_found"


def test_an_invalid_price_names_the_field(client: Client) -> None:
    response = client.put(
        "/v1/prices/calls",
        {"model": "package", "currency": "usd", "packageSize": "0", "packageAmount": "5"},
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "packageSize")


def test_a_price_for_an_unknown_metric_is_404(client: Client) -> None:
    assert client.put("/v1/prices/nope", GRADUATED).status_code == 404


def test_another_tenants_id_in_the_body_is_403(client: Client) -> None:
    assert client.put("/v1/prices/calls", {**GRADUATED, "tenantId": "x"}).status_code == 403
