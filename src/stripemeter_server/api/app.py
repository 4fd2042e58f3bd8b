"""The FastAPI application factory: settings in, app out (nothing read at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import Depends, FastAPI

from stripemeter_server import __version__
from stripemeter_server.api.deps import AppState
from stripemeter_server.api.errors import install_error_handlers
from stripemeter_server.api.guard import BodyLimitMiddleware, guard_request
from stripemeter_server.api.middleware import RequestContextMiddleware
from stripemeter_server.api.openapi import PROBLEM_RESPONSES, install_openapi
from stripemeter_server.api.routes import (
    adjustments,
    admin,
    alerts,
    events,
    health,
    metrics,
    prices,
    usage,
)
from stripemeter_server.api.settings import Settings
from stripemeter_server.api.telemetry import Telemetry
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import Clock, SystemClock
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.service.group_commit import GroupCommitter
from stripemeter_server.storage.unit_of_work import Store

DESCRIPTION = """Usage metering for usage-based billing on Stripe.

Authenticate with `Authorization: Bearer <key>`. Errors are RFC 9457 problem details.
Quantities and values are exact decimal strings."""


def build_context(settings: Settings, clock: Clock | None = None) -> ServiceContext:
    store = Store(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
    )
    limits = EventLimits(
        max_meta_bytes=settings.max_meta_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_seconds),
    )
    return ServiceContext(store=store, clock=clock or SystemClock(), limits=limits)


def create_app(
    settings: Settings, *, clock: Clock | None = None, context: ServiceContext | None = None
) -> FastAPI:
    ctx = context or build_context(settings, clock)
    writers = settings.ingest_writers or (1 if ctx.store.dialect == "sqlite" else 2)
    committer = GroupCommitter(ctx, writers=writers, max_events=settings.max_group_events)
    state = AppState(settings=settings, ctx=ctx, telemetry=Telemetry(), committer=committer)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        committer.stop()
        if context is None:
            ctx.store.close()

    app = FastAPI(
        title="stripemeter",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(guard_request)],  # one input bound for every route (ADR 0006)
    )
    app.state.stripemeter = state
    install_error_handlers(app)
    for module in (events, metrics, usage, adjustments, admin, health, prices, alerts):
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    install_openapi(app)

    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, telemetry=state.telemetry)

    return app


def app_from_environment() -> FastAPI:
    """Factory for multi-process serving: each worker process reads the settings once."""
    return create_app(Settings())
