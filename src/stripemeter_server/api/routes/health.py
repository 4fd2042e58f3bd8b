"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.deps import AppState, app_state

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


READY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "A check failed (the body says which)",
        "content": {"application/json": {}},
    }
}


@router.get(
    "/health/ready",
    summary="Database reachable and migrations applied",
    responses=READY_RESPONSES,
)
async def ready(state: AppState = Depends(app_state)) -> JSONResponse:
    checks = await run_in_threadpool(state.ctx.store.readiness)
    ok = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(state: AppState = Depends(app_state)) -> Response:
    return Response(generate_latest(state.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
