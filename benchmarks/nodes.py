"""Scale-out benchmark (PostgreSQL only): the same batch ingest against 1, 2 and 4 `serve`
nodes sharing one database, each node count on a fresh database.

Clients are shared out round-robin over the nodes (8 clients in all). On this 2-core
machine the nodes, the load generator and PostgreSQL share two cores, so the figure shows
what the coordination costs (group commit per node, row locks, the shared rate-limit row)
rather than what more machines would buy; the events per server CPU-second say the rest.
Exact when every response is accounted for and the sampled totals match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.config import Profile
from benchmarks.loadgen import Request, run_load
from benchmarks.progress import Reporter
from benchmarks.scenarios import INGEST, create_metrics
from benchmarks.server import Postgres, Server
from benchmarks.verify import check_counts, check_totals, sample_customers
from benchmarks.workload import Totals, bodies, generate

NODE_COUNTS = (1, 2, 4)
CLIENTS = 8


def run_nodes(pg: Postgres, profile: Profile, workdir: Path,
              reporter: Reporter) -> list[dict[str, Any]]:
    events = generate("nodes", profile.batch_events, profile.customers, seed=5)
    requests = [Request("POST", INGEST, body, n)
                for body, n in bodies(events, profile.batch_size)]
    chunks = [events[i:i + profile.batch_size]
              for i in range(0, len(events), profile.batch_size)]
    rows = []
    for count in NODE_COUNTS:
        url = pg.database(f"bench_nodes_{count}")
        servers = [Server(url, workdir) for _ in range(count)]
        try:
            rows.append(_measure(servers, requests, chunks, profile, reporter))
        finally:
            for server in servers:
                server.stop()
    return rows


def _measure(servers: list[Server], requests: list[Request], chunks: list[Any],
             profile: Profile, reporter: Reporter) -> dict[str, Any]:
    first = servers[0]  # every node shares the database, so the first node's key works on all
    create_metrics(first)
    cpu_before = sum(s.cpu_seconds() for s in servers)
    with reporter.task(f"postgres nodes={len(servers)}", len(requests)) as update:
        load = run_load([s.port for s in servers], first.key, requests, clients=CLIENTS,
                        time_limit=profile.time_limit_s, on_progress=update)
    cpu = sum(s.cpu_seconds() for s in servers) - cpu_before
    totals = Totals()
    for index in load.completed:
        totals.add(chunks[index])
    counts = check_counts(load, sent_requests=len(requests),
                          sent_events=sum(r.events for r in requests), expect="accepted")
    client = first.client()
    try:
        checked = check_totals(client, totals, sample_customers(profile.customers,
                                                                profile.verify_sample))
    finally:
        client.close()
    done = totals.events
    row = {"database": "postgres", "scenario": f"nodes_{len(servers)}", "events": done,
           "requests": len(load.completed), "seconds": round(load.wall_s, 2),
           "events_per_s": round(done / load.wall_s, 1) if load.wall_s else None,
           "p50_ms": load.percentile(50), "p99_ms": load.percentile(99),
           "server_cpu_util": round(cpu / load.wall_s, 2) if load.wall_s else None,
           "events_per_server_cpu_s": round(done / cpu, 1) if cpu else None,
           "exact": counts["ok"] and checked["mismatches"] == 0}
    reporter.log(f"postgres nodes={len(servers)}: {row['events_per_s']} events/s, "
                 f"{row['events_per_server_cpu_s']} events per server CPU-s, "
                 f"exact={row['exact']}")
    return row
