"""The scenarios on a full ledger: the preload that tops it up, the usage reads (current,
periods, history) and the rebuild of one metric's counters."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from benchmarks.dbrun import DbRun
from benchmarks.loadgen import Request, run_load
from benchmarks.phases import server_row, summary, timed_phase
from benchmarks.preload import preload
from benchmarks.proctree import run_queue_seconds
from benchmarks.settle import settle
from benchmarks.verify import snapshot
from benchmarks.workload import customer_ref


def fill_ledger(run: DbRun) -> None:
    """Top the ledger up to ``ledger_events`` once (its rate is logged, not a scenario); if
    the time budget ran out, later scenarios use the ledger as it is."""
    missing = run.profile.ledger_events - run.ledger
    if missing <= 0 or run.preloaded:
        return
    run.preloaded = True
    started = time.monotonic()
    added = preload(
        run.server, run.url, missing, run.profile, run.reporter, run.preload_mode, run.database
    )
    seconds = time.monotonic() - started
    run.ledger += added
    run.reporter.log(
        f"{run.database} preload ({run.preload_mode}): {added} events in "
        f"{seconds:.1f} s ({added / max(seconds, 1e-9):.0f} events/s); "
        f"ledger {run.ledger}"
    )
    run.rows.append(
        {
            "database": run.database,
            "scenario": "preload",
            "mode": run.preload_mode,
            "events": added,
            "seconds": round(seconds, 3),
            "events_per_s": round(added / max(seconds, 1e-9), 1),
            "ledger_events": run.ledger,
        }
    )


READ_CLIENTS = 4  # closed loop, as issue 19's read targets are stated


def _month_bounds(months_back: int) -> tuple[str, str]:
    """ISO bounds from the start of the month ``months_back`` before this one to the start
    of the next month (UTC): the workload's events are all in this month."""
    now = datetime.now(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = first
    for _ in range(months_back):
        start = (start - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return (start.strftime("%Y-%m-%dT%H:%M:%SZ"), following.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _read_path(scenario: str, ref: str) -> str:
    if scenario == "read_current":
        return f"/v1/usage/current?customerRef={ref}"
    if scenario == "read_periods":  # last month's period and this month's
        start, end = _month_bounds(1)
        return f"/v1/usage/periods?customerRef={ref}&metric=bench_sum&from={start}&to={end}"
    start, end = _month_bounds(0)  # read_history: this month, day by day, from the ledger
    return f"/v1/usage/history?customerRef={ref}&metric=bench_sum&from={start}&to={end}&step=day"


def read(run: DbRun, scenario: str) -> None:
    """``GET`` of one usage read for random customers, 4 closed-loop clients, keep-alive,
    after 100 warm-up requests; the row also carries the server's CPU per request and how
    long its event loop waited for a core, per second of the phase (ADR 0987). The
    first read phase waits for the store to settle after the fill (``benchmarks/settle.py``)."""
    fill_ledger(run)
    if not run.settled:
        run.settled = True
        settle(run.database, run.url, run.reporter.log)
    p = run.profile
    rng = random.Random(11)
    paths = [
        _read_path(scenario, customer_ref(rng.randrange(p.customers)))
        for _ in range(p.read_requests + 100)
    ]
    warm = [Request("GET", path) for path in paths[:100]]
    run_load(run.server.port, run.server.key, warm, clients=1, time_limit=30)
    reqs = [Request("GET", path) for path in paths[100:]]
    waited_before = run_queue_seconds(run.server.proc.pid, main_only=True)
    load = timed_phase(run, scenario, reqs, READ_CLIENTS, expect="", report=False)
    waited_ms = (run_queue_seconds(run.server.proc.pid, main_only=True) - waited_before) * 1000
    # every answer a 200 (a phase stopped by its time limit says so in ``timed_out``)
    ok = load.statuses.get(200, 0) == load.requests > 0 and not load.errors and not load.dropped
    cpu_ms = round(run.last_cpu_s * 1000 / max(load.requests, 1), 3)
    run.rows.append(
        server_row(
            run,
            scenario,
            load,
            rss_mb=run.server.rss.peak_mb(),
            exact=None,
            checks={"allOk": ok},
            ledger_events=run.ledger,
            clients=READ_CLIENTS,
            server_cpu_ms_per_request=cpu_ms,
            # the event loop's wait for a core (ADR 0987): what the p99 follows on a shared
            # machine; ``python -m benchmarks.read_floor`` gives a bare app's p99 beside it.
            # The served process's main thread: with ``--serve-workers N`` > 1 that is the
            # supervisor's, not a worker's loop, and the figure says nothing.
            loop_run_queue_ms_per_s=round(waited_ms / max(load.wall_s, 1e-9), 1),
        )
    )
    run.reporter.log(summary(run.rows[-1]))


def rebuild(run: DbRun, metric: str = "bench_sum") -> None:
    """Rebuild one metric's counters from the ledger through the service function (what
    ``stripemeter rebuild`` calls), timed around the call and its commit. The counters must
    be identical afterwards (checked over the verification sample)."""
    from stripemeter_server.service.catalog.definitions import load_metrics
    from stripemeter_server.service.corrections.rebuild import rebuild_metric
    from stripemeter_server.storage.unit_of_work import Store

    fill_ledger(run)
    client = run.server.client()
    before = snapshot(client, run.sample)
    store = Store(run.url)
    try:
        with (
            run.reporter.task(f"{run.database} rebuild {metric}", run.ledger) as update,
            store.unit_of_work("default") as uow,
        ):
            definition = load_metrics(uow)[metric]
            now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
            started = time.perf_counter()
            report = rebuild_metric(
                uow, definition, customer_ref=None, now_us=now_us, progress=update
            )
            uow.commit()
            seconds = time.perf_counter() - started
    finally:
        store.close()
    after = snapshot(client, run.sample)
    client.close()
    same = before == after
    run.rows.append(
        {
            "database": run.database,
            "scenario": "rebuild",
            "metric": metric,
            "events": report.events,
            "counters": report.counters,
            "seconds": round(seconds, 3),
            "events_per_s": round(report.events / max(seconds, 1e-9), 1),
            "ledger_events": run.ledger,
            "exact": same,
            "checks": {"customersChecked": len(before), "unchanged": same},
        }
    )
    run.reporter.log(
        f"{run.database} rebuild {metric}: {report.events} events in {seconds:.2f} s, exact={same}"
    )
