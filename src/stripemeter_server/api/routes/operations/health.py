"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import Metric
from starlette.concurrency import run_in_threadpool

from stripemeter_server.api.deps import AppState, app_state
from stripemeter_server.api.schemas import operations as operations_wire
from stripemeter_server.api.telemetry import gauge
from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations.health import (
    LoopHealth,
    open_periods_and_beats,
    parse_loops,
    worker_health,
)
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.stripe_sync.pushes import PushHealth, current_push_health

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="The process is up", responses=operations_wire.LIVE_ANSWER)
async def live() -> dict[str, Any]:
    return operations_wire.live_view()


def _pushes(state: AppState) -> PushHealth | None:
    """Push lag and parked pushes across tenants (None when the store cannot say)."""
    now = state.ctx.clock.now()
    try:
        return run_use_case(
            state.ctx.store, "", lambda uow: current_push_health(uow, now), read_only=True
        )
    except StripemeterError:
        return None


def _workers(state: AppState) -> tuple[bool, dict[str, LoopHealth]]:
    settings = state.settings
    now, required = state.ctx.clock.now(), parse_loops(settings.ready_workers)
    try:
        return run_use_case(
            state.ctx.store,
            "",
            lambda uow: worker_health(uow, now, required, settings.worker_stale_seconds),
            read_only=True,
        )
    except StripemeterError:
        return False, {}


@router.get(
    "/health/ready",
    summary="Database reachable, migrations applied, background loops beating",
    responses=operations_wire.READY_ANSWER,
)
async def ready(state: AppState = Depends(app_state)) -> JSONResponse:
    """Not ready when the database is unreachable or not migrated, or a background loop
    stopped beating (``workers`` says which; ``failed`` lists the failed checks). Push lag
    and parked pushes are reported (``pushes``) but never make a node unready: taking API
    nodes out of rotation cannot fix a Stripe outage or a missing meter. They make a ready
    node ``degraded`` (still 200), so a push Stripe refused is visible on every probe."""
    checks = await run_in_threadpool(state.ctx.store.readiness)
    pushes = workers = None
    if checks.get("migrations"):
        pushes = await run_in_threadpool(_pushes, state)
        checks["workers"], workers = await run_in_threadpool(_workers, state)
    ok = all(checks.values())
    degraded = ["pushes_failed"] if pushes is not None and pushes.failed else []
    status = "unavailable" if not ok else "degraded" if degraded else "ok"
    return JSONResponse(
        operations_wire.ready_view(status, checks, degraded, workers, pushes),
        status_code=200 if ok else 503,
    )


def _state_gauges(state: AppState) -> list[Metric]:
    """Gauges read from the database for this scrape (none when it cannot be read)."""
    pushes = _pushes(state)
    found: list[Metric] = []
    if pushes is not None:
        found += [
            gauge(
                "stripemeter_push_lag_seconds",
                "Age of the oldest pending push to Stripe (0 when none is pending)",
                pushes.lag_seconds,
            ),
            gauge(
                "stripemeter_push_pending", "Pushes to Stripe waiting to be sent", pushes.pending
            ),
            gauge(
                "stripemeter_push_failed",
                "Pushes to Stripe parked as failed (act on GET /v1/pushes?status=failed)",
                pushes.failed,
            ),
        ]
    now = state.ctx.clock.now()
    now_us = to_micros(now)
    try:
        open_periods, beats = run_use_case(
            state.ctx.store, "", lambda uow: open_periods_and_beats(uow, now), read_only=True
        )
    except StripemeterError:
        return found
    found.append(
        gauge(
            "stripemeter_open_periods",
            "Customer billing periods in progress (counters whose period has not "
            "ended), over all tenants",
            open_periods,
        )
    )
    found.append(
        gauge(
            "stripemeter_worker_heartbeat_age_seconds",
            "Seconds since each background loop's freshest heartbeat",
            labels={(loop,): max(0.0, (now_us - beat) / 1e6) for loop, beat in beats.items()},
            label_names=("loop",),
        )
    )
    return found


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(state: AppState = Depends(app_state)) -> Response:
    gauges = await run_in_threadpool(_state_gauges, state)
    body = await run_in_threadpool(state.telemetry.exposition, gauges)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
