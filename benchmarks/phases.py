"""One timed phase against the server (load, server and database CPU, peak RSS), its
verification (responses and totals) and the result row it appends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.dbrun import DbRun, phase_clients
from benchmarks.loadgen import LoadResult, Request, run_load
from benchmarks.proctree import tree_cpu_seconds
from benchmarks.verify import check_counts, check_totals


def server_row(
    run: DbRun,
    scenario: str,
    load: LoadResult,
    *,
    rss_mb: float,
    exact: bool | None,
    checks: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
    """The result row of a server phase: rates, latencies, CPU and RSS beside its checks, so
    every printed figure can be judged by the same row's ``exact``."""
    wall = load.wall_s or float("nan")
    cpu = run.last_cpu_s
    p50, p95, p99 = load.percentile(50), load.percentile(95), load.percentile(99)
    return {
        "database": run.database,
        "scenario": scenario,
        "requests": load.requests,
        "events": load.events,
        "seconds": round(load.wall_s, 3),
        "events_per_s": round(load.events / wall, 1) if load.events else None,
        "requests_per_s": round(load.requests / wall, 1) if load.requests else None,
        "p50_ms": None if p50 is None else round(p50, 3),
        "p95_ms": None if p95 is None else round(p95, 3),
        "p99_ms": None if p99 is None else round(p99, 3),
        "peak_rss_mb": rss_mb,
        "peak_rss_tree_mb": run.server.rss.peak_total_mb(),
        "exact": exact,
        "timed_out": load.timed_out,
        "server_cpu_s": round(cpu, 2),
        "server_cpu_util": round(cpu / wall, 2) if load.wall_s else None,
        "events_per_server_cpu_s": round(load.events / cpu, 1) if cpu and load.events else None,
        **_database_cpu(run, load),
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "errors": load.errors[:5],
        "checks": checks,
        **extra,
    }


def database_seconds(run: DbRun) -> float | None:
    """The CPU seconds PostgreSQL's processes used so far (None on SQLite)."""
    return None if run.database_pid is None else tree_cpu_seconds(run.database_pid)


def _database_cpu(run: DbRun, load: LoadResult) -> dict[str, Any]:
    """PostgreSQL's backends' CPU in the phase, and per event (ADR 0979): on two cores the
    database's share is what the server's CPU figure leaves out."""
    cpu = run.last_database_cpu_s
    if cpu is None:
        return {}
    per_event = round(cpu / load.events * 1e6, 1) if load.events else None
    return {"database_cpu_s": round(cpu, 2), "database_cpu_us_per_event": per_event}


def timed_phase(
    run: DbRun,
    scenario: str,
    requests: Sequence[Request],
    clients: int,
    *,
    expect: str,
    report: bool,
) -> LoadResult:
    """Time one phase (ingest, or reads with ``report=False``), then verify counts and totals;
    appends a row when ``report``."""
    run.server.rss.reset()
    cpu_before = run.server.cpu_seconds()
    database_before = database_seconds(run)
    with run.reporter.task(f"{run.database} {scenario}", len(requests)) as update:
        load = run_load(
            run.server.port,
            run.server.key,
            requests,
            clients=clients,
            time_limit=run.profile.time_limit_s,
            on_progress=update,
        )
    run.last_cpu_s = run.server.cpu_seconds() - cpu_before
    database_after = database_seconds(run)
    run.last_database_cpu_s = (
        None if database_after is None else database_after - (database_before or 0.0)
    )
    rss = run.server.rss.peak_mb()
    return load if not report else verify_and_record(run, scenario, requests, load, expect, rss)


def verify_and_record(
    run: DbRun,
    scenario: str,
    requests: Sequence[Request],
    load: LoadResult,
    expect: str,
    rss: float,
) -> LoadResult:
    sent = [requests[i] for i in load.completed]
    counts = check_counts(
        load,
        planned_requests=len(requests),
        completed_events=sum(r.events for r in sent),
        expect=expect,
    )
    client = run.server.client()
    try:
        totals = check_totals(client, run.totals, run.sample)
    finally:
        client.close()
    exact = counts["ok"] and totals["mismatches"] == 0
    run.rows.append(
        server_row(
            run,
            scenario,
            load,
            rss_mb=rss,
            exact=exact,
            checks={"responses": counts, "totals": totals},
            batch_size=max((r.events for r in sent), default=0),
            clients=phase_clients(run, scenario),
        )
    )
    run.reporter.log(summary(run.rows[-1]))
    return load


def summary(row: dict[str, Any]) -> str:
    """One progress line for a row: what a reader watching the run needs to spot trouble."""
    rate = row["events_per_s"] or row["requests_per_s"]
    return (
        f"{row['database']} {row['scenario']}: {rate} /s, p50 {row['p50_ms']} ms, "
        f"p95 {row.get('p95_ms')} ms, p99 {row['p99_ms']} ms, RSS {row['peak_rss_mb']} MB, "
        f"server CPU {row['server_cpu_util']} cores"
        + (
            f", {row['server_cpu_ms_per_request']} ms CPU per request"
            if "server_cpu_ms_per_request" in row
            else ""
        )
        + (
            f", its loop waited {row['loop_run_queue_ms_per_s']} ms/s for a core"
            if "loop_run_queue_ms_per_s" in row
            else ""
        )
        + (
            f", database {row['database_cpu_us_per_event']} µs CPU per event"
            if row.get("database_cpu_us_per_event") is not None
            else ""
        )
        + f", exact={row['exact']}"
    )


def round_ms(value: float | None) -> float | None:
    """A latency to the microsecond, keeping "no figure" (no request completed) as None."""
    return None if value is None else round(value, 3)


def cpu_ratio(server_per_cpu_s: float | None, floor_per_cpu_s: float | None) -> float | None:
    """Server events per CPU-second ÷ the floor's: the floor ratio measured in CPU instead of
    wall time, so waiting for a core on a busy machine cancels out (neither side counts the
    PostgreSQL backend's CPU; SQLite's runs inside both processes)."""
    if not server_per_cpu_s or not floor_per_cpu_s:
        return None
    return round(server_per_cpu_s / floor_per_cpu_s, 3)
