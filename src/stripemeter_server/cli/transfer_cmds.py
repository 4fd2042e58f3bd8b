"""`import` and `export`: history in and out of the ledger, as JSON Lines or CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from stripemeter_server.cli import export_cmds
from stripemeter_server.cli.import_progress import ImportProgress
from stripemeter_server.cli.records import Row, binary_input, detect_format, read_rows
from stripemeter_server.config import Settings
from stripemeter_server.domain import json_text
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.ingest.history_import import (
    ImportTally,
    Refusal,
    import_batch,
    unresumable,
)
from stripemeter_server.service.operations import tenancy
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.storage.unit_of_work import Store

MAX_BATCH = 1000


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    export_cmds.register(app)


def import_cmd(
    file: str = typer.Argument(..., help="A .jsonl or .csv file of events, or - for stdin."),
    tenant: str = typer.Option("default", help="Tenant the events belong to."),
    backfill: str | None = typer.Option(
        None, help="Import inside this open backfill session (its id, bf_...)."
    ),
    fmt: str = typer.Option("auto", "--format", help="auto (by file name), jsonl or csv."),
    batch_size: int = typer.Option(1000, help="Events per transaction (1..1000)."),
    rejects: Path | None = typer.Option(
        None, help="Where refused lines go (default: FILE.rejects.jsonl)."
    ),
) -> None:
    """Import events through the ingest path: batched, resumable, with a rejects file.

    Re-running after a crash counts nothing twice (every row needs ts or idempotencyKey).
    A line over 64 KiB, not UTF-8 or nested over 32 deep is refused alone. Exits 1 when
    some lines were refused.
    """
    if fmt not in ("auto", "jsonl", "csv") or not 1 <= batch_size <= MAX_BATCH:
        raise ValidationError("--format must be auto, jsonl or csv; --batch-size 1..1000")
    source = binary_input(file)  # a missing file or a directory: one line, before anything
    store = Store(Settings().database_url)
    store.migrate()
    _check_tenant(store, tenant)
    default = Path("import.rejects.jsonl") if file == "-" else Path(file + ".rejects.jsonl")
    rejects_path = rejects or default
    tally = ImportTally()
    with source as stream, ImportProgress(file, sys.stderr.isatty()) as progress:
        batch: list[Row] = []
        for row in read_rows(stream, detect_format(file, fmt)):
            batch.append(row)
            if len(batch) >= batch_size:
                _flush(store, tenant, batch, backfill, tally, progress)
                batch = []
        _flush(store, tenant, batch, backfill, tally, progress)
    store.close()
    _write_rejects(rejects_path, tally.refused)
    typer.echo(
        f"imported {file}: {tally.lines} lines, {tally.accepted} accepted, "
        f"{tally.duplicates} duplicates, {len(tally.refused)} rejected"
        + (f" (see {rejects_path})" if tally.refused else "")
    )
    if tally.refused:
        raise typer.Exit(1)


def _flush(
    store: Store,
    tenant: str,
    batch: list[Row],
    backfill: str | None,
    tally: ImportTally,
    progress: ImportProgress,
) -> None:
    lines, events = [], []
    for row in batch:
        if row.event is None:
            tally.lines += 1
            tally.refused.append(Refusal(row.line, "invalid_line", row.error or "unreadable"))
        elif unresumable(row.event):
            tally.lines += 1
            tally.refused.append(
                Refusal(
                    row.line,
                    "missing_ts",
                    "an imported event needs ts (or idempotencyKey) so "
                    "that a re-run counts it once",
                    "ts",
                )
            )
        else:
            lines.append(row.line)
            events.append({**row.event, "backfillId": backfill} if backfill else row.event)
    if events:
        import_batch(
            store,
            tenant,
            lines,
            events,
            now=SystemClock().now(),
            limits=EventLimits(),
            actor="import",
            tally=tally,
        )
    progress.update(tally)


def _check_tenant(store: Store, tenant: str) -> None:
    run_use_case(store, "", lambda uow: tenancy.get_tenant(uow, tenant), read_only=True)


def _write_rejects(path: Path, refused: list[Refusal]) -> None:
    if not refused:
        return
    with path.open("w", encoding="utf-8") as out:
        for r in sorted(refused, key=lambda r: r.line):
            out.write(
                json_text.dumps(
                    {"line": r.line, "code": r.code, "message": r.message, "field": r.field}
                )
                + "\n"
            )
