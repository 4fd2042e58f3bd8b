"""`reconcile`: one reconciliation run, synchronously, so it can gate a billing job.

It runs in this process (claimed through the database like any run, so a worker never runs
it twice), shows progress (a bar in a terminal, plain lines otherwise), prints the lines that
need attention and the counts per status, and exits 1 while unrepaired drift remains (2 when
the run could not be made).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from stripemeter_server.config import Settings, reconcile_policy
from stripemeter_server.domain.decimals import to_plain_string
from stripemeter_server.domain.errors import StripemeterError
from stripemeter_server.domain.timestamps import format_timestamp, from_micros
from stripemeter_server.service.operations import tenancy
from stripemeter_server.service.reconciliation.engine import execute
from stripemeter_server.service.reconciliation.plan import scope_of
from stripemeter_server.service.reconciliation.ports import LineRecord
from stripemeter_server.service.reconciliation.runs import lines_needing_attention, start_run
from stripemeter_server.service.runner import run_use_case

ATTENTION_SHOWN = 200


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile)


def _progress(console: Console) -> tuple[Callable[[int, int | None], None], Callable[[], None]]:
    if console.is_terminal:
        bar = Progress(
            TextColumn("reconciling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("customers"),
            console=console,
            transient=True,
        )
        task = bar.add_task("run", total=None)
        bar.start()

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        return update, bar.stop

    def plain(done: int, total: int | None) -> None:
        typer.echo(f"reconciled {done}/{total if total is not None else '?'} customers")

    return plain, lambda: None


def reconcile(
    tenant: str = typer.Option("default", help="Tenant to reconcile."),
    period: str | None = typer.Option(
        None,
        help="YYYY-MM (periods starting that month) or "
        "an RFC 3339 instant; default: current and just ended.",
    ),
    metric: str | None = typer.Option(None, help="Only this metric."),
    customer: str | None = typer.Option(None, help="Only this customerRef."),
    repair: bool = typer.Option(False, "--repair", help="Push / correct what drifted."),
) -> None:
    """Compare the ledger with Stripe; exit 1 on unrepaired drift."""
    from stripemeter_server.api.app import build_context, close_context

    settings = Settings()
    ctx = build_context(settings)
    console = Console(highlight=False)
    try:
        if settings.auto_migrate or ctx.store.dialect == "sqlite":
            ctx.store.migrate()
        scope = scope_of(metric, customer, period)
        now = ctx.clock.now()
        if not run_use_case(
            ctx.store, tenant, lambda uow: tenancy.tenant_exists(uow, tenant), read_only=True
        ):
            raise typer.BadParameter(f"tenant {tenant!r} does not exist", param_hint="--tenant")
        run = run_use_case(
            ctx.store, tenant, lambda uow: start_run(uow, scope, repair, now, trigger="cli")
        )
        update, stop = _progress(console)
        try:
            done = execute(ctx, tenant, run.run_id, reconcile_policy(settings), update)
        finally:
            stop()
        lines, unresolved = run_use_case(
            ctx.store,
            tenant,
            lambda uow: lines_needing_attention(uow, run.run_id, ATTENTION_SHOWN),
            read_only=True,
        )
    except StripemeterError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        close_context(ctx)
    if done is None or done.status != "done":
        why = f"{done.status}: {done.error}" if done else "is held by another process"
        typer.echo(f"error: run {run.run_id} {why}", err=True)
        raise typer.Exit(2)
    _print(console, run.run_id, lines, json.loads(done.summary or "{}"), unresolved)
    if unresolved:
        raise typer.Exit(1)


def _cells(line: LineRecord) -> tuple[str, ...]:
    """A line as the table shows it: exact decimals, RFC 3339 times, blanks for nothing."""
    money = None if line.money_at_stake is None else format(line.money_at_stake, "f")
    return (
        line.customer_ref,
        line.metric,
        format_timestamp(from_micros(line.period_start_us)),
        "" if line.local_value is None else to_plain_string(line.local_value),
        "" if line.stripe_value is None else to_plain_string(line.stripe_value),
        "" if line.absolute_drift is None else to_plain_string(line.absolute_drift),
        " ".join(x for x in (money, line.currency) if x),
        line.status,
        line.action or "",
        line.status_after or "",
    )


def _print(
    console: Console, run_id: str, lines: list[LineRecord], summary: dict[str, Any], unresolved: int
) -> None:
    if lines:
        table = Table(
            "customer",
            "metric",
            "period start",
            "local",
            "stripe",
            "drift",
            "money",
            "status",
            "action",
            "after",
        )
        for line in lines:
            table.add_row(*_cells(line))
        console.print(table)
    counts = ", ".join(f"{n} {s}" for s, n in sorted((summary.get("counts") or {}).items()))
    console.print(f"run {run_id}: {counts or 'nothing to compare'}; {unresolved} need attention")
    sys.stdout.flush()
