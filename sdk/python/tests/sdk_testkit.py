"""Helpers of the SDK's tests (importable as ``sdk_testkit``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = REPO_ROOT / "tests" / "vectors" / "idempotency.json"


class Recorder:
    """An ``httpx.MockTransport`` handler replaying scripted answers and recording requests."""

    def __init__(self, answers: list[Callable[[httpx.Request], httpx.Response] | Exception]):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer(request)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def ingest_ok(request: httpx.Request) -> httpx.Response:
    """A 200 ingest answer accepting every event of the request."""
    events = json.loads(request.content)["events"]
    results = [
        {"index": i, "idempotencyKey": e.get("idempotencyKey", f"evt_{i}"), "status": "accepted"}
        for i, e in enumerate(events)
    ]
    return httpx.Response(
        200,
        json={
            "accepted": len(events),
            "duplicates": 0,
            "rejected": 0,
            "conflicts": 0,
            "requestId": "req_1",
            "results": results,
        },
    )


def status(
    code: int, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            code, headers=headers, json={"title": "x", "status": code, "code": f"c{code}"}
        )

    return answer
