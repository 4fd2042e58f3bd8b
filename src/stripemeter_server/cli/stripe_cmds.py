"""`stripe …`: operator commands against the tenant's Stripe account."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from stripemeter_server.config import Settings
from stripemeter_server.service.stripe_sync.meters import REFUSED, sync_tenant_meters

stripe_app = typer.Typer(help="Work with the tenant's Stripe account.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(stripe_app, name="stripe")


@stripe_app.command("sync-meters")
def sync_meters_cmd(
    tenant: str = typer.Option("default", help="Tenant whose mappings to sync."),
    check: bool = typer.Option(False, "--check", help="Only check; create nothing."),
) -> None:
    """Create or check the Stripe meter of every meter_events mapping.

    Exits 1 when a mapping is refused (its meter cannot hold what the pusher sends) or the
    tenant, its Stripe account or Stripe itself is not there.
    """
    from stripemeter_server.api.app import build_context, close_context

    ctx = build_context(Settings())
    console = Console(highlight=False)
    try:  # an error is the root group's to report (cli/tool.py): one line, exit 1
        ctx.store.migrate()
        checks = sync_tenant_meters(ctx, tenant, create=not check)
    finally:
        close_context(ctx)
    table = Table("metric", "event name", "formula", "status", "meter", "reason")
    for c in checks:
        table.add_row(c.metric, c.event_name, c.formula, c.status, c.meter_id or "", c.reason or "")
    console.print(table if checks else "no meter_events mappings")
    if any(c.status == REFUSED for c in checks):
        raise typer.Exit(1)
