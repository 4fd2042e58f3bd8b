"""`export events|usage`: the ledger or per-period usage, as JSON Lines or CSV, for finance
and audits. Read in one read-only transaction (a consistent snapshot)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import typer

from stripemeter_server.api.schemas.ingest import event_json
from stripemeter_server.api.serialize import dec, parse_time_param, ts
from stripemeter_server.cli.records import write_rows
from stripemeter_server.config import Settings
from stripemeter_server.domain.errors import NotFoundError, ValidationError
from stripemeter_server.domain.periods import Period
from stripemeter_server.domain.queries import EventFilter
from stripemeter_server.domain.timestamps import from_micros, to_micros
from stripemeter_server.service.catalog.definitions import is_closed, load_metrics
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.ports.unit_of_work import UnitOfWork
from stripemeter_server.storage.unit_of_work import Store

EVENT_COLUMNS = (
    "idempotencyKey",
    "metric",
    "customerRef",
    "quantity",
    "ts",
    "receivedAt",
    "resourceId",
    "meta",
    "late",
    "lateAfterClose",
    "voided",
    "voidedAt",
    "backfillId",
)
USAGE_COLUMNS = (
    "metric",
    "customerRef",
    "periodStart",
    "periodEnd",
    "status",
    "value",
    "eventCount",
    "adjustments",
)

export_app = typer.Typer(
    help="Export events or per-period usage (JSON Lines or CSV).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

TENANT = typer.Option("default", help="Tenant to export.")
METRIC = typer.Option(None, help="Only this metric.")
CUSTOMER = typer.Option(None, help="Only this customerRef.")
SINCE = typer.Option(None, "--from", help="From this time (RFC 3339, inclusive).")
UNTIL = typer.Option(None, "--to", help="Up to this time (RFC 3339, exclusive).")
FORMAT = typer.Option("jsonl", "--format", help="jsonl or csv.")
OUTPUT = typer.Option(None, help="Output file (default: standard output).")


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")


@export_app.command("events")
def export_events(
    tenant: str = TENANT,
    metric: str | None = METRIC,
    customer: str | None = CUSTOMER,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Every event of the ledger (void ones too, marked), in ledger order."""
    start, end = parse_time_param(since, "--from"), parse_time_param(until, "--to")
    flt = EventFilter(
        metric=metric,
        customer_ref=customer,
        ts_from_us=to_micros(start) if start else None,
        ts_to_us=to_micros(end) if end else None,
    )
    with _snapshot(tenant) as uow, _output(output) as out:
        rows = (event_json(e) for e in uow.events.stream(flt))
        written = write_rows(out, rows, _format(fmt), EVENT_COLUMNS)
    typer.echo(f"exported {written} events", err=True)


@export_app.command("usage")
def export_usage(
    tenant: str = TENANT,
    metric: str | None = METRIC,
    customer: str | None = CUSTOMER,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
) -> None:
    """Each customer's value per billing period, with open/closed status."""
    start, end = parse_time_param(since, "--from"), parse_time_param(until, "--to")
    with _snapshot(tenant) as uow, _output(output) as out:
        written = write_rows(
            out, _usage_rows(uow, metric, customer, start, end), _format(fmt), USAGE_COLUMNS
        )
    typer.echo(f"exported {written} periods", err=True)


def _usage_rows(
    uow: UnitOfWork, metric: str | None, customer: str | None, start: Any, end: Any
) -> Iterator[dict[str, Any]]:
    metrics = load_metrics(uow)
    now = SystemClock().now()
    found = uow.counters.find(
        customer_ref=customer,
        metric=metric,
        start_from_us=to_micros(start) if start else None,
        start_before_us=to_micros(end) if end else None,
    )
    locks = uow.period_closes.find_many([c.key for c in found])
    for counter in found:
        definition = metrics.get(counter.metric)
        if definition is None:
            continue
        period = Period(from_micros(counter.period_start_us), from_micros(counter.period_end_us))
        closed = is_closed(definition, period, locks.get(counter.key), now)
        yield {
            "metric": counter.metric,
            "customerRef": counter.customer_ref,
            "periodStart": ts(counter.period_start_us),
            "periodEnd": ts(counter.period_end_us),
            "status": "closed" if closed else "open",
            "value": dec(counter.state.value(definition.aggregation)),
            "eventCount": counter.state.count,
            "adjustments": dec(counter.state.adjustments),
        }


def _format(fmt: str) -> str:
    if fmt not in ("jsonl", "csv"):
        raise ValidationError("--format must be jsonl or csv", code="invalid_format")
    return fmt


@contextmanager
def _snapshot(tenant: str) -> Iterator[UnitOfWork]:
    store = Store(Settings().database_url)
    try:
        store.migrate()
        with store.unit_of_work(tenant, read_only=True) as uow:
            if uow.tenants.get(tenant) is None:
                raise NotFoundError(f"tenant {tenant!r} does not exist", code="tenant_not_found")
            yield uow
    finally:
        store.close()


@contextmanager
def _output(path: Path | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out
