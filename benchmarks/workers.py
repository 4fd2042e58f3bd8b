"""PostgreSQL with several server processes: the headline batch ingest against
``stripemeter serve --workers N`` for N = 1, 2 and 4, each on a fresh database.

``worker_clients`` connections (8 in the full run) are opened against the one port; the
kernel hands them out to the worker processes. On a 2-core machine the workers, the load
generator and PostgreSQL share two cores, so the figure says what the coordination costs and
how much of the second core a second process wins back; events per server CPU-second (summed
over the supervisor and its workers) and the ratio to the PostgreSQL floor of the same run say
the rest. Exact when every response is accounted for and the sampled totals match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.config import Profile
from benchmarks.loadgen import Request, run_load
from benchmarks.progress import Reporter
from benchmarks.scenarios import INGEST, cpu_ratio, create_metrics
from benchmarks.server import Postgres, Server
from benchmarks.verify import check_counts, check_totals, sample_customers
from benchmarks.workload import Event, Totals, bodies, generate


def run_workers(
    pg: Postgres, profile: Profile, workdir: Path, reporter: Reporter, floor: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per worker count; ``floor`` is the PostgreSQL batch floor row of this run
    (empty when it was not run)."""
    floor_rate = floor.get("events_per_s")
    events = generate("workers", profile.batch_events, profile.customers, seed=5)
    requests = [Request("POST", INGEST, body, n) for body, n in bodies(events, profile.batch_size)]
    chunks = [events[i : i + profile.batch_size] for i in range(0, len(events), profile.batch_size)]
    rows = []
    for count in profile.worker_counts:
        server = Server(pg.database(f"bench_workers_{count}"), workdir, workers=count)
        try:
            row = _measure(server, requests, chunks, profile, reporter)
        finally:
            server.stop()
        if floor_rate and row["events_per_s"]:
            row["floor_events_per_s"] = round(floor_rate, 1)
            row["floor_ratio"] = round(row["events_per_s"] / floor_rate, 3)
            row["cpu_ratio"] = cpu_ratio(
                row["events_per_server_cpu_s"], floor.get("events_per_cpu_s")
            )
        reporter.log(
            f"postgres --workers {count}: {row['events_per_s']} events/s, "
            f"{row['events_per_server_cpu_s']} events per server CPU-s, "
            f"server / floor {row.get('floor_ratio')}, exact={row['exact']}"
        )
        rows.append(row)
    return rows


def _measure(
    server: Server,
    requests: list[Request],
    chunks: list[list[Event]],
    profile: Profile,
    reporter: Reporter,
) -> dict[str, Any]:
    create_metrics(server)
    server.rss.reset()
    cpu_before = server.cpu_seconds()
    with reporter.task(f"postgres --workers {server.workers}", len(requests)) as update:
        load = run_load(
            server.port,
            server.key,
            requests,
            clients=profile.worker_clients,
            time_limit=profile.time_limit_s,
            on_progress=update,
        )
    cpu = server.cpu_seconds() - cpu_before
    totals = Totals()
    for index in load.completed:
        totals.add(chunks[index])
    counts = check_counts(
        load, planned_requests=len(requests), completed_events=totals.events, expect="accepted"
    )
    client = server.client()
    try:
        checked = check_totals(
            client, totals, sample_customers(profile.customers, profile.verify_sample)
        )
    finally:
        client.close()
    done = totals.events
    wall = load.wall_s
    return {
        "database": "postgres",
        "scenario": f"workers_{server.workers}",
        "workers": server.workers,
        "clients": profile.worker_clients,
        "events": done,
        "requests": len(load.completed),
        "seconds": round(wall, 2),
        "events_per_s": round(done / wall, 1) if wall else None,
        **{f"p{p}_ms": _round(load.percentile(p)) for p in (50, 95, 99)},
        "server_cpu_s": round(cpu, 2),
        "server_cpu_util": round(cpu / wall, 2) if wall else None,
        "events_per_server_cpu_s": round(done / cpu, 1) if cpu else None,
        "peak_rss_mb": server.rss.peak_mb(),
        "peak_rss_tree_mb": server.rss.peak_total_mb(),
        "timed_out": load.timed_out,
        "errors": load.errors[:5],
        "exact": counts["ok"] and checked["mismatches"] == 0,
        "checks": {"responses": counts, "totals": checked},
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
