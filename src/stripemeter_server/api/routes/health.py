"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.deps import AppState, app_state
from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.service.pushes import push_health

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


def _pushes(state: AppState) -> dict[str, Any] | None:
    """Push lag and parked pushes across tenants (None when the store cannot say)."""
    try:
        with state.ctx.store.unit_of_work(read_only=True) as uow:
            stats = uow.pushes.stats()
    except StripemeterError:
        return None
    return push_health(stats, state.ctx.clock.now())


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
    """Not ready only when the database is unreachable or not migrated. Push lag and parked
    pushes are reported (``pushes``) but never make a node unready: taking API nodes out of
    rotation cannot fix a Stripe outage or a missing meter, it would only stop ingest."""
    checks = await run_in_threadpool(state.ctx.store.readiness)
    ok = all(checks.values())
    pushes = await run_in_threadpool(_pushes, state) if checks.get("migrations") else None
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks, "pushes": pushes},
        status_code=200 if ok else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(state: AppState = Depends(app_state)) -> Response:
    pushes = await run_in_threadpool(_pushes, state)
    if pushes is not None:
        state.telemetry.push_lag.set(pushes["lagSeconds"])
        state.telemetry.push_pending.set(pushes["pending"])
        state.telemetry.push_failed.set(pushes["failed"])
    return Response(generate_latest(state.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
