"""Every JSON answer of alerts, catalog, corrections, credits, entitlements and usage is the
one its route documents (ADR 0023, ADR 0030).

Each route is called for real, on state its case prepares, and its answer validated with
``jsonschema_rs`` against the schema the OpenAPI document gives for that status; the
answer Structs refuse undeclared keys, so a key rendered but not documented fails too. A
route of these features that answers JSON without a case here fails the coverage test."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import pytest
from fastapi.routing import APIRoute

from tests.integration.api.conftest import Api
from tests.integration.api.wire_cases import FEATURE, GRANT, METRIC, PRICE, ok, put

FEATURES = (
    "alerts",
    "catalog.metrics",
    "catalog.prices",
    "credits",
    "entitlements.access",
    "entitlements.features",
    "entitlements.reservations",
)
MODULES = tuple(f"stripemeter_server.api.routes.{name}" for name in FEATURES)
# Answers that are not JSON: an empty 204, a server-sent event stream.
NOT_JSON = frozenset({"GET /v1/alerts/stream"})


@dataclass(frozen=True)
class Call:
    """The request a case makes once its state is prepared: a concrete path and a body."""

    path: str
    body: object = None


Prepare = Callable[[Api], Call]


def at(path: str, *needs: Callable[[Api], object], body: object = None) -> Prepare:
    """A case whose path is fixed once ``needs`` have made the state it reads."""

    def prepare(api: Api) -> Call:
        for need in needs:
            need(api)
        return Call(path, body)

    return prepare


@pytest.fixture
def api(api_with_secrets: Api) -> Api:
    """Every route here answers its example, some storing Stripe keys: secrets at rest on."""
    return api_with_secrets


def metric(api: Api) -> None:
    api.post("/v1/metrics", METRIC)


def ingest(api: Api, key: str, quantity: str = "5", customer: str = "cus_1") -> None:
    event = {
        "metric": "api_calls",
        "customerRef": customer,
        "idempotencyKey": key,
        "quantity": quantity,
    }
    ok(api.post("/v1/events/ingest", {"events": [event]}))


# --- alerts -------------------------------------------------------------------------------

RULE = {
    "name": "r",
    "type": "quantity",
    "metric": "api_calls",
    "threshold": "1",
    "webhookUrl": "https://example.com/hooks/stripemeter",
}


def rule(api: Api) -> str:
    metric(api)
    return str(ok(api.post("/v1/alerts", RULE))["id"])


def fired(api: Api) -> str:
    rule(api)
    ingest(api, "fires")
    return str(ok(api.get("/v1/alerts/events"))["data"][0]["id"])


ALERTS: dict[str, Prepare] = {
    "POST /v1/alerts": at("/v1/alerts", metric, body=RULE),
    "GET /v1/alerts": at("/v1/alerts", rule),
    "GET /v1/alerts/events": at("/v1/alerts/events", fired),
    "GET /v1/alerts/events/{event_id}/deliveries": lambda api: Call(
        f"/v1/alerts/events/{fired(api)}/deliveries"
    ),
    "GET /v1/alerts/{rule_id}": lambda api: Call(f"/v1/alerts/{rule(api)}"),
    "PATCH /v1/alerts/{rule_id}": lambda api: Call(f"/v1/alerts/{rule(api)}", {"name": "s"}),
}

# --- credits ------------------------------------------------------------------------------

CREDIT = {"amount": "100.00", "currency": "usd", "idempotencyKey": "topup-1"}
UNIT_CREDIT = {"amount": "50", "unit": "api_calls", "idempotencyKey": "units-1"}
GRANTS = "/v1/customers/cus_1/credit-grants"


def granted(api: Api) -> str:
    metric(api)
    ok(api.post(GRANTS, UNIT_CREDIT))
    ingest(api, "burns")
    return str(ok(api.post(GRANTS, CREDIT))["id"])


CREDITS: dict[str, Prepare] = {
    "POST /v1/customers/{customer_ref}/credit-grants": at(GRANTS, body=CREDIT),
    "GET /v1/customers/{customer_ref}/credit-grants": at(GRANTS, granted),
    "POST /v1/customers/{customer_ref}/credit-grants/{grant_id}/void": lambda api: Call(
        f"{GRANTS}/{granted(api)}/void"
    ),
    "GET /v1/customers/{customer_ref}/credits": at("/v1/customers/cus_1/credits", granted),
}

# --- catalog ------------------------------------------------------------------------------

TIERED = {
    "model": "graduated",
    "currency": "usd",
    "tiers": [{"upTo": "1000", "unitAmount": "0"}, {"upTo": None, "unitAmount": "0.002"}],
}
PACKAGE = {"model": "package", "currency": "usd", "packageSize": "100", "packageAmount": "1.5"}


def priced(api: Api) -> None:
    metric(api)
    put(api, "/v1/prices/api_calls", TIERED)
    put(api, "/v1/customers/cus_1/prices/api_calls", PACKAGE)
    ok(api.post("/v1/metrics", {"code": "flat", "aggregation": "max"}))
    put(api, "/v1/prices/flat", {"model": "flat", "currency": "usd", "flatAmount": "9"})
    put(api, "/v1/customers/cus_2/prices/flat", PRICE)


def customer(api: Api) -> None:
    put(api, "/v1/customers/cus_1", {"anchorDay": 15, "timezone": "Europe/Berlin"})


FILTERED = {**METRIC, "code": "big_calls", "filter": {"meta.size": "big"}}
CATALOG: dict[str, Prepare] = {
    "POST /v1/metrics": at("/v1/metrics", body=FILTERED),
    "GET /v1/metrics": at("/v1/metrics", metric),
    "GET /v1/metrics/{code}": at("/v1/metrics/api_calls", metric),
    "PATCH /v1/metrics/{code}": at("/v1/metrics/api_calls", metric, body={"aggregation": "max"}),
    "PUT /v1/metrics/{code}": at("/v1/metrics/api_calls", metric, body={"displayName": "x"}),
    "PUT /v1/customers/{customer_ref}": at(
        "/v1/customers/cus_1", body={"stripeCustomerId": "cus_S", "anchorDay": 3}
    ),
    "GET /v1/customers/{customer_ref}": at("/v1/customers/cus_1", customer),
    "GET /v1/prices": at("/v1/prices", priced),
    "PUT /v1/prices/{metric}": at("/v1/prices/api_calls", metric, body=TIERED),
    "GET /v1/prices/{metric}": at("/v1/prices/api_calls", priced),
    "PUT /v1/customers/{customer_ref}/prices/{metric}": at(
        "/v1/customers/cus_1/prices/api_calls", priced, body=PACKAGE
    ),
    "GET /v1/customers/{customer_ref}/prices/{metric}": at(
        "/v1/customers/cus_1/prices/api_calls", priced
    ),
}

# --- entitlements -------------------------------------------------------------------------

ENTITLED = "/v1/customers/cus_1/entitlements"
STATIC = {"type": "static", "name": "Seats", "config": {"seats": 5}}
HOLD = {"customerRef": "cus_1", "feature": "tokens", "quantity": "40"}


def features(api: Api) -> None:
    metric(api)
    put(api, "/v1/features/tokens", FEATURE)
    put(api, "/v1/features/seats", STATIC)
    put(api, "/v1/features/beta", {"type": "boolean"})


def entitled(api: Api) -> None:
    features(api)
    put(api, f"{ENTITLED}/tokens", GRANT)
    put(api, f"{ENTITLED}/seats", {"config": {"seats": 9}})
    put(api, f"{ENTITLED}/beta", {"enabled": True})
    ingest(api, "used")


def held(api: Api) -> str:
    entitled(api)
    return str(ok(api.post("/v1/entitlements/reservations", {**HOLD, "idempotencyKey": "h"}))["id"])


ENTITLEMENTS: dict[str, Prepare] = {
    "PUT /v1/features/{key}": at("/v1/features/tokens", metric, body=FEATURE),
    "GET /v1/features": at("/v1/features", features),
    "GET /v1/features/{key}": at("/v1/features/seats", features),
    "PUT /v1/customers/{customer_ref}/entitlements/{feature}": at(
        f"{ENTITLED}/tokens", features, body=GRANT
    ),
    "GET /v1/customers/{customer_ref}/entitlements/{feature}/grant": at(
        f"{ENTITLED}/tokens/grant", entitled
    ),
    "POST /v1/customers/{customer_ref}/entitlements/{feature}/extra-grants": at(
        f"{ENTITLED}/tokens/extra-grants", entitled, body={"amount": "5", "note": "pack"}
    ),
    "GET /v1/customers/{customer_ref}/entitlements": at(ENTITLED, entitled),
    "GET /v1/customers/{customer_ref}/entitlements/{feature}": at(f"{ENTITLED}/tokens", entitled),
    "POST /v1/entitlements/check": at("/v1/entitlements/check", entitled, body=HOLD),
    "POST /v1/entitlements/reservations": at(
        "/v1/entitlements/reservations", entitled, body={**HOLD, "idempotencyKey": "k"}
    ),
    "GET /v1/entitlements/reservations/{reservation_id}": lambda api: Call(
        f"/v1/entitlements/reservations/{held(api)}"
    ),
    "POST /v1/entitlements/reservations/{reservation_id}/commit": lambda api: Call(
        f"/v1/entitlements/reservations/{held(api)}/commit", {"quantity": "30"}
    ),
    "POST /v1/entitlements/reservations/{reservation_id}/release": lambda api: Call(
        f"/v1/entitlements/reservations/{held(api)}/release"
    ),
}

CASES: dict[str, Prepare] = {**ALERTS, **CATALOG, **CREDITS, **ENTITLEMENTS}


def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def json_routes() -> set[str]:
    """The routes of these features that answer with a JSON body."""
    routes = set()
    for name in MODULES:
        for route in importlib.import_module(name).router.routes:
            if isinstance(route, APIRoute) and route.status_code != 204:
                routes |= {f"{method} {route.path}" for method in route.methods or ()}
    return routes - NOT_JSON


def test_every_json_route_of_these_features_has_a_case() -> None:
    assert sorted(json_routes()) == sorted(CASES)


@pytest.mark.parametrize("route", sorted(CASES))
def test_the_answer_is_the_documented_one(api: Api, route: str) -> None:
    method, template = route.split(" ", 1)
    call = CASES[route](api)
    answer = api.client.request(
        method,
        call.path,
        headers={**api.headers(), "Content-Type": "application/json"},
        content=None if call.body is None else json.dumps(call.body),
    )
    assert answer.status_code < 300, answer.text
    documented = document(api)["paths"][template][method.lower()]["responses"]
    schema = documented[str(answer.status_code)]["content"]["application/json"]["schema"]
    assert schema.get("properties"), f"{route} documents a free-form answer"
    errors = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(answer.json())]
    assert errors == []
