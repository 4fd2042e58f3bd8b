"""The error half of the OpenAPI document, declared once for every route.

Every route can answer with a problem body (RFC 9457) for malformed input, a missing or
wrong key, a missing scope, an unknown resource, a conflict, an oversized body, a rate limit
or an unavailable store; listing them per route by hand would drift. ``PROBLEM_RESPONSES``
is applied when the routers are included, and the ``Problem`` schema is added to the
document's components, so clients and the schema fuzzer see what the API really returns.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from stripemeter_server.api.wire import DECLARED_BODY

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and `errors` name the fields.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "requestId": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_MEANINGS = {
    400: "The body is not valid JSON",
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the scope, or names another tenant",
    404: "No such resource",
    409: "The request contradicts stored state",
    413: "The body is larger than the configured limit",
    422: "A field is malformed or out of bounds (the problem names it)",
    429: "Rate limited; retry after `Retry-After` seconds",
    503: "The store is unavailable; retry after `Retry-After` seconds",
}

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": meaning,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    for status, meaning in _MEANINGS.items()
}

# Routes that call Stripe while the client waits may also answer these.
STRIPE_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {
        "description": "Stripe refused the request (the problem carries Stripe's reason)",
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    },
}


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, with the ``Problem`` schema among its components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                PROBLEM_SCHEMA
            )
            _apply_declared_bodies(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _apply_declared_bodies(document: dict[str, Any]) -> None:
    """Put each declared body (``api.wire``) in place of what FastAPI inferred from the
    route's ``dict[str, Any]`` parameter or return type; FastAPI would merge the two."""
    for operations in document["paths"].values():
        for operation in operations.values():
            declared = operation.pop(DECLARED_BODY, None)
            if declared is not None:
                operation["requestBody"] = copy.deepcopy(declared)
            responses = operation.get("responses", {})
            for status, answer in list(responses.items()):
                body = answer.get(DECLARED_BODY)
                if body is not None:
                    rest = {k: v for k, v in answer.items() if k != DECLARED_BODY}
                    responses[status] = {**rest, "content": copy.deepcopy(body)}
            _same_body_for_every_success(responses)


def _same_body_for_every_success(responses: dict[str, Any]) -> None:
    """A route that answers 200 or 201 (created or replaced) returns one body either way;
    the status declared only by its description gets the other's body schema."""
    successes = [s for s in responses if s.startswith("2") and s != "204"]
    bodies = [responses[s]["content"] for s in successes if "content" in responses[s]]
    if len(bodies) != 1:
        return
    for status in successes:
        if "content" not in responses[status]:
            # FastAPI shares these dicts between routes: replace, never mutate.
            responses[status] = {**responses[status], "content": bodies[0]}
