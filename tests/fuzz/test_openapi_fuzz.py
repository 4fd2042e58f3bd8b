"""Schema fuzzing: every operation of the OpenAPI document, against the in-process app on
SQLite with an admin key. No input may produce a 5xx, and every response — status code,
content type and body — must be what the document says (that is why every route documents
its problem responses). Bounded by ``max_examples``, not by time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stripemeter_server.api.app import create_app
from stripemeter_server.config import Settings
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import FrozenClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store
from tests.conftest import NOW

ADMIN_KEY = "smk_fuzz_admin_key_000001"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The stream never ends by itself unless asked to; the fuzzer reads whole responses.
STREAM_PARAMS = {"once": "true"}
MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    clock = FrozenClock(NOW)
    with store.unit_of_work() as uow:
        bootstrap(uow, clock.now(), ADMIN_KEY, auto_create_metrics=True)
        uow.commit()
    context = ServiceContext(store=store, clock=clock, limits=EventLimits())
    app = create_app(Settings(database_url=store.url), context=context)
    yield app
    store.close()


def _fuzz(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        if case.path == "/v1/alerts/stream":
            case.query = {**(case.query or {}), **STREAM_PARAMS}
        case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=CHECKS)

    run()


# Every operation in one test (bounded by examples, not time): on a loaded 2-core machine it
# can outlast the suite's default per-test timeout, which would be a timing failure, not a
# finding.
@pytest.mark.timeout(1800)
def test_no_input_gives_a_5xx_or_an_undocumented_answer(fuzz_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode)
            except Unsatisfiable:
                continue  # nothing in this operation's schema can be made invalid
            except Exception as exc:  # collect every operation's failure, then report all
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
