"""CPU per batched event of each ingest stage, in process (no HTTP).

Usage: ``python -m benchmarks.stages [--database sqlite|postgres] [--events 30000]``

The loop of ``benchmarks.inproc`` (the headline workload: one sum metric, 10 000 customers,
batches of 500, each in its own unit of work, after a warm-up), with every stage of the
pipeline and the hot repository methods wrapped in a timer (``time.process_time``), plus the
body's decode, the unit of work's open and commit, and the answer's encoding around it.
Prints microseconds of this process's CPU per event for each, largest first. The wrappers
cost a little each (a few calls per batch), so the figures add up to slightly more than
``benchmarks.inproc`` reads; on PostgreSQL the backends' CPU is not included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.inproc import METRIC
from benchmarks.server import Postgres
from benchmarks.workload import bodies, generate

_STAGES = ("dedupe_against_ledger", "resolve", "dedupe_in_batch", "apply_close_policy", "record")
_PIPELINE = ("parse_group", "hold_backfilled", "count", "evaluate_alerts", "record_tallies")


def _timed(totals: dict[str, float], owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper adding its CPU time to ``totals[label]``."""
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - start

    setattr(owner, name, wrapper)


def _instrument(totals: dict[str, float], database: str) -> None:
    from stripemeter_server.service.ingest import pipeline, stages

    for name in _STAGES:
        _timed(totals, stages, name, name)
    for name in _PIPELINE:
        _timed(totals, pipeline, name, name)
    if database == "postgres":
        from stripemeter_server.storage.postgres import ledger

        counters, events = ledger.PostgresCountersRepository, ledger.PostgresEventsRepository
    else:
        from stripemeter_server.storage.sqlite import ledger as sqlite_ledger

        counters, events = (
            sqlite_ledger.SqliteCountersRepository,
            sqlite_ledger.SqliteEventsRepository,
        )
    _timed(totals, counters, "lock", "  counters.lock")
    _timed(totals, counters, "save", "  counters.save")
    _timed(totals, events, "insert_new", "  events.insert_new")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stages", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=30_000)
    args = parser.parse_args(argv)

    from stripemeter_server.api.json_body import decode_exact, encode_plain
    from stripemeter_server.domain.events import EventLimits
    from stripemeter_server.domain.metrics import metric_from_dict
    from stripemeter_server.service.catalog.metrics import create_metric
    from stripemeter_server.service.ingest import pipeline
    from stripemeter_server.service.ingest.outcome import BatchRequest
    from stripemeter_server.service.operations.tenancy import create_tenant
    from stripemeter_server.storage.unit_of_work import Store

    totals: dict[str, float] = defaultdict(float)
    _instrument(totals, args.database)
    pg = Postgres() if args.database == "postgres" else None
    workdir = Path(tempfile.mkdtemp(prefix="stages-"))
    store = Store(pg.database("stages") if pg else f"sqlite:///{workdir / 'store.db'}")
    try:
        store.migrate()
        with store.unit_of_work("default") as uow:
            now = datetime.now(UTC)
            create_tenant(uow, "default", name=None, auto_create_metrics=False, now=now)
            create_metric(uow, metric_from_dict(METRIC), now)
            uow.commit()
        payloads = [
            body for body, _ in bodies(generate("stages", args.events, 10_000, seed=1), 500)
        ]
        limits = EventLimits()

        def run(part: Sequence[bytes]) -> None:
            for body in part:
                start = time.process_time()
                raw = decode_exact(body)["events"]
                decoded = time.process_time()
                received = datetime.now(UTC)
                with store.unit_of_work("default") as uow:
                    opened = time.process_time()
                    request = BatchRequest(raw, received, "req_stages", "bench")
                    outcome = pipeline.ingest_group(uow, [request], now=received, limits=limits)
                    ingested = time.process_time()
                    uow.commit()
                committed = time.process_time()
                encode_plain([[r.index, r.idempotency_key, r.status] for r in outcome[0].results])
                answered = time.process_time()
                totals["decode"] += decoded - start
                totals["unit of work: open"] += opened - decoded
                totals["ingest_group (all stages)"] += ingested - opened
                totals["unit of work: commit and close"] += committed - ingested
                totals["answer (encode)"] += answered - committed
                totals["total"] += answered - start

        warm = max(1, len(payloads) // 5)
        run(payloads[:warm])
        totals.clear()
        run(payloads[warm:])
        counted = 500 * len(payloads[warm:])
        for label, seconds in sorted(totals.items(), key=lambda item: -item[1]):
            print(f"{label:32s} {seconds / counted * 1e6:7.1f} µs per event")
    finally:
        store.close()
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
