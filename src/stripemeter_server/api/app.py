"""The FastAPI application factory: settings in, app out (nothing read at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI

from stripemeter_server import __version__
from stripemeter_server.api.deps import AppState
from stripemeter_server.api.errors import install_error_handlers
from stripemeter_server.api.fast_dispatch import install_fast_dispatch
from stripemeter_server.api.guard import BodyLimitMiddleware, guard_request
from stripemeter_server.api.hot_ingest import HotIngest, StripemeterApp
from stripemeter_server.api.hot_reads import HotReads
from stripemeter_server.api.middleware import RequestContextMiddleware
from stripemeter_server.api.openapi import PROBLEM_RESPONSES, install_openapi
from stripemeter_server.api.routes import (
    alerts,
    credits,
    invoicing,
    reconciliation,
    upcoming_invoice,
    usage,
)
from stripemeter_server.api.routes.catalog import metrics, prices
from stripemeter_server.api.routes.corrections import (
    adjustments,
    approvals,
    backfills,
    rebuilds,
    voids,
)
from stripemeter_server.api.routes.entitlements import access as entitlement_access
from stripemeter_server.api.routes.entitlements import features as entitlement_features
from stripemeter_server.api.routes.entitlements import reservations as entitlement_holds
from stripemeter_server.api.routes.ingest import cloudevents, events
from stripemeter_server.api.routes.operations import admin, audit, health
from stripemeter_server.api.routes.portal import page as portal_page
from stripemeter_server.api.routes.portal import reads as portal_reads
from stripemeter_server.api.routes.portal import tokens as portal_tokens
from stripemeter_server.api.routes.portal.cors import PortalCorsMiddleware
from stripemeter_server.api.routes.reconciliation_gauges import ReconciliationCollector
from stripemeter_server.api.routes.stripe_sync import config as stripe_config
from stripemeter_server.api.routes.stripe_sync import pushes
from stripemeter_server.api.telemetry import Telemetry
from stripemeter_server.api.ui import install_ui
from stripemeter_server.config import Settings
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.domain.token_bucket import BucketLimits
from stripemeter_server.service.clock import Clock, SystemClock
from stripemeter_server.service.context import ServiceContext, StripeAccess
from stripemeter_server.service.ingest.group_commit import GroupCommitter
from stripemeter_server.service.ports.stripe import StripeCredentials
from stripemeter_server.service.stripe_sync.accounts import AccountPolicy
from stripemeter_server.storage.secret_box import SecretBox, embedded_key_file
from stripemeter_server.storage.unit_of_work import Store
from stripemeter_server.stripe.gateway import GatewayPool
from stripemeter_server.unimeter.backend import Backend
from stripemeter_server.unimeter.server import UnimeterConfig, UnimeterServer

DESCRIPTION = """Usage metering for usage-based billing on Stripe.

Authenticate with `Authorization: Bearer <key>`. Errors are RFC 9457 problem details.
Quantities and values are exact decimal strings."""


def build_context(
    settings: Settings,
    clock: Clock | None = None,
    *,
    stripe_environment: StripeCredentials | None = None,
) -> ServiceContext:
    """The process's services; ``stripe_environment`` overrides the settings' account
    (``serve`` passes the local emulator's)."""
    store = Store(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
    )
    limits = EventLimits(
        max_meta_bytes=settings.max_meta_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_seconds),
    )
    return ServiceContext(
        store=store,
        clock=clock or SystemClock(),
        limits=limits,
        stripe=stripe_access(settings, stripe_environment),
    )


def close_context(ctx: ServiceContext) -> None:
    """Release what ``build_context`` opened: the store's connections and the kept-alive
    connections of its Stripe gateways (left open, only the garbage collector closes them,
    with a ``ResourceWarning`` each)."""
    ctx.store.close()
    if isinstance(ctx.stripe.factory, GatewayPool):
        ctx.stripe.factory.close()


def stripe_access(settings: Settings, environment: StripeCredentials | None = None) -> StripeAccess:
    """Secrets at rest and Stripe clients, from the settings (read once, here)."""
    keys = settings.secret_key.get_secret_value() if settings.secret_key else None
    if keys is None and settings.database_url.startswith("sqlite:///"):
        keys = embedded_key_file(Path(settings.database_url.removeprefix("sqlite:///")))
    if environment is None and settings.stripe_secret_key is not None:
        webhook = settings.stripe_webhook_secret
        environment = StripeCredentials(
            settings.stripe_secret_key.get_secret_value(),
            webhook.get_secret_value() if webhook else None,
            settings.stripe_api_base,
        )
    hosts = HostAllowList.parse(
        settings.stripe_api_hosts,
        extra=tuple(base for base in (environment.api_base if environment else None,) if base),
    )
    policy = AccountPolicy(
        allowed_hosts=hosts, webhook_grace_seconds=settings.webhook_secret_grace_seconds
    )
    return StripeAccess(
        cipher=SecretBox(keys) if keys else None,
        environment=environment,
        factory=GatewayPool(timeout_seconds=settings.stripe_timeout_seconds, allowed_hosts=hosts),
        policy=policy,
    )


def create_app(
    settings: Settings, *, clock: Clock | None = None, context: ServiceContext | None = None
) -> FastAPI:
    ctx = context or build_context(settings, clock)
    writers = settings.ingest_writers or (1 if ctx.store.dialect == "sqlite" else 2)
    committer = GroupCommitter(ctx, writers=writers, max_events=settings.max_group_events)
    state = AppState(
        settings=settings,
        ctx=ctx,
        telemetry=Telemetry(),
        committer=committer,
        rate_defaults=BucketLimits(settings.rate_limit_per_second, settings.rate_limit_burst),
        shared_buckets=_shared_buckets(ctx.store.dialect, settings),
    )

    unimeter = _unimeter_server(settings, ctx, committer)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ctx.store.start_upkeep()  # WAL checkpoints off the request path (ADR 0930)
        if unimeter is not None:  # same loop, same services, same committer (ADR 0620)
            await unimeter.start()
        yield
        if unimeter is not None:
            await unimeter.stop()
        committer.stop()
        ctx.store.stop_upkeep()
        if context is None:  # what this app built, it releases
            close_context(ctx)

    app = StripemeterApp(
        title="stripemeter",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(guard_request)],  # one input bound for every route (ADR 0006)
        docs_url=None,  # served by install_ui from the vendored Swagger UI (no CDN)
        redoc_url=None,
    )
    app.state.stripemeter = state
    state.telemetry.registry.register(ReconciliationCollector(ctx))
    install_error_handlers(app)
    routers = route_routers()
    for router in routers:
        app.include_router(router, responses=PROBLEM_RESPONSES)
    install_fast_dispatch(app, routers)  # ADR 0883
    install_openapi(app)
    install_ui(app)

    app.add_middleware(PortalCorsMiddleware)  # /portal/v1 only, per tenant (ADR 0911)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, telemetry=state.telemetry)
    app.hot = HotIngest(app, events.router.routes, state.telemetry, settings.max_body_bytes)
    app.reads = HotReads(
        app,
        [r for router in routers for r in router.routes],
        state.telemetry,
        settings.max_body_bytes,
    )

    return app


def route_routers() -> list[APIRouter]:
    """The API's routers, in the order the app includes them (a route declared earlier wins
    a path two routes could match; the fast-path dispatch table relies on that order)."""
    return [
        module.router
        for module in (
            events,
            metrics,
            usage,
            adjustments,
            admin,
            health,
            prices,
            alerts,
            stripe_config,
            invoicing,
            pushes,
            audit,
            reconciliation,
            voids,
            approvals,
            backfills,
            rebuilds,
            cloudevents,
            portal_tokens,
            portal_reads,
            portal_page,
            entitlement_features,
            entitlement_access,
            entitlement_holds,
            credits,
            upcoming_invoice,
        )
    ]


def _unimeter_server(
    settings: Settings, ctx: ServiceContext, committer: GroupCommitter
) -> UnimeterServer | None:
    """The Unimeter wire-protocol listener, when a port is configured (off by default)."""
    if settings.unimeter_port is None:
        return None
    config = UnimeterConfig(
        settings.unimeter_host, settings.unimeter_port, settings.unimeter_tenant
    )
    return UnimeterServer(Backend(ctx, committer, settings.unimeter_tenant), config)


def _shared_buckets(dialect: str, settings: Settings) -> bool:
    """One bucket row per tenant in the database wherever more than one process may serve:
    always on PostgreSQL (nodes), on SQLite under ``serve --workers N``."""
    return dialect == "postgresql" or settings.http_processes > 1


def app_from_environment() -> FastAPI:
    """Factory for multi-process serving: each worker process reads the settings once."""
    return create_app(Settings())
