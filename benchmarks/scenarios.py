"""The scenarios, run in order against one server: ingest (batches of N and of 1, new events
then pure duplicate replays, each followed by the plain floor on the same request bodies;
then the 3-metric mix), then — with the ledger topped up to >= 1M events — current-usage read
latency and rebuild speed.

A replay scenario needs its "new" scenario's events in the ledger, and the read/rebuild
scenarios need the preload, so ``--scenario X`` runs those prerequisites untimed first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.asgi_floor import AsgiFloor
from benchmarks.config import HEADLINE_METRICS, METRICS, MIX_METRICS, Profile
from benchmarks.floor import FloorStore, run_floor
from benchmarks.loadgen import LoadResult, Request, run_load
from benchmarks.preload import preload
from benchmarks.proctree import tree_cpu_seconds
from benchmarks.progress import Reporter
from benchmarks.server import Server, free_port
from benchmarks.settle import settle
from benchmarks.verify import check_counts, check_totals, sample_customers, snapshot
from benchmarks.workload import Event, Totals, bodies, customer_ref, generate

INGEST = "/v1/events/ingest"


@dataclass
class Replayable:
    """The requests a "new" scenario completed, kept for its duplicate replay."""

    requests: list[Request]
    events: int


@dataclass
class DbRun:
    """State shared by the scenarios of one database: server, expected totals, ledger size."""

    database: str
    url: str
    server: Server
    profile: Profile
    reporter: Reporter
    preload_mode: str
    totals: Totals = field(default_factory=Totals)
    ledger: int = 0
    replay: dict[str, Replayable] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    last_cpu_s: float = 0.0
    database_pid: int | None = None  # PostgreSQL's postmaster: its backends' CPU per phase
    last_database_cpu_s: float | None = None
    preloaded: bool = False
    settled: bool = False  # the store's background work after the fill done (settle.py)
    floor: FloorStore | None = None
    floor_totals: Totals = field(default_factory=Totals)
    floor_replay: dict[str, list[Request]] = field(default_factory=dict)
    asgi_floor_url: str | None = None  # the framework floor's scratch store (single events)
    asgi_floor: AsgiFloor | None = None
    rates: dict[str, float] = field(default_factory=dict)

    @property
    def sample(self) -> list[str]:
        return sample_customers(self.profile.customers, self.profile.verify_sample)


def create_metrics(server: Server) -> None:
    client = server.client()
    try:
        for code, definition in METRICS.items():
            body = {
                "code": code,
                "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
                **definition,
            }
            status, reply = client.call("POST", "/v1/metrics", body)
            if status not in (200, 201):
                raise RuntimeError(f"creating metric {code}: HTTP {status} {reply}")
    finally:
        client.close()


def _row(
    run: DbRun,
    scenario: str,
    load: LoadResult,
    *,
    rss_mb: float,
    exact: bool | None,
    checks: dict[str, Any],
    **extra: Any,
) -> dict[str, Any]:
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


def _database_seconds(run: DbRun) -> float | None:
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


def _ingest(
    run: DbRun,
    scenario: str,
    requests: Sequence[Request],
    clients: int,
    *,
    expect: str,
    report: bool,
) -> LoadResult:
    """Time one ingest phase, then verify counts and totals; appends a row when ``report``."""
    run.server.rss.reset()
    cpu_before = run.server.cpu_seconds()
    database_before = _database_seconds(run)
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
    database_after = _database_seconds(run)
    run.last_database_cpu_s = (
        None if database_after is None else database_after - (database_before or 0.0)
    )
    rss = run.server.rss.peak_mb()
    return load if not report else _verify_and_record(run, scenario, requests, load, expect, rss)


def _verify_and_record(
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
        _row(
            run,
            scenario,
            load,
            rss_mb=rss,
            exact=exact,
            checks={"responses": counts, "totals": totals},
            batch_size=max((r.events for r in sent), default=0),
            clients=_clients(run, scenario),
        )
    )
    run.reporter.log(_summary(run.rows[-1]))
    return load


def _clients(run: DbRun, scenario: str) -> int:
    p = run.profile
    return p.single_clients if scenario.startswith("single") else p.batch_clients


def _summary(row: dict[str, Any]) -> str:
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
            f", database {row['database_cpu_us_per_event']} µs CPU per event"
            if row.get("database_cpu_us_per_event") is not None
            else ""
        )
        + f", exact={row['exact']}"
    )


def ingest_new(run: DbRun, scenario: str, *, report: bool = True) -> None:
    """Fresh events (new keys): batches of ``batch_size`` or of 1, one sum metric (all three
    for ``batch_mix``); then the floor on the same bodies (not for the mix)."""
    p = run.profile
    single = scenario.startswith("single")
    mix = scenario == "batch_mix"
    # The mix is an extra: half the headline's list, which its 20 s rarely exhaust anyway.
    count = p.single_requests if single else p.batch_events // 2 if mix else p.batch_events
    size = 1 if single else p.batch_size
    events = generate(
        f"{scenario}-{run.database}",
        count,
        p.customers,
        seed=1 if single else 3 if mix else 2,
        metrics=MIX_METRICS if mix else HEADLINE_METRICS,
    )
    chunks: list[list[Event]] = [events[i : i + size] for i in range(0, len(events), size)]
    requests = [Request("POST", INGEST, body, n) for body, n in bodies(events, size)]
    run.reporter.log(
        f"{run.database} {scenario}: {len(requests)} requests of {size} event(s) built"
    )
    load = _ingest(
        run, scenario, requests, _clients(run, scenario), expect="accepted", report=False
    )
    # Expected totals only include what the server acknowledged (a phase may hit its time
    # limit); anything else makes the response check fail, so ``exact`` is then false.
    for index in load.completed:
        run.totals.add(chunks[index])
    run.ledger += sum(len(chunks[i]) for i in load.completed)
    if not mix:
        done = [requests[i] for i in load.completed]
        run.replay[scenario.replace("_new", "_dup")] = Replayable(done, sum(r.events for r in done))
    run.rates[scenario] = load.events / load.wall_s if load.wall_s else 0.0
    if report:
        rss = run.server.rss.peak_mb()
        _verify_and_record(run, scenario, requests, load, "accepted", rss)
    if not mix:
        floor_phase(run, scenario, requests, chunks, report=report)
    if single:
        asgi_floor_phase(run, scenario, requests, report=report)


def ingest_dup(run: DbRun, scenario: str) -> None:
    """Replay every acknowledged request of the matching "new" scenario: all duplicates."""
    if scenario not in run.replay:
        ingest_new(run, scenario.replace("_dup", "_new"), report=False)
    replay = run.replay[scenario]
    load = _ingest(
        run, scenario, replay.requests, _clients(run, scenario), expect="duplicates", report=True
    )
    rate = load.events / load.wall_s if load.wall_s else 0.0
    new_rate = run.rates.get(scenario.replace("_dup", "_new"))
    run.rows[-1]["dup_ratio"] = round(rate / new_rate, 2) if new_rate else None
    floor_phase(run, scenario, run.floor_replay.get(scenario, []), [], report=True)
    if scenario.startswith("single"):
        asgi_floor_phase(run, scenario, run.floor_replay.get(f"asgi_{scenario}", []), report=True)


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
            clients=_clients(run, scenario),
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
        **{f"p{p}_ms": _round(load.percentile(p)) for p in (50, 95, 99)},
        "server_cpu_s": round(cpu, 2),
        "server_cpu_util": round(cpu / load.wall_s, 2) if load.wall_s else None,
        "events_per_server_cpu_s": round(load.events / cpu, 1) if cpu else None,
        "exact": counts["ok"],
        "timed_out": load.timed_out,
        "clients": _clients(run, scenario),
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
        **{f"p{p}_ms": _round(load.percentile(p)) for p in (50, 95, 99)},
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


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def cpu_ratio(server_per_cpu_s: float | None, floor_per_cpu_s: float | None) -> float | None:
    """Server events per CPU-second ÷ the floor's: the floor ratio measured in CPU instead of
    wall time, so waiting for a core on a busy machine cancels out (neither side counts the
    PostgreSQL backend's CPU; SQLite's runs inside both processes)."""
    if not server_per_cpu_s or not floor_per_cpu_s:
        return None
    return round(server_per_cpu_s / floor_per_cpu_s, 3)


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
    after 100 warm-up requests; the row also carries the server's CPU per request. The
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
    load = _ingest(run, scenario, reqs, READ_CLIENTS, expect="", report=False)
    # every answer a 200 (a phase stopped by its time limit says so in ``timed_out``)
    ok = load.statuses.get(200, 0) == load.requests > 0 and not load.errors and not load.dropped
    cpu_ms = round(run.last_cpu_s * 1000 / max(load.requests, 1), 3)
    run.rows.append(
        _row(
            run,
            scenario,
            load,
            rss_mb=run.server.rss.peak_mb(),
            exact=None,
            checks={"allOk": ok},
            ledger_events=run.ledger,
            clients=READ_CLIENTS,
            server_cpu_ms_per_request=cpu_ms,
        )
    )
    run.reporter.log(_summary(run.rows[-1]))


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


RUNNERS = {
    "batch_new": lambda run: ingest_new(run, "batch_new"),
    "batch_mix": lambda run: ingest_new(run, "batch_mix"),
    "batch_dup": lambda run: ingest_dup(run, "batch_dup"),
    "single_new": lambda run: ingest_new(run, "single_new"),
    "single_dup": lambda run: ingest_dup(run, "single_dup"),
    "read_current": lambda run: read(run, "read_current"),
    "read_periods": lambda run: read(run, "read_periods"),
    "read_history": lambda run: read(run, "read_history"),
    "rebuild": rebuild,
}
