"""The hot reads' fast paths (ADR 0860) answer exactly as the declared endpoints behind them.

A fast path declines what it cannot answer exactly as FastAPI would — a query string on a
route that declares none, a repeated parameter, a body sent as ``application/json;
charset=utf-8`` — so each case here is asked both ways and the two answers compared byte for
byte (problem bodies without the request's own id).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.storage.unit_of_work import Store
from tests.support.app_client import Client, running_app

CHARSET = {"Content-Type": "application/json; charset=utf-8"}  # declined by the fast path
ENTITLEMENT = "/v1/customers/{}/entitlements/tokens"


@pytest.fixture
def client(store: Store, clock: FrozenClock) -> Iterator[Client]:
    with running_app(store, clock, rate_limit_per_second=0.0) as running:
        calls = [
            ("POST", "/v1/metrics", {"code": "tokens", "aggregation": "sum"}),
            ("PUT", "/v1/features/tokens", {"type": "metered", "metric": "tokens"}),
            ("PUT", "/v1/features/beta", {"type": "boolean"}),
            ("PUT", ENTITLEMENT.format("cus_1"), {"limit": "100", "enforcement": "hard"}),
            ("PUT", ENTITLEMENT.format("cus_2"), {"limit": "100", "enforcement": "hard"}),
        ]
        for method, path, body in calls:
            answer = running.http.request(method, path, json=body, headers=running.headers)
            assert answer.status_code in (200, 201), answer.text
        events = [
            {"metric": "tokens", "customerRef": ref, "quantity": "30.5", "idempotencyKey": ref}
            for ref in ("cus_1", "cus_2")
        ]
        assert running.post("/v1/events/ingest", {"events": events}).status_code == 200
        yield running


def _same(fast: Any, declared: Any) -> None:
    assert fast.status_code == declared.status_code
    assert fast.headers["content-type"] == declared.headers["content-type"]
    if fast.headers["content-type"].startswith("application/problem+json"):
        assert _problem(fast) == _problem(declared)
    else:
        assert fast.content == declared.content


def _problem(answer: Any) -> dict[str, Any]:
    body = dict(answer.json())
    body.pop("instance", None)  # names the request
    body.pop("requestId", None)
    return body


def _post(client: Client, path: str, body: Any, *, declared: bool = False) -> Any:
    headers = {**client.headers, **(CHARSET if declared else {})}
    return client.http.post(path, json=body, headers=headers)


@pytest.mark.parametrize(
    "path",
    [
        ENTITLEMENT.format("cus_1"),
        "/v1/customers/nobody/entitlements/tokens",
        "/v1/customers/cus_1/entitlements/beta",
        "/v1/customers/cus_1/entitlements/missing",
        "/v1/customers/cus_1/entitlements/" + "x" * 300,
    ],
)
def test_get_entitlement_answers_as_the_declared_endpoint(client: Client, path: str) -> None:
    fast = client.http.get(path, headers=client.headers)
    _same(fast, client.http.get(path + "?via=declared", headers=client.headers))
    assert fast.status_code in (200, 404, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "69.5"},
        {"customerRef": "cus_1", "feature": "tokens", "quantity": "70"},
        {"customerRef": "cus_1", "feature": "tokens"},
        {"customerRef": "cus_1", "feature": "tokens", "quantity": -1},
        {"customerRef": "cus_1", "feature": "tokens", "quantity": 1.5, "tenantId": "default"},
        {"customerRef": "cus_1", "feature": "tokens", "tenantId": "other"},
        {"customerRef": "cus_1", "feature": "tokens", "extra": True},
        {"customerRef": "cus_1", "feature": "nope"},
        {"customerRef": "cus_1\u0000", "feature": "tokens"},
    ],
)
def test_check_answers_as_the_declared_endpoint(client: Client, body: dict[str, Any]) -> None:
    path = "/v1/entitlements/check"
    _same(_post(client, path, body), _post(client, path, body, declared=True))


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b'"text"'])
def test_a_body_that_is_not_an_object_gets_fastapis_own_422(client: Client, raw: bytes) -> None:
    for path in ("/v1/entitlements/check", "/v1/entitlements/reservations"):
        plain = {**client.headers, "Content-Type": "application/json"}
        answer = client.http.post(path, content=raw, headers=plain)
        declared = client.http.post(path, content=raw, headers={**client.headers, **CHARSET})
        assert answer.status_code == 422
        _same(answer, declared)


def test_a_reservation_answers_as_the_declared_endpoint(client: Client) -> None:
    path = "/v1/entitlements/reservations"

    def hold(ref: str, key: str, quantity: str = "20") -> dict[str, Any]:
        return {
            "customerRef": ref,
            "feature": "tokens",
            "quantity": quantity,
            "idempotencyKey": key,
        }

    fast, declared = (
        _post(client, path, hold("cus_1", "a")),
        _post(client, path, hold("cus_2", "b"), declared=True),
    )
    assert (fast.status_code, declared.status_code) == (201, 201)
    assert _without_ids(fast.json()) == _without_ids(declared.json())
    assert fast.json()["entitlement"]["reserved"] == "20"
    replay = hold("cus_1", "a")  # the same key again: 200, the hold as it was
    _same(_post(client, path, replay), _post(client, path, replay, declared=True))
    for body in (
        hold("cus_1", "c", "1000"),  # past the hard limit: 409
        hold("cus_1", "a", "21"),  # the key reused for another quantity: 409
        {**hold("cus_1", "d"), "ttlSeconds": 0},
        {**hold("cus_1", "e"), "tenantId": "other"},
    ):
        _same(_post(client, path, body), _post(client, path, body, declared=True))


def _without_ids(answer: dict[str, Any]) -> dict[str, Any]:
    entitlement = {k: v for k, v in answer["entitlement"].items() if k != "customerRef"}
    drop = {"id", "idempotencyKey", "customerRef", "entitlement"}
    return {**{k: v for k, v in answer.items() if k not in drop}, "entitlement": entitlement}


@pytest.mark.parametrize(
    "query",
    [
        "customerRef=cus_1",
        "customerRef=cus_1&metric=tokens",
        "customerRef=cus_1&metric=missing",
        "customerRef=cus_1&tenantId=default",
        "customerRef=cus_1&tenantId=other",
        "customerRef=nobody",
    ],
)
def test_current_usage_answers_as_the_declared_endpoint(client: Client, query: str) -> None:
    path = "/v1/usage/current?"
    fast = client.http.get(path + query, headers=client.headers)
    repeated = query + "&customerRef=" + query.split("&")[0].split("=")[1]  # declined: repeated
    _same(fast, client.http.get(path + repeated, headers=client.headers))


def test_current_usage_without_its_parameter_gets_fastapis_422(client: Client) -> None:
    answer = client.http.get("/v1/usage/current?metric=tokens", headers=client.headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "customerRef"
