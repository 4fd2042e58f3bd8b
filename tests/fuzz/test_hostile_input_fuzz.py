"""Fuzzing the surfaces a schema cannot describe (issue 18, findings 5, 6 and 8): CloudEvents
with any text in their attributes (lone surrogates, NUL), Stripe webhooks correctly signed
whatever their body holds (any text, deep nesting), and paths and queries carrying arbitrary
percent-escaped bytes. No input may produce a 5xx; every refusal is a problem body. On
SQLite, bounded by ``max_examples``, not by time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stripe import WebhookSignature

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.accounts import AccountChange, set_account
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool
from tests.conftest import NOW

ADMIN_KEY = "smk_fuzz_hostile_admin_0001"
WEBHOOK_SECRET = "whsec_FuzzHostileSecret0001"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
ANY_TEXT = st.text(st.characters(codec=None), max_size=40)  # surrogates and NUL included
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    clock = FrozenClock(NOW)
    cipher = SecretBox("h" * 32)
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), ADMIN_KEY)
        set_account(
            uow,
            cipher,
            AccountChange(StripeCredentials("sk_test_FuzzHostile0001", WEBHOOK_SECRET), 0),
            clock.now(),
        )
        uow.commit()
    access = StripeAccess(cipher=cipher, factory=GatewayPool())
    context = ServiceContext(store=store, clock=clock, limits=EventLimits(), stripe=access)
    with TestClient(create_app(Settings(database_url=store.url), context=context)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield client
    store.close()


def _no_5xx(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text


def test_cloudevents_with_any_attribute_text_never_give_a_5xx(http: TestClient) -> None:
    attribute = ANY_TEXT | st.sampled_from(["calls", "cus_1", "//src", "e1"])
    event = st.fixed_dictionaries(
        {
            "specversion": st.just("1.0"),
            "id": attribute,
            "source": attribute,
            "type": attribute,
            "subject": attribute,
        },
        optional={"data": JSON, "time": attribute},
    )

    @FUZZ
    @given(st.lists(event, min_size=1, max_size=3))
    def run(events: list[dict[str, Any]]) -> None:
        body = json.dumps(events)  # ASCII: a lone surrogate travels as its escape
        _no_5xx(
            http.post(
                "/api/v1/events",
                content=body,
                headers={"Content-Type": "application/cloudevents-batch+json"},
            )
        )

    run()


def test_signed_webhooks_of_any_body_never_give_a_5xx(http: TestClient) -> None:
    event = st.fixed_dictionaries({"id": ANY_TEXT, "type": ANY_TEXT, "data": JSON})
    deep = st.integers(min_value=1, max_value=3000).map(
        lambda n: '{"id": "evt_deep", "type": "x", "data": ' + "[" * n + "]" * n + "}"
    )

    @FUZZ
    @given(event.map(json.dumps) | deep | JSON.map(json.dumps))
    def run(body: str) -> None:
        signature = WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        _no_5xx(
            http.post(
                "/v1/stripe/webhook/default",
                content=body.encode(),
                headers={"Stripe-Signature": signature},
            )
        )

    run()


def test_percent_escaped_bytes_in_paths_and_queries_never_give_a_5xx(http: TestClient) -> None:
    routes = st.sampled_from(
        [
            "GET /v1/customers/{}",
            "PUT /v1/customers/{}",
            "GET /v1/usage/current?customerRef={}&metric=calls",
            "GET /v1/metrics/{}",
            "GET /v1/events?customerRef={}",
        ]
    )

    @FUZZ
    @given(routes, st.binary(min_size=1, max_size=12))
    def run(route: str, raw: bytes) -> None:
        method, path = route.split(" ")
        response = http.request(
            method,
            path.format(quote_from_bytes(raw, safe="")),
            json={} if method == "PUT" else None,
        )
        _no_5xx(response)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            assert response.status_code >= 400, response.text  # never a lossy success

    run()
