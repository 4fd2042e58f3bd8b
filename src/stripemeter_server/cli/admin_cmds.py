"""`keys`, `tenants` and `rebuild`: operator commands that work on the store directly."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from stripemeter_server.config import Settings
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.service.catalog.definitions import load_metrics
from stripemeter_server.service.catalog.metrics import get_metric
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.corrections.rebuild import RebuildReport, rebuild_requested
from stripemeter_server.service.operations import tenancy
from stripemeter_server.service.operations.admission import configure_rate_limit
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.storage.unit_of_work import Store

T = TypeVar("T")

keys = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
tenants = typer.Typer(help="Create and list tenants.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
    app.add_typer(tenants, name="tenants")
    app.command("rebuild")(rebuild)


def _run(tenant: str, use_case: Callable[[UnitOfWork], T], *, read_only: bool = False) -> T:
    """One use case on a store opened for it and closed after it: the command's database
    connections are closed by the command, not left to the garbage collector."""
    store = Store(Settings().database_url, actor="cli")  # the audit log's "who"
    try:
        store.migrate()
        return run_use_case(store, tenant, use_case, read_only=read_only)
    finally:
        store.close()


@tenants.command("create")
def tenants_create(
    tenant: str = typer.Argument(..., help="Tenant id (letters, digits, '_', '-', '.')."),
    name: str | None = typer.Option(None, help="A display name."),
    auto_create_metrics: bool = typer.Option(
        False, help="Create a sum monthly metric for events of an unknown metric."
    ),
) -> None:
    """Create a tenant."""
    now = SystemClock().now()
    _run(
        "",
        lambda uow: tenancy.create_tenant(
            uow, tenant, name=name, auto_create_metrics=auto_create_metrics, now=now
        ),
    )
    typer.echo(f"created tenant {tenant}")


@tenants.command("list")
def tenants_list() -> None:
    """List tenants."""
    for record in _run("", tenancy.list_tenants, read_only=True):
        typer.echo(f"{record.tenant_id}\tautoCreateMetrics={record.auto_create_metrics}")


@tenants.command("rate-limit")
def tenants_rate_limit(
    tenant: str = typer.Argument(...),
    rate: float | None = typer.Option(None, help="Requests per second (0: unlimited)."),
    burst: float | None = typer.Option(None, help="Bucket size (requests at once)."),
    default: bool = typer.Option(False, "--default", help="Back to the deployment's defaults."),
) -> None:
    """Set a tenant's rate limit (a token bucket shared by every node)."""
    if default == (rate is not None or burst is not None):
        typer.echo("error: give --rate/--burst, or --default", err=True)
        raise typer.Exit(2)
    now = SystemClock().now()

    def configure(uow: UnitOfWork) -> bool:
        if not tenancy.tenant_exists(uow, tenant):
            return False
        configure_rate_limit(uow, rate, burst, now)
        return True

    if not _run(tenant, configure):
        typer.echo(f"error: no tenant {tenant!r}", err=True)
        raise typer.Exit(2)
    typer.echo(
        f"rate limit of {tenant}: " + ("defaults" if default else f"rate={rate} burst={burst}")
    )


@keys.command("create")
def keys_create(
    tenant: str = typer.Option(..., help="Tenant id."),
    scopes: str = typer.Option("ingest,read", help="Comma-separated scopes."),
    label: str | None = typer.Option(None, help="A note to recognise the key by."),
    create_tenant: bool = typer.Option(False, help="Create the tenant if missing."),
) -> None:
    """Create an API key; the secret is printed once."""
    now = SystemClock().now()
    wanted = tenancy.parse_scopes(scopes)

    def issue(uow: UnitOfWork) -> tenancy.IssuedKey:
        if create_tenant and not tenancy.tenant_exists(uow, tenant):
            tenancy.create_tenant(uow, tenant, name=None, auto_create_metrics=False, now=now)
        return tenancy.issue_key(uow, tenant, wanted, label=label, now=now)

    issued = _run("", issue)
    typer.echo(f"{issued.record.key_id}\t{issued.secret}")


@keys.command("list")
def keys_list(tenant: str | None = typer.Option(None, help="Only this tenant.")) -> None:
    """List API keys (never their secrets)."""
    found = _run("", lambda uow: tenancy.list_keys(uow, tenant), read_only=True)
    for record in found:
        state = "revoked" if record.revoked_us else "active"
        typer.echo(
            f"{record.tenant_id}\t{record.key_id}\t{record.prefix}…\t"
            f"{','.join(sorted(record.scopes))}\t{state}"
        )


@keys.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key's id (key_...), as `keys list` shows it."),
    tenant: str = typer.Option(..., help="Tenant id."),
) -> None:
    """Revoke an API key."""
    now = SystemClock().now()
    _run("", lambda uow: tenancy.revoke_key(uow, tenant, key_id, now))
    typer.echo(f"revoked {key_id}")


def rebuild(
    tenant: str = typer.Option("default", help="Tenant id."),
    metric: str | None = typer.Option(None, help="Only this metric."),
    customer: str | None = typer.Option(None, help="Only this customer."),
) -> None:
    """Recompute counters from the ledger (progress bar in a terminal, lines in CI)."""
    now = SystemClock().now()
    console = Console(stderr=True)

    def rebuild_all(uow: UnitOfWork) -> list[RebuildReport]:
        tenancy.get_tenant(uow, tenant)
        chosen = [get_metric(uow, metric)] if metric else list(load_metrics(uow).values())
        return [_rebuild_one(uow, item, customer, now, console) for item in chosen]

    for report in _run(tenant, rebuild_all):
        typer.echo(
            f"rebuilt {report.metric}: {report.events} events, "
            f"{report.counters} counters, {report.skipped} skipped"
        )


def _rebuild_one(
    uow: UnitOfWork, metric: Metric, customer: str | None, now: datetime, console: Console
) -> RebuildReport:
    if not sys.stderr.isatty():

        def progress_line(done: int) -> None:
            print(f"rebuild {metric.code}: {done} events", file=sys.stderr, flush=True)

        return rebuild_requested(
            uow, metric, customer_ref=customer, now=now, progress=progress_line
        )
    with Progress(
        TextColumn(f"rebuild {metric.code}"),
        BarColumn(),
        TextColumn("{task.completed} events"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("rebuild", total=None)
        return rebuild_requested(
            uow,
            metric,
            customer_ref=customer,
            now=now,
            progress=lambda done: bar.update(task, completed=done),
        )
