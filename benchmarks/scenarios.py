"""The scenarios, run in order against one server: ingest (batches of N and of 1, new events
then pure duplicate replays), then — with the ledger topped up to >= 1M events — current-usage
read latency and rebuild speed.

A replay scenario needs its "new" scenario's events in the ledger, and the read/rebuild
scenarios need the preload, so ``--scenario X`` runs those prerequisites untimed first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.config import METRICS, Profile
from benchmarks.loadgen import LoadResult, Request, run_load
from benchmarks.preload import preload
from benchmarks.progress import Reporter
from benchmarks.server import Server
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
    preloaded: bool = False

    @property
    def sample(self) -> list[str]:
        return sample_customers(self.profile.customers, self.profile.verify_sample)


def create_metrics(server: Server) -> None:
    client = server.client()
    try:
        for code, definition in METRICS.items():
            body = {"code": code, "period": {"type": "month", "anchorDay": 1, "timezone": "UTC"},
                    **definition}
            status, reply = client.call("POST", "/v1/metrics", body)
            if status not in (200, 201):
                raise RuntimeError(f"creating metric {code}: HTTP {status} {reply}")
    finally:
        client.close()


def _row(run: DbRun, scenario: str, load: LoadResult, *, rss_mb: float, exact: bool | None,
         checks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    wall = load.wall_s or float("nan")
    cpu = run.last_cpu_s
    p50, p99 = load.percentile(50), load.percentile(99)
    return {"database": run.database, "scenario": scenario, "requests": load.requests,
            "events": load.events, "seconds": round(load.wall_s, 3),
            "events_per_s": round(load.events / wall, 1) if load.events else None,
            "requests_per_s": round(load.requests / wall, 1) if load.requests else None,
            "p50_ms": None if p50 is None else round(p50, 3),
            "p99_ms": None if p99 is None else round(p99, 3),
            "peak_rss_mb": rss_mb, "exact": exact, "timed_out": load.timed_out,
            "server_cpu_s": round(cpu, 2),
            "server_cpu_util": round(cpu / wall, 2) if load.wall_s else None,
            "events_per_server_cpu_s": round(load.events / cpu, 1) if cpu and load.events
            else None,
            "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
            "errors": load.errors[:5], "checks": checks, **extra}


def _ingest(run: DbRun, scenario: str, requests: Sequence[Request], clients: int,
            *, expect: str, report: bool) -> LoadResult:
    """Time one ingest phase, then verify counts and totals; appends a row when ``report``."""
    run.server.rss.reset()
    cpu_before = run.server.cpu_seconds()
    with run.reporter.task(f"{run.database} {scenario}", len(requests)) as update:
        load = run_load(run.server.port, run.server.key, requests, clients=clients,
                        time_limit=run.profile.time_limit_s, on_progress=update)
    run.last_cpu_s = run.server.cpu_seconds() - cpu_before
    rss = run.server.rss.peak_mb()
    return load if not report else _verify_and_record(run, scenario, requests, load, expect, rss)


def _verify_and_record(run: DbRun, scenario: str, requests: Sequence[Request],
                       load: LoadResult, expect: str, rss: float) -> LoadResult:
    sent = [requests[i] for i in load.completed]
    counts = check_counts(load, sent_requests=len(requests),
                          sent_events=sum(r.events for r in requests), expect=expect)
    client = run.server.client()
    try:
        totals = check_totals(client, run.totals, run.sample)
    finally:
        client.close()
    exact = counts["ok"] and totals["mismatches"] == 0
    run.rows.append(_row(run, scenario, load, rss_mb=rss, exact=exact,
                         checks={"responses": counts, "totals": totals},
                         batch_size=max((r.events for r in sent), default=0),
                         clients=_clients(run, scenario)))
    run.reporter.log(_summary(run.rows[-1]))
    return load


def _clients(run: DbRun, scenario: str) -> int:
    p = run.profile
    return p.batch_clients if scenario.startswith("batch") else p.single_clients


def _summary(row: dict[str, Any]) -> str:
    rate = row["events_per_s"] or row["requests_per_s"]
    return (f"{row['database']} {row['scenario']}: {rate} /s, p50 {row['p50_ms']} ms, "
            f"p99 {row['p99_ms']} ms, RSS {row['peak_rss_mb']} MB, "
            f"server CPU {row['server_cpu_util']} cores, exact={row['exact']}")


def ingest_new(run: DbRun, scenario: str, *, report: bool = True) -> None:
    """Fresh events (new keys): batches of ``batch_size`` or of 1."""
    p = run.profile
    single = scenario.startswith("single")
    count = p.single_requests if single else p.batch_events
    size = 1 if single else p.batch_size
    events = generate(f"{scenario}-{run.database}", count, p.customers,
                      seed=1 if single else 2)
    chunks: list[list[Event]] = [events[i:i + size] for i in range(0, len(events), size)]
    requests = [Request("POST", INGEST, body, n) for body, n in bodies(events, size)]
    run.reporter.log(f"{run.database} {scenario}: {len(requests)} requests of {size} event(s) "
                     f"built")
    load = _ingest(run, scenario, requests, _clients(run, scenario), expect="accepted",
                   report=False)
    # Expected totals only include what the server acknowledged (a phase may hit its time
    # limit); anything else makes the response check fail, so ``exact`` is then false.
    for index in load.completed:
        run.totals.add(chunks[index])
    run.ledger += sum(len(chunks[i]) for i in load.completed)
    done = [requests[i] for i in load.completed]
    run.replay[scenario.replace("_new", "_dup")] = Replayable(done, sum(r.events for r in done))
    if report:
        rss = run.server.rss.peak_mb()
        _verify_and_record(run, scenario, requests, load, "accepted", rss)


def ingest_dup(run: DbRun, scenario: str) -> None:
    """Replay every acknowledged request of the matching "new" scenario: all duplicates."""
    if scenario not in run.replay:
        ingest_new(run, scenario.replace("_dup", "_new"), report=False)
    replay = run.replay[scenario]
    _ingest(run, scenario, replay.requests, _clients(run, scenario), expect="duplicates",
            report=True)


def fill_ledger(run: DbRun) -> None:
    """Top the ledger up to ``ledger_events`` once (its rate is logged, not a scenario); if
    the time budget ran out, later scenarios use the ledger as it is."""
    missing = run.profile.ledger_events - run.ledger
    if missing <= 0 or run.preloaded:
        return
    run.preloaded = True
    started = time.monotonic()
    added = preload(run.server, run.url, missing, run.profile, run.reporter, run.preload_mode,
                    run.database)
    seconds = time.monotonic() - started
    run.ledger += added
    run.reporter.log(f"{run.database} preload ({run.preload_mode}): {added} events in "
                     f"{seconds:.1f} s ({added / max(seconds, 1e-9):.0f} events/s); "
                     f"ledger {run.ledger}")
    run.rows.append({"database": run.database, "scenario": "preload", "mode": run.preload_mode,
                     "events": added, "seconds": round(seconds, 3),
                     "events_per_s": round(added / max(seconds, 1e-9), 1),
                     "ledger_events": run.ledger})


def read_current(run: DbRun) -> None:
    """Sequential ``GET /v1/usage/current`` for random customers, one client, keep-alive."""
    fill_ledger(run)
    p = run.profile
    rng = random.Random(11)
    paths = [f"/v1/usage/current?customerRef={customer_ref(rng.randrange(p.customers))}"
             for _ in range(p.read_requests + 100)]
    warm = [Request("GET", path) for path in paths[:100]]
    run_load(run.server.port, run.server.key, warm, clients=1, time_limit=30)
    reqs = [Request("GET", path) for path in paths[100:]]
    load = _ingest(run, "read_current", reqs, 1, expect="", report=False)
    ok = load.statuses.get(200, 0) == len(reqs)
    run.rows.append(_row(run, "read_current", load, rss_mb=run.server.rss.peak_mb(), exact=None,
                         checks={"allOk": ok}, ledger_events=run.ledger, clients=1))
    run.reporter.log(_summary(run.rows[-1]))


def rebuild(run: DbRun, metric: str = "bench_sum") -> None:
    """Rebuild one metric's counters from the ledger through the service function (what
    ``stripemeter rebuild`` calls), timed around the call and its commit. The counters must
    be identical afterwards (checked over the verification sample)."""
    from stripemeter_server.service.catalog import load_metrics
    from stripemeter_server.service.rebuild import rebuild_metric
    from stripemeter_server.storage.unit_of_work import Store

    fill_ledger(run)
    client = run.server.client()
    before = snapshot(client, run.sample)
    store = Store(run.url)
    try:
        with run.reporter.task(f"{run.database} rebuild {metric}", run.ledger // 3) as update, \
                store.unit_of_work("default") as uow:
            definition = load_metrics(uow)[metric]
            now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
            started = time.perf_counter()
            report = rebuild_metric(uow, definition, customer_ref=None, now_us=now_us,
                                    progress=update)
            uow.commit()
            seconds = time.perf_counter() - started
    finally:
        store.close()
    after = snapshot(client, run.sample)
    client.close()
    same = before == after
    run.rows.append({"database": run.database, "scenario": "rebuild", "metric": metric,
                     "events": report.events, "counters": report.counters,
                     "seconds": round(seconds, 3),
                     "events_per_s": round(report.events / max(seconds, 1e-9), 1),
                     "ledger_events": run.ledger, "exact": same,
                     "checks": {"customersChecked": len(before), "unchanged": same}})
    run.reporter.log(f"{run.database} rebuild {metric}: {report.events} events in "
                     f"{seconds:.2f} s, exact={same}")


RUNNERS = {
    "batch_new": lambda run: ingest_new(run, "batch_new"),
    "batch_dup": lambda run: ingest_dup(run, "batch_dup"),
    "single_new": lambda run: ingest_new(run, "single_new"),
    "single_dup": lambda run: ingest_dup(run, "single_dup"),
    "read_current": read_current,
    "rebuild": rebuild,
}
