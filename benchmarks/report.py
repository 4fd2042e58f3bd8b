"""Results: a rich table on the console, ``latest.json`` + ``latest.md`` and a timestamped
copy of both in ``benchmarks/results/`` (so runs can be compared over time)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.config import TARGETS, Target

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = (
    "database",
    "scenario",
    "events",
    "seconds",
    "events_per_s",
    "requests_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "floor_events_per_s",
    "floor_ratio",
    "cpu_ratio",
    "asgi_floor_ratio",
    "dup_ratio",
    "events_per_server_cpu_s",
    "events_per_cpu_s",
    "server_cpu_util",
    "peak_rss_mb",
    "exact",
)
TARGET_COLUMNS = (
    "target",
    "database",
    "required",
    "measured",
    "floor ratio",
    "cpu ratio",
    "events per server CPU-s",
    "status",
)
# The Stripe pusher's rows (benchmarks/push.py) have figures of their own.
PUSH_COLUMNS = (
    "database",
    "scenario",
    "events",
    "seconds",
    "changes_per_s",
    "events_per_s",
    "floor_events_per_s",
    "floor_ratio",
    "events_per_cpu_s",
    "floor_events_per_cpu_s",
    "emulator_cpu_util",
    "lag_p50_s",
    "lag_p99_s",
    "lag_max_s",
    "drain_s",
    "exact",
)


def _is_push(row: dict[str, Any]) -> bool:
    return str(row.get("scenario", "")).startswith("push_")


def evaluate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target next to the measured figure, per database: met / missed / not run."""
    out = []
    for target in TARGETS:
        for database in ("sqlite", "postgres"):
            if target.database not in (None, database):
                continue
            measured = _measure(rows, target, database)
            met = target.met(measured)
            status = {True: "met", False: "MISSED", None: "not run"}[met]
            ledger = _ledger(rows, database)
            if target.scenario.startswith("read_") and measured is not None and ledger < 1_000_000:
                status += f" (ledger only {ledger:,} events)"
            if measured is None and target.scenario == "*":
                continue
            row = _row(rows, target, database)
            out.append(
                {
                    "target": target.label,
                    "database": database,
                    "field": target.field,
                    "op": target.op,
                    "value": target.value,
                    "measured": measured,
                    "floor_ratio": row.get("floor_ratio"),
                    "cpu_ratio": row.get("cpu_ratio"),
                    "events_per_server_cpu_s": row.get("events_per_server_cpu_s"),
                    "status": status,
                }
            )
    return out


def _ledger(rows: list[dict[str, Any]], database: str) -> int:
    sizes = [int(r.get("ledger_events") or 0) for r in rows if r["database"] == database]
    return max(sizes, default=0)


def _row(rows: list[dict[str, Any]], target: Target, database: str) -> dict[str, Any]:
    """The row a (non-``*``) target is judged on, for its context columns."""
    return next(
        (r for r in rows if r["database"] == database and r["scenario"] == target.scenario), {}
    )


def _target_cells(t: dict[str, Any]) -> list[str]:
    return [
        t["target"],
        t["database"],
        f"{t['field']} {t['op']} {_fmt(t['value'])}",
        _fmt(t["measured"]),
        _fmt(t.get("floor_ratio")),
        _fmt(t.get("cpu_ratio")),
        _fmt(t.get("events_per_server_cpu_s")),
        t["status"],
    ]


def _measure(rows: list[dict[str, Any]], target: Target, database: str) -> float | None:
    values = [
        r.get(target.field)
        for r in rows
        if r["database"] == database
        and (target.scenario == "*" or r["scenario"] == target.scenario)
    ]
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    if not numbers:
        return None
    return max(numbers) if target.scenario == "*" else numbers[0]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_push_rows(rows: list[dict[str, Any]]) -> None:
    """The pusher's table alone (``python -m benchmarks.push``)."""
    table = Table(title="Stripe pusher (emulator in its own process, token bucket lifted)")
    for col in PUSH_COLUMNS:
        table.add_column(col, justify="left" if col in ("database", "scenario") else "right")
    for row in rows:
        table.add_row(*(_fmt(row.get(c)) for c in PUSH_COLUMNS))
    Console(width=220).print(table)


def print_tables(doc: dict[str, Any], console: Console) -> None:
    table = Table(title="stripemeter benchmark results")
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in ("database", "scenario") else "right")
    for row in doc["results"]:
        if not _is_push(row):
            table.add_row(*(_fmt(row.get(c)) for c in COLUMNS))
    console.print(table)
    pushes = [row for row in doc["results"] if _is_push(row)]
    if pushes:
        push_table = Table(title="Stripe pusher (into the emulator, token bucket lifted)")
        for col in PUSH_COLUMNS:
            push_table.add_column(
                col, justify="left" if col in ("database", "scenario") else "right"
            )
        for row in pushes:
            push_table.add_row(*(_fmt(row.get(c)) for c in PUSH_COLUMNS))
        console.print(push_table)
    targets = Table(title="targets (shared 2-core machine: see the load averages)")
    for col in TARGET_COLUMNS:
        targets.add_column(col)
    for t in doc["targets"]:
        style = {"met": "green", "MISSED": "red"}.get(t["status"].split(" (")[0], "dim")
        cells = _target_cells(t)
        targets.add_row(*cells[:-1], f"[{style}]{cells[-1]}[/{style}]")
    console.print(targets)


def markdown(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    lines = [
        "# stripemeter benchmark results",
        "",
        (
            f"Run {meta['started']} — mode `{meta['profile']}`, command `{meta['command']}`, "
            f"commit `{meta['commit']}`, {meta['cpus']} CPUs, Python {meta['python']}, "
            f"SQLite {meta['sqlite']}, PostgreSQL {meta.get('postgres') or '-'}; "
            f"total {meta['duration_s']:.0f} s; machine load average (1/5/15 min) "
            f"{meta.get('load_average_start')} at start, {meta.get('load_average_end')} "
            "at end. The machine is shared with other engineers' test runs, so absolute "
            "figures are pessimistic and noisy; `floor_ratio` (server ÷ the plain floor run "
            "right after it on the same bodies) is the figure that compares across runs."
        ),
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += [
        "| " + " | ".join(_fmt(r.get(c)) for c in COLUMNS) + " |"
        for r in doc["results"]
        if not _is_push(r)
    ]
    pushes = [r for r in doc["results"] if _is_push(r)]
    if pushes:
        lines += [
            "",
            "## Stripe pusher (into the emulator, token bucket lifted)",
            "",
            "| " + " | ".join(PUSH_COLUMNS) + " |",
            "|" + "---|" * len(PUSH_COLUMNS),
        ]
        lines += ["| " + " | ".join(_fmt(r.get(c)) for c in PUSH_COLUMNS) + " |" for r in pushes]
    lines += [
        "",
        "## Targets",
        "",
        "| " + " | ".join(TARGET_COLUMNS) + " |",
        "|" + "---|" * len(TARGET_COLUMNS),
    ]
    lines += ["| " + " | ".join(_target_cells(t)) + " |" for t in doc["targets"]]
    lines += [
        "",
        (
            "`exact` = every response accounted for (accepted, or duplicate on replays) "
            "and `GET /v1/usage/current` equal to the client-side totals for the checked "
            "customers; for `rebuild`, counters unchanged by the rebuild; for `floor_*`, "
            "every event accepted (duplicate on replays) and the floor's counters equal to "
            "the totals of what it processed. `floor_ratio` = server events/s ÷ floor "
            "events/s; `cpu_ratio` = server events per server CPU-s ÷ floor events per "
            "floor CPU-s (`events_per_cpu_s`, floor rows); `dup_ratio` = replay rate ÷ "
            "new-event rate. Details per row in the JSON file (`checks`)."
        ),
        "",
    ]
    return "\n".join(lines)


def write(
    doc: dict[str, Any],
    directory: Path = RESULTS_DIR,
    *,
    stem: str = "latest",
    timestamped: bool = True,
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    text_json = json.dumps(doc, indent=2, default=str) + "\n"
    text_md = markdown(doc)
    stamp = doc["meta"]["started"].replace(":", "").replace("-", "")
    names = [stem] + ([f"{stamp}-{doc['meta']['profile']}"] if timestamped else [])
    written = []
    for name in names:
        for suffix, text in ((".json", text_json), (".md", text_md)):
            path = directory / f"{name}{suffix}"
            path.write_text(text)
            written.append(path)
    return written
