"""`keys`, `tenants` and `rebuild`: operator commands that work on the store directly."""

from __future__ import annotations

import sys
from datetime import datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from stripemeter_server.config import Settings
from stripemeter_server.domain.errors import NotFoundError
from stripemeter_server.domain.metrics import Metric
from stripemeter_server.service import tenancy
from stripemeter_server.service.admission import configure_rate_limit
from stripemeter_server.service.catalog import load_metrics
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.metrics_admin import get_metric
from stripemeter_server.service.rebuild import RebuildReport, rebuild_requested
from stripemeter_server.storage.unit_of_work import Store, UnitOfWork

keys = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
tenants = typer.Typer(help="Create and list tenants.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
    app.add_typer(tenants, name="tenants")
    app.command("rebuild")(rebuild)


def _store() -> Store:
    settings = Settings()
    store = Store(settings.database_url, actor="cli")  # the audit log's "who"
    store.migrate()
    return store


@tenants.command("create")
def tenants_create(
    tenant: str = typer.Argument(..., help="Tenant id (letters, digits, '_', '-', '.')."),
    name: str | None = typer.Option(None, help="A display name."),
    auto_create_metrics: bool = typer.Option(
        False, help="Create a sum monthly metric for events of an unknown metric."
    ),
) -> None:
    """Create a tenant."""
    store = _store()
    with store.unit_of_work() as uow:
        tenancy.create_tenant(
            uow, tenant, name=name, auto_create_metrics=auto_create_metrics, now=SystemClock().now()
        )
        uow.commit()
    typer.echo(f"created tenant {tenant}")


@tenants.command("list")
def tenants_list() -> None:
    """List tenants."""
    with _store().unit_of_work(read_only=True) as uow:
        for record in uow.tenants.list():
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
    store = _store()
    with store.unit_of_work(tenant) as uow:
        if uow.tenants.get(tenant) is None:
            typer.echo(f"error: no tenant {tenant!r}", err=True)
            raise typer.Exit(2)
        configure_rate_limit(uow, rate, burst, SystemClock().now())
        uow.commit()
    typer.echo(f"rate limit of {tenant}: " + ("defaults" if default else
                                              f"rate={rate} burst={burst}"))


@keys.command("create")
def keys_create(
    tenant: str = typer.Option(..., help="Tenant id."),
    scopes: str = typer.Option("ingest,read", help="Comma-separated scopes."),
    label: str | None = typer.Option(None, help="A note to recognise the key by."),
    create_tenant: bool = typer.Option(False, help="Create the tenant if missing."),
) -> None:
    """Create an API key; the secret is printed once."""
    store = _store()
    now = SystemClock().now()
    with store.unit_of_work() as uow:
        if create_tenant and uow.tenants.get(tenant) is None:
            tenancy.create_tenant(uow, tenant, name=None, auto_create_metrics=False, now=now)
        issued = tenancy.issue_key(uow, tenant, tenancy.parse_scopes(scopes), label=label, now=now)
        uow.commit()
    typer.echo(f"{issued.record.key_id}\t{issued.secret}")


@keys.command("list")
def keys_list(tenant: str | None = typer.Option(None, help="Only this tenant.")) -> None:
    """List API keys (never their secrets)."""
    with _store().unit_of_work(read_only=True) as uow:
        for record in uow.api_keys.list(tenant):
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
    store = _store()
    with store.unit_of_work() as uow:
        tenancy.revoke_key(uow, tenant, key_id, SystemClock().now())
        uow.commit()
    typer.echo(f"revoked {key_id}")


def rebuild(
    tenant: str = typer.Option("default", help="Tenant id."),
    metric: str | None = typer.Option(None, help="Only this metric."),
    customer: str | None = typer.Option(None, help="Only this customer."),
) -> None:
    """Recompute counters from the ledger (progress bar in a terminal, lines in CI)."""
    store = _store()
    now = SystemClock().now()
    console = Console(stderr=True)
    with store.unit_of_work(tenant) as uow:
        if uow.tenants.get(tenant) is None:
            raise NotFoundError(f"tenant {tenant!r} does not exist", code="tenant_not_found")
        chosen = [get_metric(uow, metric)] if metric else list(load_metrics(uow).values())
        for item in chosen:
            report = _rebuild_one(uow, item, customer, now, console)
            typer.echo(
                f"rebuilt {report.metric}: {report.events} events, "
                f"{report.counters} counters, {report.skipped} skipped"
            )
        uow.commit()


def _rebuild_one(uow: UnitOfWork, metric: Metric, customer: str | None, now: datetime,
                 console: Console) -> RebuildReport:
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
