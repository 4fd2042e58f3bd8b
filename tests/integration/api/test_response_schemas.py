"""Every JSON answer is documented by the declaration that renders it (ADR 0023, ADR 0035).

The OpenAPI document must give every route that answers a JSON body a real schema (not the
free-form object FastAPI infers from ``dict[str, Any]``), and a real call of every such route
must be answered with a body that validates against it (``jsonschema_rs``). The calls are
the wire-format cases (each documented example) and the reads below."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.storage.secret_box import SecretBox
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool
from tests.integration.api.conftest import ADMIN_KEY, Api
from tests.integration.api.response_cases import CALLS, SECRET, WEBHOOK_SECRET, Call
from tests.integration.api.wire_cases import CASES

# Declared routes whose real calls live in test_response_schemas_a.py, beside the
# state each needs (alerts, catalog, credits, entitlements).
CALLED_PER_FEATURE = frozenset(
    {
        "GET /v1/metrics",
        "POST /v1/metrics",
        "GET /v1/metrics/{code}",
        "PATCH /v1/metrics/{code}",
        "PUT /v1/metrics/{code}",
        "PUT /v1/customers/{customer_ref}",
        "GET /v1/customers/{customer_ref}",
        "GET /v1/prices",
        "PUT /v1/prices/{metric}",
        "GET /v1/prices/{metric}",
        "PUT /v1/customers/{customer_ref}/prices/{metric}",
        "GET /v1/customers/{customer_ref}/prices/{metric}",
        "GET /v1/alerts",
        "POST /v1/alerts",
        "GET /v1/alerts/events",
        "GET /v1/alerts/events/{event_id}/deliveries",
        "GET /v1/alerts/{rule_id}",
        "PATCH /v1/alerts/{rule_id}",
        "PUT /v1/features/{key}",
        "GET /v1/features/{key}",
        "GET /v1/features",
        "PUT /v1/customers/{customer_ref}/entitlements/{feature}",
        "GET /v1/customers/{customer_ref}/entitlements/{feature}",
        "GET /v1/customers/{customer_ref}/entitlements/{feature}/grant",
        "POST /v1/customers/{customer_ref}/entitlements/{feature}/extra-grants",
        "GET /v1/customers/{customer_ref}/entitlements",
        "POST /v1/entitlements/check",
        "POST /v1/entitlements/reservations",
        "GET /v1/entitlements/reservations/{reservation_id}",
        "POST /v1/entitlements/reservations/{reservation_id}/commit",
        "POST /v1/entitlements/reservations/{reservation_id}/release",
        "POST /v1/customers/{customer_ref}/credit-grants",
        "GET /v1/customers/{customer_ref}/credit-grants",
        "POST /v1/customers/{customer_ref}/credit-grants/{grant_id}/void",
        "GET /v1/customers/{customer_ref}/credits",
    }
)
# Routes whose answers are not declared yet: none (kept so a new route can be named here
# only by a change that says why).
NOT_YET = frozenset[str]()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(auto_deliver_webhooks=False)) as server:
        yield server


@pytest.fixture
def api(store: Store, clock: FrozenClock, emulator: EmulatorServer) -> Iterator[Api]:
    """The app with secrets at rest configured and the environment's Stripe account on the
    emulator, so every route can answer."""
    emulator.control("POST", "/reset")
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), ADMIN_KEY, auto_create_metrics=True)
        uow.commit()
    pool = GatewayPool(allowed_hosts=HostAllowList.of_urls(emulator.url))
    ctx = ServiceContext(
        store=store,
        clock=clock,
        limits=EventLimits(),
        stripe=StripeAccess(
            cipher=SecretBox("k" * 32),
            environment=StripeCredentials(SECRET, WEBHOOK_SECRET, api_base=emulator.url),
            factory=pool,
        ),
    )
    app = create_app(Settings(database_url=store.url), context=ctx)
    try:
        with TestClient(app) as client:
            yield Api(client, store, clock, ADMIN_KEY)
    finally:
        pool.close()  # the app closes only what it built; this pool is the test's


def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def json_answers(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Route -> {status: schema} for every success answered as ``application/json``."""
    found: dict[str, dict[str, Any]] = {}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("2") and schema is not None:
                    found.setdefault(f"{method.upper()} {path}", {})[status] = schema
    return found


def declared(schema: dict[str, Any]) -> bool:
    """A real shape, not the free-form object inferred from ``dict[str, Any]``."""
    return any(key in schema for key in ("properties", "items", "anyOf", "oneOf"))


def call(api: Api, route: str) -> Response:
    """The route called for real: a read below, or its wire-format case's example."""
    method, _ = route.split(" ", 1)
    found = CALLS.get(route)
    if found is None:
        case = CASES[route]
        found = Call(case.prepare, body="example", key=case.key, media_type=case.media_type)
    path = found.prepare(api)
    if found.send is not None:
        return found.send(api, path)
    body = found.body
    if body == "example":
        doc = document(api)
        operation = doc["paths"][route.split(" ", 1)[1]][method.lower()]
        body = operation["requestBody"]["content"][found.media_type]["schema"]["examples"][0]
    key = found.key(api) if found.key else api.key
    headers = {"Authorization": f"Bearer {key}", "Content-Type": found.media_type}
    content = None if body is None else json.dumps(body)
    return api.client.request(method, path, content=content, headers=headers)


def test_the_route_lists_name_real_routes(api: Api) -> None:
    routes = set(json_answers(document(api)))
    assert CALLED_PER_FEATURE - routes == set()
    assert NOT_YET - routes == set()
    assert not CALLED_PER_FEATURE & NOT_YET


def test_every_json_answer_declares_its_schema(api: Api) -> None:
    answers = json_answers(document(api))
    free_form = sorted(
        f"{route} {status}"
        for route, schemas in answers.items()
        if route not in NOT_YET
        for status, schema in schemas.items()
        if not declared(schema)
    )
    assert free_form == [], "\n".join(free_form)


def test_every_declared_answer_is_what_a_real_call_returns(api: Api) -> None:
    answers = json_answers(document(api))
    checked, failures = 0, []
    for route, schemas in sorted(answers.items()):
        if route in CALLED_PER_FEATURE | NOT_YET:
            continue
        answer = call(api, route)
        schema = schemas.get(str(answer.status_code))
        if schema is None:
            failures.append(f"{route}: {answer.status_code} {answer.text[:300]}")
            continue
        validator = jsonschema_rs.validator_for(schema)
        failures += [f"{route}: {error}" for error in validator.iter_errors(answer.json())]
        checked += 1
    assert not failures, "\n".join(failures)
    assert checked == len(answers) - len(CALLED_PER_FEATURE | NOT_YET)
