"""`serve` and `migrate`: start the API on the configured store."""

from __future__ import annotations

import typer
from rich.console import Console

from stripemeter_server.api.settings import Settings
from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.service.tenancy import authenticate, bootstrap


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
        False, "--with-worker",
        help="Also deliver alert webhooks and push usage to Stripe in this process.",
    ),
    push_worker: bool | None = typer.Option(
        None, "--push-worker/--no-push-worker",
        help="Push usage to Stripe in this process (default: on for the embedded SQLite "
        "store, off on PostgreSQL; STRIPEMETER_PUSH_WORKER).",
    ),
    workers: int = typer.Option(
        1, help="HTTP worker processes (each runs its own group-commit writers)."
    ),
) -> None:
    """Migrate (embedded store), bootstrap on an empty database, and serve the HTTP API."""
    import uvicorn

    from stripemeter_server.api.app import build_context, create_app

    settings = Settings()
    host, port = host or settings.host, port or settings.port
    ctx = build_context(settings)
    if settings.auto_migrate or ctx.store.dialect == "sqlite":
        ctx.store.migrate()
    try:
        with ctx.store.unit_of_work() as uow:
            issued = bootstrap(uow, ctx.clock.now(), settings.bootstrap_key)
            uow.commit()
    except StripemeterError as exc:
        typer.echo(f"error: {exc.message} (STRIPEMETER_BOOTSTRAP_KEY)", err=True)
        raise typer.Exit(2) from None
    key = issued.secret if issued else _known_key(ctx, settings.bootstrap_key)
    _print_welcome(host, port, key, settings.database_url)
    if workers > 1:
        ctx.store.close()
        uvicorn.run(
            "stripemeter_server.api.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
            workers=workers,
        )
        return
    app = create_app(settings, context=ctx)
    pushing = _pushes_here(push_worker, settings, ctx.store.dialect, with_worker)
    if with_worker or pushing:  # the embedded store: one process does everything
        from stripemeter_server.cli.worker_cmds import start_in_background

        start_in_background(ctx.store, ctx.clock, alerts=with_worker,
                            push=ctx if pushing else None, settings=settings)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)


def _pushes_here(flag: bool | None, settings: Settings, dialect: str, with_worker: bool) -> bool:
    """The flag, else the setting, else: on with ``--with-worker`` or on the SQLite store."""
    if flag is not None:
        return flag
    if settings.push_worker is not None:
        return settings.push_worker
    return with_worker or dialect == "sqlite"


def _known_key(ctx: object, candidate: str | None) -> str | None:
    if not candidate:
        return None
    from stripemeter_server.service.context import ServiceContext

    assert isinstance(ctx, ServiceContext)
    try:
        with ctx.store.unit_of_work(read_only=True) as uow:
            authenticate(uow, candidate)
        return candidate
    except Exception:
        return None


def _print_welcome(host: str, port: int, key: str | None, database_url: str) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    base = f"http://{host}:{port}"
    console.print(f"[bold]stripemeter[/bold] on {base}  (store: {database_url})")
    console.print(f"API docs: {base}/docs")
    if key is None:
        console.print(
            "Use the admin key printed on first start, or create one with "
            "`stripemeter keys create --tenant default --scopes ingest,read,admin`."
        )
        return
    console.print(f"API key (tenant 'default', scopes ingest,read,admin): {key}")
    console.print("Try it:")
    console.print(
        f"  curl -s -X POST {base}/v1/events/ingest -H 'Authorization: Bearer {key}' "
        "-H 'Content-Type: application/json' "
        """-d '{"events":[{"metric":"api_calls","customerRef":"cus_ABC123","quantity":100}]}'"""
    )
    console.print(
        f"  curl -s '{base}/v1/usage/current?customerRef=cus_ABC123' "
        f"-H 'Authorization: Bearer {key}'"
    )


def migrate() -> None:
    """Apply schema migrations to STRIPEMETER_DATABASE_URL."""
    from stripemeter_server.storage.unit_of_work import Store

    settings = Settings()
    store = Store(settings.database_url)
    store.migrate()
    typer.echo(f"migrated {settings.database_url}")
    store.close()
