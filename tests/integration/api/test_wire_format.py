"""The OpenAPI document says what each route really accepts and answers (ADR 0023).

For every route with a JSON body: the document declares the body's keys; the documented
example is accepted and its answer matches the documented response schema; a route whose
schema forbids other keys refuses an undocumented one by name, and one whose schema allows
them accepts it; no documented key is ever refused as unknown. A key the code reads but the
document omits (the old ``backfillId`` drift) therefore fails here for every strict route,
and a documented key the code does not know fails for every route."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from httpx2 import Response

from tests.integration.api.conftest import Api
from tests.integration.api.wire_cases import CASES, Case

UNDOCUMENTED = "zzUndocumented"


@pytest.fixture
def api(api_with_secrets: Api) -> Api:
    """Every route here answers its example, some storing Stripe keys: secrets at rest on."""
    return api_with_secrets


def document(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = api.client.get("/openapi.json").json()
    return found


def body_routes(doc: dict[str, Any]) -> list[str]:
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    )


def operation(doc: dict[str, Any], route: str) -> dict[str, Any]:
    method, path = route.split(" ", 1)
    found: dict[str, Any] = doc["paths"][path][method.lower()]
    return found


def body_schema(doc: dict[str, Any], route: str, case: Case) -> dict[str, Any]:
    found: dict[str, Any] = operation(doc, route)["requestBody"]["content"][case.media_type][
        "schema"
    ]
    return found


def call(api: Api, route: str, case: Case, body: object) -> Response:
    method = route.split(" ", 1)[0]
    path = case.prepare(api)
    key = case.key(api) if case.key else api.key
    headers = {"Authorization": f"Bearer {key}", "Content-Type": case.media_type}
    return api.client.request(method, path, content=json.dumps(body), headers=headers)


def refused_as_unknown(answer: Response, key: str) -> bool:
    """A 422 naming ``key`` as unknown."""
    if answer.status_code != 422:
        return False
    problem = answer.json()
    named = [e for e in problem.get("errors", []) if e.get("field") == key]
    return bool(named) and "unknown" in problem["detail"].lower()


def refused_for_an_extra_key(answer: Response, key: str) -> bool:
    """Refused as unknown, or (a body of one fixed key) refused for its shape."""
    shape = answer.status_code == 422 and answer.json().get("code") == "invalid_body"
    return shape or refused_as_unknown(answer, key)


def test_every_route_with_a_body_has_a_case(api: Api) -> None:
    assert body_routes(document(api)) == sorted(CASES)


def test_every_body_documents_its_keys(api: Api) -> None:
    doc = document(api)
    free_form = [
        route
        for route, case in CASES.items()
        if not body_schema(doc, route, case).get("properties")
    ]
    assert free_form == []


def test_every_documented_example_is_accepted_and_answered_as_documented(api: Api) -> None:
    doc = document(api)
    failures = []
    for route, case in CASES.items():
        answer = call(api, route, case, body_schema(doc, route, case)["examples"][0])
        if answer.status_code >= 300:
            failures.append(f"{route}: {answer.status_code} {answer.text}")
            continue
        documented = operation(doc, route)["responses"].get(str(answer.status_code), {})
        if answer.content:
            schema = documented.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                failures.append(f"{route}: {answer.status_code} answers an undocumented body")
                continue
            errors = [
                str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(answer.json())
            ]
            failures += [f"{route}: {error}" for error in errors]
    assert not failures, "\n".join(failures)


def test_an_undocumented_key_is_refused_exactly_where_the_document_forbids_it(api: Api) -> None:
    doc = document(api)
    failures = []
    for route, case in CASES.items():
        schema = body_schema(doc, route, case)
        answer = call(api, route, case, {**schema["examples"][0], UNDOCUMENTED: "x"})
        strict = schema.get("additionalProperties") is False
        if strict != refused_for_an_extra_key(answer, UNDOCUMENTED) or (
            not strict and answer.status_code >= 300
        ):
            failures.append(f"{route} (strict={strict}): {answer.status_code} {answer.text}")
    assert not failures, "\n".join(failures)


def test_no_documented_key_is_refused_as_unknown(api: Api) -> None:
    doc = document(api)
    refused = []
    for route, case in CASES.items():
        schema = body_schema(doc, route, case)
        example = schema["examples"][0]
        refused += [
            f"{route}: {key}"
            for key in schema["properties"]
            if refused_as_unknown(call(api, route, case, {**example, key: example.get(key)}), key)
        ]
    assert not refused, "\n".join(refused)


def test_an_ingest_answer_of_every_outcome_is_documented(api: Api) -> None:
    api.post("/v1/metrics", {"code": "api_calls", "aggregation": "sum"})
    event = {"metric": "api_calls", "customerRef": "cus_1", "idempotencyKey": "k1"}
    api.post("/v1/events/ingest", {"events": [event]})
    answer = api.post(
        "/v1/events/ingest",
        {
            "events": [
                event,
                {**event, "quantity": "2"},
                {"metric": "api_calls"},
                {**event, "idempotencyKey": "k2", "ts": "2024-01-01T00:00:00Z"},
            ]
        },
    )
    statuses = {r["status"] for r in answer.json()["results"]}
    schema = operation(document(api), "POST /v1/events/ingest")["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert statuses == {"duplicate", "conflict", "rejected", "accepted"}
    jsonschema_rs.validator_for(schema).validate(answer.json())
