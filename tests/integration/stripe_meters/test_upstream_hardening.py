"""What a tenant's ``apiBase`` may reach, and what an upstream's answer may reveal (issue 18,
findings 3 and 7): internal hosts are refused when the account is stored and again when a
call is made; an upstream's body never reaches the client (it goes to the log); an answer of
an unexpected shape is a 502 problem, never a 500."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool
from tests.integration.stripe_meters.test_sync_meters import ADMIN, SECRET, _mapped
from tests.support.receiver import Receiver, webhook_receiver

LEAK = b"<html>INTERNAL-SECRET metadata service</html>"


@contextmanager
def _api(
    store: Store, clock: FrozenClock, base: str, allowed: HostAllowList
) -> Iterator[TestClient]:
    _mapped(store, clock, {"calls": "sum"}, [{"metric": "calls"}])
    access = StripeAccess(
        cipher=SecretBox("k" * 32),
        environment=StripeCredentials(SECRET, api_base=base),
        factory=GatewayPool(allowed_hosts=allowed),
    )
    app = create_app(
        Settings(database_url=store.url),
        context=ServiceContext(store=store, clock=clock, stripe=access),
    )
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN}"
        yield client


@contextmanager
def _upstream(
    status: int, body: bytes, store: Store, clock: FrozenClock
) -> Iterator[tuple[TestClient, Receiver]]:
    with webhook_receiver([status], body=body) as receiver:
        base = receiver.url.removesuffix("/hook")
        with _api(store, clock, base, HostAllowList.of_urls(base)) as api:
            yield api, receiver


@pytest.mark.parametrize(
    "base",
    [
        "http://169.254.169.254",
        "http://10.0.0.5:8080",
        "http://localhost:6379",
        "http://[::1]:5432",
        "http://2130706433",
        "http://0x7f.1:22",
    ],
)
def test_an_internal_api_base_is_refused_naming_the_field(
    store: Store, clock: FrozenClock, base: str
) -> None:
    with _api(store, clock, "http://127.0.0.1:1", HostAllowList.parse("api.stripe.com")) as api:
        response = api.put("/v1/stripe/account", json={"secretKey": SECRET, "apiBase": base})
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "apiBase")


def test_an_upstream_body_is_never_echoed_to_the_client(store: Store, clock: FrozenClock) -> None:
    with _upstream(502, LEAK, store, clock) as (api, _):
        response = api.post("/v1/stripe/meters/sync")
    assert response.status_code in (502, 503)
    assert response.headers["content-type"] == "application/problem+json"
    assert b"INTERNAL-SECRET" not in response.content


def test_the_upstream_body_goes_to_the_log_with_the_request_id(
    store: Store, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="stripemeter_server.api.errors"),
        _upstream(502, LEAK, store, clock) as (api, _),
    ):
        response = api.post("/v1/stripe/meters/sync")
    logged = [r for r in caplog.records if r.getMessage().startswith("stripe call failed")]
    assert len(logged) == 1 and "INTERNAL-SECRET" in logged[0].getMessage()
    assert getattr(logged[0], "requestId", None) == response.json()["requestId"]


def test_a_200_empty_object_is_a_502_problem(store: Store, clock: FrozenClock) -> None:
    with _upstream(200, b"{}", store, clock) as (api, _):
        response = api.post("/v1/stripe/meters/sync")
    assert (response.status_code, response.json()["code"]) == (502, "stripe_bad_response")


@pytest.mark.parametrize(
    "body", [b"[]", b'{"data": 5}', b'{"data": [{"id": 1}]}', b"null", b"not json"]
)
def test_answers_of_any_shape_are_502_or_503_problems(
    store: Store, clock: FrozenClock, body: bytes
) -> None:
    with _upstream(200, body, store, clock) as (api, _):
        response = api.post("/v1/stripe/meters/sync")
    assert response.status_code in (502, 503)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_host_off_the_allow_list_is_not_called_even_when_stored(
    store: Store, clock: FrozenClock
) -> None:
    with webhook_receiver([200], body=b'{"data": []}') as receiver:
        base = receiver.url.removesuffix("/hook")
        with _api(store, clock, base, HostAllowList.parse("api.stripe.com")) as api:
            response = api.post("/v1/stripe/meters/sync")
    assert (response.status_code, response.json()["code"], receiver.requests) == (
        502,
        "stripe_host_blocked",
        [],
    )
