"""The floors run right after a server phase on the same request bodies: the plain floor
(``benchmarks/floor.py``) and the framework floor (``benchmarks/asgi_floor.py``), and the
ratios they put into the server's row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.asgi_floor import AsgiFloor
from benchmarks.dbrun import DbRun, phase_clients
from benchmarks.floor import run_floor
from benchmarks.loadgen import LoadResult, Request, run_load
from benchmarks.phases import cpu_ratio, round_ms
from benchmarks.server import free_port
from benchmarks.verify import check_counts
from benchmarks.workload import Event


def floor_phase(
    run: DbRun,
    scenario: str,
    requests: Sequence[Request],
    chunks: Sequence[Sequence[Event]],
    *,
    report: bool,
) -> None:
    """The plain floor (benchmarks/floor.py) on the same request bodies, right after the
    server's phase; its rate goes into a ``floor_<scenario>`` row and, as ``floor_ratio``,
    into the server's row. Exact when every event was accepted (or a duplicate, on replays)
    and the floor's counters equal the totals of what it processed."""
    if run.floor is None or not requests:
        return
    with run.reporter.task(f"{run.database} floor {scenario}", len(requests)) as update:
        result = run_floor(
            run.floor, requests, time_limit=run.profile.time_limit_s, on_progress=update
        )
    replay = scenario.endswith("_dup")
    if not replay:
        run.floor_replay[scenario.replace("_new", "_dup")] = [requests[i] for i in result.completed]
        for index in result.completed:
            run.floor_totals.add(chunks[index])
    rate = result.events / result.wall_s if result.wall_s else 0.0
    run.rates[f"floor_{scenario}"] = rate
    if not report:
        return
    got = result.outcome.duplicates if replay else result.outcome.accepted
    sums_equal = run.floor.sums("bench_sum") == run.floor_totals.sums
    row = _floor_row(run, scenario, result, rate, exact=got == result.events and sums_equal)
    run.rows.append(row)
    server = next((r for r in reversed(run.rows) if r["scenario"] == scenario), None)
    if server is not None and server.get("events_per_s") and rate:
        server["floor_events_per_s"] = row["events_per_s"]
        server["floor_ratio"] = round(server["events_per_s"] / rate, 3)
        server["cpu_ratio"] = cpu_ratio(
            server.get("events_per_server_cpu_s"), row["events_per_cpu_s"]
        )
    run.reporter.log(
        f"{run.database} floor_{scenario}: {rate:,.0f} events/s, "
        f"exact={row['exact']}; server / floor = "
        f"{server.get('floor_ratio') if server else None}"
    )


def asgi_floor_phase(
    run: DbRun, scenario: str, requests: Sequence[Request], *, report: bool
) -> None:
    """The framework floor (benchmarks/asgi_floor.py) on the same one-event bodies, on a
    scratch store: a row ``asgi_floor_<scenario>`` and, in the server's row,
    ``asgi_floor_events_per_s`` and ``asgi_floor_ratio`` (server ÷ this floor)."""
    if run.asgi_floor_url is None or not requests:
        return
    if run.asgi_floor is None:
        run.asgi_floor = AsgiFloor(run.asgi_floor_url, run.server.log_path.parent, free_port())
    floor = run.asgi_floor
    cpu_before = floor.cpu_seconds()
    with run.reporter.task(f"{run.database} asgi floor {scenario}", len(requests)) as update:
        load = run_load(
            floor.port,
            "",
            requests,
            clients=phase_clients(run, scenario),
            time_limit=run.profile.time_limit_s,
            on_progress=update,
        )
    cpu = floor.cpu_seconds() - cpu_before
    replay = scenario.endswith("_dup")
    if not replay:
        run.floor_replay[f"asgi_{scenario.replace('_new', '_dup')}"] = [
            requests[i] for i in load.completed
        ]
    if not report:
        return
    sent = sum(requests[i].events for i in load.completed)
    counts = check_counts(
        load,
        planned_requests=len(requests),
        completed_events=sent,
        expect="duplicates" if replay else "accepted",
    )
    rate = load.events / load.wall_s if load.wall_s else 0.0
    row = {
        "database": run.database,
        "scenario": f"asgi_floor_{scenario}",
        "requests": load.requests,
        "events": load.events,
        "seconds": round(load.wall_s, 3),
        "events_per_s": round(rate, 1),
        "requests_per_s": round(rate, 1),
        **{f"p{p}_ms": round_ms(load.percentile(p)) for p in (50, 95, 99)},
        "server_cpu_s": round(cpu, 2),
        "server_cpu_util": round(cpu / load.wall_s, 2) if load.wall_s else None,
        "events_per_server_cpu_s": round(load.events / cpu, 1) if cpu else None,
        "exact": counts["ok"],
        "timed_out": load.timed_out,
        "clients": phase_clients(run, scenario),
        "checks": {"responses": counts},
    }
    run.rows.append(row)
    server = next((r for r in reversed(run.rows) if r["scenario"] == scenario), None)
    if server is not None and server.get("events_per_s") and rate:
        server["asgi_floor_events_per_s"] = row["events_per_s"]
        server["asgi_floor_ratio"] = round(server["events_per_s"] / rate, 3)
    run.reporter.log(
        f"{run.database} asgi_floor_{scenario}: {rate:,.0f} req/s, p99 "
        f"{row['p99_ms']} ms, {row['events_per_server_cpu_s']} per CPU-s; "
        f"server / asgi floor = {server.get('asgi_floor_ratio') if server else None}"
    )


def _floor_row(
    run: DbRun, scenario: str, result: Any, rate: float, *, exact: bool
) -> dict[str, Any]:
    load = LoadResult(wall_s=result.wall_s, latencies_ms=result.latencies_ms)
    new_rate = run.rates.get(f"floor_{scenario.replace('_dup', '_new')}")
    return {
        "database": run.database,
        "scenario": f"floor_{scenario}",
        "requests": len(result.completed),
        "events": result.events,
        "seconds": round(result.wall_s, 3),
        "events_per_s": round(rate, 1),
        "requests_per_s": round(len(result.completed) / result.wall_s, 1)
        if result.wall_s
        else None,
        **{f"p{p}_ms": round_ms(load.percentile(p)) for p in (50, 95, 99)},
        "floor_cpu_util": round(result.cpu_s / result.wall_s, 2) if result.wall_s else None,
        "events_per_cpu_s": round(result.events / result.cpu_s, 1) if result.cpu_s else None,
        "dup_ratio": round(rate / new_rate, 2) if new_rate and scenario.endswith("_dup") else None,
        "exact": exact,
        "timed_out": result.timed_out,
        "clients": 1,
        "checks": {
            "accepted": result.outcome.accepted,
            "duplicates": result.outcome.duplicates,
            "conflicts": result.outcome.conflicts,
        },
    }
