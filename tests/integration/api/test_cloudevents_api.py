"""CloudEvents ingest (OpenMeter-compatible) on SQLite and PostgreSQL: raw bodies in both
content types, and the OpenMeter Python client as its users call it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from corehttp.exceptions import HttpResponseError
from openmeter import Client
from openmeter.models import Event

from stripemeter_server.domain.cloudevents import cloudevent_key
from tests.integration.api.conftest import Api
from tests.support.live_server import serving

SINGLE, BATCH = "application/cloudevents+json", "application/cloudevents-batch+json"


def cloudevent(event_id: str, tokens: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "//chat/api",
        "type": "tokens",
        "subject": "cus_1",
        "time": "2025-01-10T12:00:00Z",
        "data": {"tokens": tokens},
        **extra,
    }


def post(api: Api, body: Any, content_type: str) -> Any:
    return api.client.post(
        "/api/v1/events",
        content=json.dumps(body),
        headers={**api.headers(), "Content-Type": content_type},
    )


def tokens(api: Api) -> Any:
    body = api.get("/v1/usage/current", customerRef="cus_1", metric="tokens").json()
    return body["metrics"][0]["value"]


@pytest.fixture
def metered(api: Api) -> Api:
    created = api.post(
        "/v1/metrics", {"code": "tokens", "aggregation": "sum", "valueProperty": "meta.tokens"}
    )
    assert created.status_code == 201, created.text
    return api


def test_a_single_cloudevent_is_stored_and_counted(metered: Api) -> None:
    assert post(metered, cloudevent("e1"), SINGLE).status_code == 204
    assert tokens(metered) == "3"


def test_a_batch_is_stored_and_a_resent_id_counts_once(metered: Api) -> None:
    batch = [cloudevent("e1"), cloudevent("e2", 4)]
    assert post(metered, batch, BATCH).status_code == 204
    assert post(metered, batch, BATCH).status_code == 204
    assert tokens(metered) == "7"


def test_the_key_comes_from_source_and_id(metered: Api) -> None:
    post(metered, cloudevent("e1"), SINGLE)
    stored = metered.get("/v1/events").json()["data"][0]
    assert (stored["idempotencyKey"], stored["meta"]) == (
        cloudevent_key("//chat/api", "e1"),
        {"tokens": 3},
    )


def test_one_bad_event_refuses_the_batch_and_stores_nothing(metered: Api) -> None:
    response = post(metered, [cloudevent("e1"), cloudevent("e2", subject=None)], BATCH)
    body = response.json()
    assert (response.status_code, body["errors"][0]["index"], body["errors"][0]["field"]) == (
        400,
        1,
        "subject",
    )
    assert tokens(metered) == "0"


def test_a_value_that_is_not_a_number_names_the_data_attribute(metered: Api) -> None:
    response = post(metered, cloudevent("e1", data={"tokens": "many"}), SINGLE)
    error = response.json()["errors"][0]
    assert (response.status_code, error["code"], error["field"]) == (
        400,
        "invalid_value",
        "data.tokens",
    )


def test_another_content_type_is_refused(metered: Api) -> None:
    response = post(metered, cloudevent("e1"), "text/plain")
    assert (response.status_code, response.json()["code"]) == (422, "unsupported_media_type")


@pytest.mark.parametrize("content_type", [BATCH, "application/json"])
def test_an_empty_batch_is_refused_as_an_empty_ingest_batch_is(
    metered: Api, content_type: str
) -> None:
    refused = post(metered, [], content_type)
    ingest = metered.client.post(
        "/v1/events/ingest", json={"events": []}, headers=metered.headers()
    )
    assert refused.status_code == ingest.status_code == 422
    keep = ("code", "detail", "errors", "status", "title", "type")
    assert {k: refused.json().get(k) for k in keep} == {k: ingest.json().get(k) for k in keep}
    assert refused.json()["code"] == "invalid_batch"


def om_event(event_id: str, tokens: int) -> Event:
    return Event(
        id=event_id,
        source="//chat/api",
        specversion="1.0",
        type="tokens",
        subject="cus_1",
        time=datetime(2025, 1, 10, 12, tzinfo=UTC),
        data={"tokens": tokens},
    )


def test_the_openmeter_client_ingests_one_event_and_a_batch(metered: Api) -> None:
    with serving(metered.client.app) as url:
        client = Client(endpoint=url, token=metered.key)
        client.events.ingest_event(om_event("e1", 2))
        client.events.ingest_events([om_event("e2", 5), om_event("e1", 2)])
    assert tokens(metered) == "7"


def test_the_openmeter_client_sees_a_refusal_as_an_error(metered: Api) -> None:
    bad = Event(
        id="e1",
        source="//chat/api",
        specversion="1.0",
        type="tokens",
        subject="cus_1",
        time=datetime(2025, 1, 10, 12, tzinfo=UTC),
        data={"tokens": "many"},
    )
    with serving(metered.client.app) as url, pytest.raises(HttpResponseError) as caught:
        Client(endpoint=url, token=metered.key).events.ingest_event(bad)
    assert caught.value.status_code == 400


@pytest.mark.parametrize("attribute", ["id", "source"])
def test_a_lone_surrogate_in_id_or_source_is_a_400_naming_it(metered: Api, attribute: str) -> None:
    extra: dict[str, Any] = {attribute: "x\ud800y"}
    event = cloudevent("e1", **extra)
    response = metered.client.post(
        "/api/v1/events",
        content=json.dumps(event),
        headers={**metered.headers(), "Content-Type": SINGLE},
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (400, attribute)
