"""Alert rules over HTTP, the events list, and the server-sent-events stream."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app
from tests.support.ledger import ingest

RULE = {"metric": "calls", "threshold": "10"}


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock) as running:
        running.post("/v1/metrics", {"code": "calls", "aggregation": "sum"})
        yield running


def usage(client: Client, *customers: str) -> None:
    response = client.post(
        "/v1/events/ingest",
        {
            "events": [
                {
                    "metric": "calls",
                    "customerRef": c,
                    "quantity": "11",
                    "ts": "2025-01-10T00:00:00Z",
                }
                for c in customers
            ]
        },
    )
    assert response.status_code == 200, response.text


def read_stream(
    client: Client, headers: dict[str, str] | None = None, **params: Any
) -> list[tuple[int, str]]:
    """(id, customerRef) of each event frame of a finite stream."""
    frames: list[tuple[int, str]] = []
    with client.http.stream(
        "GET", "/v1/alerts/stream", params=params, headers={**client.headers, **(headers or {})}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id = None
        for line in response.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: ") and event_id is not None:
                frames.append((event_id, json.loads(line[6:])["customerRef"]))
    return frames


def test_a_rule_round_trips(client: Client) -> None:
    created = client.post("/v1/alerts", {**RULE, "name": "ten calls"}).json()
    fetched = client.get(f"/v1/alerts/{created['id']}").json()
    assert (fetched["name"], fetched["threshold"], fetched["recurrence"]) == (
        "ten calls",
        "10",
        "period",
    )


def test_a_webhook_rule_gets_a_secret_shown_once(client: Client) -> None:
    created = client.post(
        "/v1/alerts", {**RULE, "webhookUrl": "https://hooks.example.com/h"}
    ).json()
    fetched = client.get(f"/v1/alerts/{created['id']}").json()
    assert created["secret"].startswith("whsec_") and "secret" not in fetched


def test_patch_changes_the_threshold(client: Client) -> None:
    created = client.post("/v1/alerts", RULE).json()
    patched = client.patch(f"/v1/alerts/{created['id']}", {"threshold": "20"}).json()
    assert patched["threshold"] == "20"


def test_delete_removes_the_rule(client: Client) -> None:
    created = client.post("/v1/alerts", RULE).json()
    client.delete(f"/v1/alerts/{created['id']}")
    assert client.get(f"/v1/alerts/{created['id']}").status_code == 404


def test_an_invalid_rule_names_the_field(client: Client) -> None:
    response = client.post("/v1/alerts", {**RULE, "threshold": "-1"})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "threshold")


def test_a_quantity_rule_needs_a_metric(client: Client) -> None:
    response = client.post("/v1/alerts", {"threshold": "5"})
    assert response.json()["errors"][0]["field"] == "metric"


def test_crossing_usage_lists_one_event(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    usage(client, "cus_1")
    usage(client, "cus_1")
    assert [e["customerRef"] for e in client.get("/v1/alerts/events").json()["data"]] == ["cus_1"]


def test_an_adjustment_that_crosses_fires(client: Client) -> None:
    client.post("/v1/alerts", {**RULE, "threshold": "5"})
    client.post(
        "/v1/adjustments",
        {"metric": "calls", "customerRef": "cus_9", "delta": "6", "reason": "correction"},
    )
    assert len(client.get("/v1/alerts/events").json()["data"]) == 1


def test_the_stream_sends_the_backlog_in_order(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    usage(client, "a", "b", "c")
    assert read_stream(client, once="true") == [(1, "a"), (2, "b"), (3, "c")]


def test_the_stream_resumes_after_last_event_id_without_gaps_or_repeats(client: Client) -> None:
    client.post("/v1/alerts", RULE)
    usage(client, "a", "b", "c")
    first = read_stream(client, limit=2)
    rest = read_stream(client, {"Last-Event-ID": str(first[-1][0])}, once="true")
    assert first + rest == [(1, "a"), (2, "b"), (3, "c")]


def test_the_stream_delivers_an_event_fired_while_it_is_open(
    client: Client, store: Store, clock: FrozenClock
) -> None:
    client.post("/v1/alerts", RULE)
    writer = threading.Thread(
        target=ingest,
        args=(
            store,
            "default",
            [
                {
                    "metric": "calls",
                    "customerRef": "late",
                    "quantity": "11",
                    "ts": "2025-01-10T00:00:00Z",
                }
            ],
            clock.now(),
        ),
    )
    writer.start()
    frames = read_stream(client, limit=1)
    writer.join()
    assert frames == [(1, "late")]


def test_a_bad_last_event_id_is_422(client: Client) -> None:
    response = client.http.get(
        "/v1/alerts/stream", headers={**client.headers, "Last-Event-ID": "x"}
    )
    assert response.status_code == 422
