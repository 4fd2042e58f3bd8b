"""`serve` and `migrate`: start the API on the configured store."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from stripemeter_server.api import logs
from stripemeter_server.api.telemetry import MULTIPROC_ENV
from stripemeter_server.config import Settings
from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.service.operations.health import parse_loops
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.storage.engine import masked_url

if TYPE_CHECKING:
    from stripemeter_server.cli.local_stripe import LocalStripe


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("migrate")(migrate)


def serve(
    host: str | None = typer.Option(
        None, help="Interface (default STRIPEMETER_HOST or 127.0.0.1)."
    ),
    port: int | None = typer.Option(None, help="Port (default STRIPEMETER_PORT or 3000)."),
    access_log: bool = typer.Option(False, help="Log every request."),
    with_worker: bool = typer.Option(
        False,
        "--with-worker",
        help="Also deliver alert webhooks and push usage to Stripe in this process.",
    ),
    push_worker: bool | None = typer.Option(
        None,
        "--push-worker/--no-push-worker",
        help="Push usage to Stripe in this process (default: on for the embedded SQLite "
        "store, off on PostgreSQL; STRIPEMETER_PUSH_WORKER).",
    ),
    workers: int = typer.Option(
        1, help="HTTP worker processes (each runs its own group-commit writers)."
    ),
    unimeter_port: int | None = typer.Option(
        None,
        help="Also speak Unimeter's wire protocol on this port (default "
        "STRIPEMETER_UNIMETER_PORT; off when unset). It has no authentication.",
    ),
    unimeter_host: str | None = typer.Option(
        None,
        help="Interface of the Unimeter port (default STRIPEMETER_UNIMETER_HOST or 127.0.0.1).",
    ),
    unimeter_tenant: str | None = typer.Option(
        None,
        help="The tenant the Unimeter port speaks for (default "
        "STRIPEMETER_UNIMETER_TENANT or 'default').",
    ),
) -> None:
    """Migrate (embedded store), bootstrap on an empty database, and serve the HTTP API."""
    import uvicorn

    from stripemeter_server.api.app import build_context, create_app
    from stripemeter_server.api.protocol import DEFAULT_PROTOCOL

    settings = _with_unimeter(Settings(), unimeter_port, unimeter_host, unimeter_tenant)
    if settings.unimeter_port is not None and workers > 1:
        typer.echo("error: the Unimeter port is served by one process; use --workers 1", err=True)
        raise typer.Exit(2)
    logs.configure(settings.log_format)
    if workers > 1:
        _multiprocess_metrics()
        os.environ["STRIPEMETER_HTTP_PROCESSES"] = str(workers)  # read by every worker
        settings = settings.model_copy(update={"http_processes": workers})
    host, port = host or settings.host, port or settings.port
    local = _local_stripe(settings, host, port, workers)
    ctx = build_context(settings, stripe_environment=local.credentials if local else None)
    if settings.auto_migrate or ctx.store.dialect == "sqlite":
        ctx.store.migrate()
    try:
        now = ctx.clock.now()
        issued = run_use_case(
            ctx.store,
            "",
            lambda uow: bootstrap(
                uow,
                now,
                settings.bootstrap_key,
                auto_create_metrics=settings.default_auto_create_metrics,
            ),
        )
    except StripemeterError as exc:
        typer.echo(f"error: {exc.message} (STRIPEMETER_BOOTSTRAP_KEY)", err=True)
        raise typer.Exit(2) from None
    _print_welcome(host, port, issued.secret if issued else None, settings)
    if local is not None:
        typer.echo(
            f"Stripe: no account configured, so tenant 'default' uses the local Stripe "
            f"emulator at {local.server.url} (state in {_emulator_state(settings)}); "
            "set STRIPEMETER_STRIPE_SECRET_KEY or PUT /v1/stripe/account for real Stripe.",
            err=True,
        )
        if local.port_taken is not None:
            typer.echo(
                f"warning: port {local.port_taken} is held by another process, so the "
                f"local Stripe emulator listens on {local.server.url} instead; point "
                f"your Stripe calls there (STRIPE={local.server.url} for the README's "
                "full loop) or stop that process and restart.",
                err=True,
            )
    pushing = _pushes_here(push_worker, settings, ctx.store.dialect, with_worker)
    if with_worker or pushing:
        # The background loops run once, in this (the supervising) process, also under
        # ``--workers N``: each HTTP worker process only serves requests.
        from stripemeter_server.cli.worker_cmds import loop_names, start_in_background

        start_in_background(ctx, settings, alerts=with_worker, stripe=pushing)
        settings = _require_loops(settings, loop_names(alerts=with_worker, stripe=pushing))
    if workers > 1:
        uvicorn.run(
            "stripemeter_server.api.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
            workers=workers,
            http=DEFAULT_PROTOCOL,
            log_config=logs.log_config(settings.log_format),
            # A worker importing the app on a busy host can take longer than uvicorn's 5 s
            # default to answer its first health check; it is then killed and restarted,
            # over and over, and never serves.
            timeout_worker_healthcheck=60,
        )
        return
    app = create_app(settings, context=ctx)
    settle_startup_objects()
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
            http=DEFAULT_PROTOCOL,
            log_config=logs.log_config(settings.log_format),
        )
    finally:
        if local is not None:
            local.stop()


def settle_startup_objects() -> None:
    """Move what start-up built (modules, the app, the store's statements) out of the
    collector's reach (ADR 0964): a full collection otherwise walks those hundreds of
    thousands of long-lived objects again and again under load, a pause of milliseconds
    on the event loop that serves every request. The process's one place for GC settings."""
    gc.collect()
    gc.freeze()


def _with_unimeter(
    settings: Settings, port: int | None, host: str | None, tenant: str | None
) -> Settings:
    """The command line's Unimeter options over the settings'."""
    changes = {
        name: value
        for name, value in (
            ("unimeter_port", port),
            ("unimeter_host", host),
            ("unimeter_tenant", tenant),
        )
        if value is not None
    }
    return settings.model_copy(update=changes) if changes else settings


def _multiprocess_metrics() -> None:
    """A fresh directory for this run's per-process metric files, set before the HTTP
    processes start (prometheus-client reads it when they import it) and removed on exit,
    so no counts of an earlier run are ever added in."""
    directory = tempfile.mkdtemp(prefix="stripemeter-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


def _require_loops(settings: Settings, loops: list[str]) -> Settings:
    """Readiness also requires the loops this ``serve`` started (in every HTTP process: the
    environment is how ``--workers N`` passes it on)."""
    required = ",".join(sorted(set(parse_loops(settings.ready_workers)) | set(loops)))
    os.environ["STRIPEMETER_READY_WORKERS"] = required
    return settings.model_copy(update={"ready_workers": required})


def _pushes_here(flag: bool | None, settings: Settings, dialect: str, with_worker: bool) -> bool:
    """The flag, else the setting, else: on with ``--with-worker`` or on the SQLite store."""
    if flag is not None:
        return flag
    if settings.push_worker is not None:
        return settings.push_worker
    return with_worker or dialect == "sqlite"


def _local_stripe(settings: Settings, host: str, port: int, workers: int) -> LocalStripe | None:
    """The local emulator, when the embedded store has no Stripe account to use."""
    if (
        settings.local_stripe == "off"
        or settings.stripe_secret_key is not None
        or not settings.database_url.startswith("sqlite:///")
        or workers > 1
    ):
        return None
    from stripemeter_server.cli.local_stripe import start_local_stripe

    return start_local_stripe(
        Path(settings.database_url.removeprefix("sqlite:///")),
        settings.local_stripe_port,
        f"http://{host}:{port}",
    )


def _emulator_state(settings: Settings) -> str:
    return str(Path(settings.database_url.removeprefix("sqlite:///")).parent / "stripe-emulator.db")


def _print_welcome(
    host: str, port: int, new_key: str | None, settings: Settings, now: datetime | None = None
) -> None:
    """The banner. A bootstrap key is printed once, when it is created; on later starts at
    most its prefix (a log collector keeps every start). The store URL is masked."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    base = f"http://{host}:{port}"
    store = masked_url(settings.database_url)
    console.print(f"[bold]stripemeter[/bold] on {base}  (store: {store})")
    console.print(f"API docs: {base}/docs")
    console.print(f"Dashboard: {base}/ui  (sign in with an API key)")
    if settings.unimeter_port is not None:
        console.print(
            f"Unimeter protocol: {settings.unimeter_host}:{settings.unimeter_port} "
            f"(tenant '{settings.unimeter_tenant}', no authentication)"
        )
    if new_key is None:
        hint = f" ({settings.bootstrap_key[:8]}…)" if settings.bootstrap_key else ""
        console.print(
            f"Use the admin key printed on first start{hint}, or create one with "
            "`stripemeter keys create --tenant default --scopes ingest,read,admin`."
        )
        return
    console.print(f"API key (tenant 'default', scopes ingest,read,admin): {new_key}")
    # The example carries a fixed `ts`: running the command again is then a duplicate of the
    # same event (the key is derived from ts), never a second count.
    ts = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    console.print(
        "Try it (export KEY=<the key above>): define the metric, then send usage "
        "(the fixed ts makes a rerun a duplicate)"
    )
    console.print(
        f'  curl -s -X POST {base}/v1/metrics -H "Authorization: Bearer $KEY" '
        "-H 'Content-Type: application/json' "
        """-d '{"code":"api_calls","aggregation":"sum"}'"""
    )
    console.print(
        f'  curl -s -X POST {base}/v1/events/ingest -H "Authorization: Bearer $KEY" '
        "-H 'Content-Type: application/json' "
        """-d '{"events":[{"metric":"api_calls","customerRef":"cus_ABC123","quantity":100,"""
        f""""ts":"{ts}"}}]}}'"""
    )
    console.print(
        f"  curl -s '{base}/v1/usage/current?customerRef=cus_ABC123' "
        '-H "Authorization: Bearer $KEY"'
    )


def migrate() -> None:
    """Apply schema migrations to STRIPEMETER_DATABASE_URL."""
    from stripemeter_server.storage.unit_of_work import Store

    settings = Settings()
    store = Store(settings.database_url)
    store.migrate()
    typer.echo(f"migrated {masked_url(settings.database_url)}")
    store.close()
