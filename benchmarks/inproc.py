"""CPU per batched event of the ingest pipeline and the driver alone, no HTTP.

Usage: ``python -m benchmarks.inproc [--database sqlite|postgres] [--events 30000]
[--batch 500] [--profile [--sort cumulative]]``

Builds the headline workload's bodies (one sum metric, 10 000 customers), decodes them as
the route does, and runs ``ingest_group`` for each in its own unit of work on a fresh store,
in this process. After a warm-up (the first fifth), it prints the process's CPU time per
event and, on PostgreSQL, the CPU time of the database's processes in the same interval
(``/proc``, the throwaway server's whole process tree), so a change that moves work from
the driver into the database shows as such. CPU time barely depends on how busy the machine
is, which wall time on a shared machine does. ``--profile`` prints ``cProfile``'s top
entries by CPU time, or by another of its keys with ``--sort`` (its overhead inflates
Python frames; compare shares, not totals).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.proctree import tree_cpu_seconds
from benchmarks.server import Postgres
from benchmarks.workload import bodies, generate

METRIC = {
    "code": "bench_sum",
    "aggregation": "sum",
    "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
}


def _database_cpu(pg: Postgres | None) -> float:
    if pg is None:
        return 0.0
    pid = int((pg.server.root / "data" / "postmaster.pid").read_text().split()[0])
    return tree_cpu_seconds(pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inproc", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime", help="cProfile's sort key (cumulative...)")
    args = parser.parse_args(argv)

    from stripemeter_server.api.json_body import decode_exact
    from stripemeter_server.domain.events import EventLimits
    from stripemeter_server.domain.metrics import metric_from_dict
    from stripemeter_server.service.catalog.metrics import create_metric
    from stripemeter_server.service.ingest.outcome import BatchRequest
    from stripemeter_server.service.ingest.pipeline import ingest_group
    from stripemeter_server.service.operations.tenancy import create_tenant
    from stripemeter_server.storage.unit_of_work import Store

    pg = Postgres() if args.database == "postgres" else None
    workdir = Path(tempfile.mkdtemp(prefix="inproc-"))
    url = pg.database("inproc") if pg else f"sqlite:///{workdir / 'store.db'}"
    store = Store(url)
    try:
        store.migrate()
        with store.unit_of_work("default") as uow:
            now = datetime.now(UTC)
            create_tenant(uow, "default", name=None, auto_create_metrics=False, now=now)
            create_metric(uow, metric_from_dict(METRIC), now)
            uow.commit()
        events = generate("inproc", args.events, 10_000, seed=1)
        batches = [decode_exact(body)["events"] for body, _ in bodies(events, args.batch)]
        limits = EventLimits()

        def run(part: Sequence[list[Any]]) -> None:
            for raw in part:
                received = datetime.now(UTC)
                with store.unit_of_work("default") as uow:
                    ingest_group(
                        uow,
                        [BatchRequest(raw, received, "req_inproc", "bench")],
                        now=received,
                        limits=limits,
                    )
                    uow.commit()

        warm = max(1, len(batches) // 5)
        run(batches[:warm])
        rest = batches[warm:]
        counted = sum(len(raw) for raw in rest)
        database_before, before = _database_cpu(pg), time.process_time()
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(run, rest)
        else:
            run(rest)
        cpu = time.process_time() - before
        database = _database_cpu(pg) - database_before
        line = (
            f"{args.database}, batches of {args.batch}: {counted} events, "
            f"{cpu / counted * 1e6:.1f} µs process CPU per event "
            f"({counted / cpu:,.0f} events per CPU-second)"
        )
        if pg is not None:
            line += (
                f", database {database / counted * 1e6:.1f} µs per event, "
                f"sum {(cpu + database) / counted * 1e6:.1f} µs"
            )
        print(f"{line}; load average {os.getloadavg()[0]:.1f}")
        if args.profile:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)
    finally:
        store.close()
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
