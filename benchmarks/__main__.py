"""``python -m benchmarks`` (``make bench``): run the scenarios on SQLite and PostgreSQL.

Usage: ``python -m benchmarks [--quick | --smoke] [--only sqlite|postgres]
[--scenario NAME ...] [--preload http|direct] [--results-dir DIR]``.
Each database gets a fresh store, a fresh server process and a scratch store for the plain
floor (benchmarks/floor.py); PostgreSQL is a throwaway server (fsync on) from the repo's test
helper. On PostgreSQL the batch ingest is also run against ``serve --workers 1, 2, 4``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.config import DATABASES, FULL, PROFILES, QUICK, SCENARIOS, SMOKE
from benchmarks.floor import open_floor
from benchmarks.progress import Reporter
from benchmarks.scenarios import RUNNERS, DbRun, create_metrics
from benchmarks.server import Postgres, Server, load_average


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes (sanity check)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes (used by the test suite)")
    parser.add_argument("--only", choices=DATABASES, help="one database only")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=(*SCENARIOS, *EXTRA, "workers"),
        help="run only this scenario (repeatable); prerequisites run untimed",
    )
    parser.add_argument(
        "--preload",
        choices=("http", "direct"),
        default="http",
        help="how to fill the ledger to 1M events (default: http)",
    )
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS_DIR)
    parser.add_argument("--plain", action="store_true", help="plain progress lines")
    parser.add_argument(
        "--serve-workers",
        type=int,
        default=1,
        help="serve the scenarios with `serve --workers N` (default 1, as `make bench`)",
    )
    return parser.parse_args(argv)


def _commit() -> str:
    """HEAD, plus ``+dirty`` when the server sources differ from it: the server under test
    runs from the working tree, so uncommitted changes there change the figures. When the
    server's package is imported from elsewhere (another tree on ``PYTHONPATH``, as an A/B
    against an exported commit does), HEAD does not name the code measured: ``+other-src``."""
    here = Path(__file__).parent
    elsewhere = "" if _server_from(here.parent / "src") else "+other-src"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=here,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "../src"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=here,
        ).stdout
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty.strip() else "") + elsewhere


def _server_from(tree: Path) -> bool:
    """Whether the ``stripemeter_server`` package the benchmark (and the server processes it
    starts, which inherit the environment) imports is the one under ``tree``."""
    import stripemeter_server

    return Path(stripemeter_server.__file__).resolve().is_relative_to(tree.resolve())


def run_database(
    database: str,
    url: str,
    floor_url: str,
    args: argparse.Namespace,
    workdir: Path,
    reporter: Reporter,
    asgi_floor_url: str | None = None,
    database_pid: int | None = None,
) -> list[dict[str, Any]]:
    profile = SMOKE if args.smoke else QUICK if args.quick else FULL
    reporter.log(f"{database}: starting server")
    server = Server(url, workdir, workers=args.serve_workers)
    run = DbRun(
        database,
        url,
        server,
        profile,
        reporter,
        args.preload,
        floor=open_floor(floor_url),
        asgi_floor_url=asgi_floor_url,
        database_pid=database_pid,
    )
    try:
        create_metrics(server)
        for name in args.scenario or SCENARIOS:
            if name in RUNNERS:
                RUNNERS[name](run)
    except Exception as exc:
        reporter.log(f"{database}: FAILED: {exc!r} (server log: {server.log_path})")
        run.rows.append(
            {"database": database, "scenario": "error", "error": repr(exc), "exact": False}
        )
    finally:
        server.stop()
        if run.floor is not None:
            run.floor.close()
        if run.asgi_floor is not None:
            run.asgi_floor.stop()
    return run.rows


# Scenarios with a store of their own (not the served one): the Stripe pusher and the import.
EXTRA = ("push", "import")


def _extra(
    database: str,
    url_for: Callable[[str], str],
    args: argparse.Namespace,
    workdir: Path,
    reporter: Reporter,
) -> list[dict[str, Any]]:
    """The pusher's figures (benchmarks/push.py) and the import's (benchmarks/importing.py),
    each on a fresh store made by ``url_for(name)``."""
    from benchmarks.importing import run_import
    from benchmarks.push import run_push

    profile = SMOKE if args.smoke else QUICK if args.quick else FULL
    rows: list[dict[str, Any]] = []
    for name in EXTRA:
        if args.scenario is not None and name not in args.scenario:
            continue
        try:
            if name == "push":
                rows += run_push(database, url_for(name), profile, reporter)
            else:
                rows += run_import(database, url_for(name), profile, workdir, reporter)
        except Exception as exc:
            reporter.log(f"{database}: {name} FAILED: {exc!r}")
            rows.append(
                {
                    "database": database,
                    "scenario": f"{name}_error",
                    "error": repr(exc),
                    "exact": False,
                }
            )
    return rows


def _workers(
    pg: Postgres,
    args: argparse.Namespace,
    workdir: Path,
    reporter: Reporter,
    rows: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """``serve --workers 1, 2, 4`` on one PostgreSQL (benchmarks/workers.py), each beside
    the PostgreSQL batch floor measured earlier in this run (``rows``)."""
    if args.scenario is not None and "workers" not in args.scenario:
        return []
    from benchmarks.workers import run_workers

    profile = SMOKE if args.smoke else QUICK if args.quick else FULL
    floor = next(
        (r for r in rows if r["database"] == "postgres" and r["scenario"] == "floor_batch_new"), {}
    )
    try:
        return run_workers(pg, profile, workdir, reporter, floor)
    except Exception as exc:
        reporter.log(f"postgres: workers FAILED: {exc!r}")
        return [
            {
                "database": "postgres",
                "scenario": "workers_error",
                "error": repr(exc),
                "exact": False,
            }
        ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    reporter = Reporter(force_plain=args.plain)
    started, t0 = datetime.now(UTC), time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="stripemeter-bench-"))
    meta: dict[str, Any] = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "profile": profile.name,
        "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgres": None,
        "load_average_start": load_average(),
        "sizes": {k: v for k, v in vars(profile).items() if k != "name"},
    }
    rows: list[dict[str, Any]] = []
    try:
        for database in DATABASES:
            if args.only not in (None, database):
                continue
            if database == "sqlite":
                rows += run_database(
                    database,
                    f"sqlite:///{workdir / 'bench.db'}",
                    f"sqlite:///{workdir / 'floor.db'}",
                    args,
                    workdir,
                    reporter,
                    f"sqlite:///{workdir / 'asgi_floor.db'}",
                )
                rows += _extra(
                    database, lambda name: f"sqlite:///{workdir / name}.db", args, workdir, reporter
                )
                continue
            pg = Postgres()
            try:
                meta["postgres"] = pg.version()
                rows += run_database(
                    database,
                    pg.database("bench"),
                    pg.database("bench_floor"),
                    args,
                    workdir,
                    reporter,
                    pg.database("bench_asgi_floor"),
                    pg.pid(),
                )
                rows += _extra(
                    database,
                    lambda name, pg=pg: pg.database(f"bench_{name}"),
                    args,
                    workdir,
                    reporter,
                )
                rows += _workers(pg, args, workdir, reporter, rows)
            finally:
                pg.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta["duration_s"] = round(time.monotonic() - t0, 1)
    meta["load_average_end"] = load_average()
    doc = {"meta": meta, "results": rows, "targets": report.evaluate(rows)}
    report.print_tables(doc, reporter.console)
    for path in report.write(doc, args.results_dir, timestamped=not args.smoke):
        reporter.log(f"wrote {path.relative_to(path.parent.parent)}")
    return 0 if all(r.get("exact") is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
