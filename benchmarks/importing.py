"""Import benchmark: `stripemeter import` of a JSONL history file (50k lines in the full run)
into a fresh store, then the same file again (every line a duplicate: the resume path).

The command runs as an operator runs it (the console script, its own process, the
configured store); events/s = lines / wall time, exact when the summary line accounts for
every line (all accepted the first time, all duplicates the second).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.config import Profile
from benchmarks.progress import Reporter

SUMMARY = re.compile(r"(\d+) lines, (\d+) accepted, (\d+) duplicates, (\d+) rejected")


def write_history(path: Path, events: int, customers: int) -> None:
    """A month of history for ``customers`` customers, every line with ``ts`` (resumable)."""
    start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    step = max(1, int(timedelta(days=1).total_seconds() * 1_000_000 // max(events, 1)))
    with path.open("w") as fh:
        for i in range(events):
            ts = start + timedelta(microseconds=i * step)
            fh.write(
                json.dumps(
                    {
                        "metric": "bench_import",
                        "customerRef": f"imp_{i % customers}",
                        "quantity": str(1 + i % 9),
                        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    }
                )
                + "\n"
            )


def _run_import(path: Path, url: str) -> tuple[float, tuple[int, ...] | None, str]:
    exe = Path(sys.executable).with_name("stripemeter")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "stripemeter_server.cli.main"]
    env = {**os.environ, "STRIPEMETER_DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [*cmd, "import", str(path), "--tenant", "default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - started
    found = SUMMARY.search(done.stdout + done.stderr)
    counts = tuple(int(g) for g in found.groups()) if found else None
    return seconds, counts, (done.stdout + done.stderr)[-500:]


def run_import(
    database: str, url: str, profile: Profile, workdir: Path, reporter: Reporter
) -> list[dict[str, Any]]:
    from stripemeter_server.service.clock import SystemClock
    from stripemeter_server.service.operations.tenancy import bootstrap
    from stripemeter_server.storage.unit_of_work import Store

    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, SystemClock().now(), None, auto_create_metrics=True)  # metrics made as named
        uow.commit()
    store.close()
    events = profile.import_lines
    path = workdir / f"history-{database}.jsonl"
    reporter.log(f"{database} import: writing {events:,} lines")
    write_history(path, events, profile.customers)
    rows = []
    for scenario, column in (("import_new", 1), ("import_dup", 2)):
        reporter.log(f"{database} {scenario}: stripemeter import of {events:,} lines")
        seconds, counts, tail = _run_import(path, url)
        exact = counts is not None and counts[0] == events and counts[column] == events
        rows.append(
            {
                "database": database,
                "scenario": scenario,
                "events": events,
                "seconds": round(seconds, 2),
                "events_per_s": round(events / seconds, 1),
                "exact": exact,
                "checks": {"summary": counts, "output": None if exact else tail},
            }
        )
        reporter.log(f"{database} {scenario}: {events / seconds:,.0f} lines/s, exact={exact}")
    path.unlink(missing_ok=True)
    return rows
