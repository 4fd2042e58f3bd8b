"""How to call each route whose JSON answer is checked against its declared schema and that
is not a wire-format case (reads, and writes without a body): the state it needs, its path.

A ``body`` of ``"example"`` sends the example the document carries; ``None`` sends none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.integration.api.conftest import Api
from tests.integration.api.wire_cases import Prepare, fixed, mapped, ok


@dataclass(frozen=True)
class Call:
    prepare: Prepare
    body: object = None
    key: Callable[[Api], str] | None = None
    media_type: str = "application/json"


def run(api: Api) -> str:
    mapped(api)
    made = ok(api.post("/v1/reconciliation/runs", {}))
    return f"/v1/reconciliation/runs/{made['id']}"


CALLS: dict[str, Call] = {
    "GET /v1/reconciliation/runs": Call(lambda api: run(api) and "/v1/reconciliation/runs"),
    "GET /v1/reconciliation/runs/{run_id}": Call(run),
    "GET /v1/reconciliation/settings": Call(fixed("/v1/reconciliation/settings")),
    "GET /v1/reconciliation/invoices": Call(fixed("/v1/reconciliation/invoices")),
}
