"""Schemathesis over every route the emulator serves: an OpenAPI document is generated from
the declared parameter schemas (`schema_for`: honoured, kept, accepted and not-modelled
parameters alike), and schemathesis sends valid and invalid requests built from it to a
live emulator. No input may produce a 5xx. Complements `test_emu_fuzz.py` (which adds odd
values and real ids); bounded by `max_examples`, not by time."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from stripe_emulator import EmulatorServer
from stripe_emulator.params import Arr, Free, Ignored, Legacy, NotModelled, Obj, Spec
from stripe_emulator.schemas import SCHEMAS, schema_for

AUTH = {"Authorization": "Bearer sk_test_schemathesis"}
MAX_EXAMPLES = 8


def _json_schema(spec: Spec, depth: int = 0) -> dict[str, Any]:
    if isinstance(spec, Legacy | Ignored):
        return _json_schema(spec.spec, depth)
    if isinstance(spec, Obj) and depth < 3:
        return {
            "type": "object",
            "properties": {k: _json_schema(v, depth + 1) for k, v in spec.fields.items()},
        }
    if isinstance(spec, Arr) and depth < 3:
        return {"type": "array", "items": _json_schema(spec.item, depth + 1), "maxItems": 3}
    if isinstance(spec, Free | NotModelled | Obj | Arr):
        return {"type": "object", "additionalProperties": {"type": "string", "maxLength": 20}}
    return {"type": "string", "maxLength": 30}


def _operation(method: str, pattern: str) -> dict[str, Any]:
    fields = schema_for(method, pattern).fields
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,30}$"},
        }
        for name in re.findall(r"{(\w+)}", pattern)
    ]
    operation: dict[str, Any] = {
        "operationId": f"{method} {pattern}",
        "responses": {"default": {"description": "any"}},
    }
    if method in ("GET", "DELETE"):
        params += [
            {
                "name": name,
                "in": "query",
                "style": "deepObject",
                "explode": True,
                "schema": _json_schema(spec),
            }
            if isinstance(spec, Obj | Free | NotModelled)
            else {"name": name, "in": "query", "schema": _json_schema(spec)}
            for name, spec in fields.items()
        ]
    else:
        kind = (
            "application/json"
            if pattern.startswith("/v2/")
            else "application/x-www-form-urlencoded"
        )
        operation["requestBody"] = {
            "content": {
                kind: {
                    "schema": {
                        "type": "object",
                        "properties": {k: _json_schema(v) for k, v in fields.items()},
                    }
                }
            }
        }
    operation["parameters"] = params
    return operation


def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, pattern in sorted(SCHEMAS):
        paths.setdefault(pattern, {})[method.lower()] = _operation(method, pattern)
    return {
        "openapi": "3.0.3",
        "info": {"title": "stripe emulator", "version": "1"},
        "paths": paths,
    }


def _fuzz(operation: Any, mode: GenerationMode, base_url: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=AUTH, checks=[not_a_server_error])

    run()


@functools.cache
def _schema() -> Any:
    return schemathesis.openapi.from_dict(_document())


# One test per operation and generation mode (same examples: derandomised), so the two test
# workers share the run instead of one worker holding a minutes-long test.
@pytest.mark.parametrize(
    ("method", "pattern", "mode"),
    [
        (method, pattern, mode)
        for method, pattern in sorted(SCHEMAS)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ],
    ids=lambda value: value.value if isinstance(value, GenerationMode) else value,
)
def test_no_schemathesis_input_gives_a_5xx(
    server: EmulatorServer, method: str, pattern: str, mode: GenerationMode
) -> None:
    operation = _schema()[pattern][method.lower()]
    try:
        _fuzz(operation, mode, server.url)
    except Unsatisfiable:
        return  # nothing in this operation's schema can be made invalid


def test_the_document_covers_every_served_route() -> None:
    document = _document()
    served = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert served == set(SCHEMAS)
