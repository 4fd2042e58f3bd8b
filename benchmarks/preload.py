"""Fill the ledger to >= 1M events for the read-latency and rebuild scenarios.

Two paths, same ingest code: ``http`` (batches of 1000 through the running server, 4 client
processes — the default) and ``direct`` (``ingest_batch`` inside ``Store(url).unit_of_work``
in this process: the service layer minus HTTP, for when the HTTP path is too slow).
Both are generated in rounds so that at most ~200k pre-serialised events sit in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks.config import Profile
from benchmarks.loadgen import Request, run_load
from benchmarks.progress import Reporter
from benchmarks.server import Server
from benchmarks.workload import bodies, generate

ROUND = 200_000


def preload(
    server: Server,
    url: str,
    count: int,
    profile: Profile,
    reporter: Reporter,
    mode: str,
    database: str,
) -> int:
    """Add ``count`` new events (fewer if the time limit is hit); returns how many were added."""
    budget = profile.preload_time_limit_s[database]
    if mode == "direct":
        return _direct(url, count, profile, reporter, budget)
    added = 0
    deadline = datetime.now(UTC).timestamp() + budget
    with reporter.task("preload (http)", count) as update:
        for rnd in range((count + ROUND - 1) // ROUND):
            remaining_s = deadline - datetime.now(UTC).timestamp()
            if remaining_s <= 0:
                reporter.log("preload: time limit reached")
                break
            n = min(ROUND, count - rnd * ROUND)
            events = generate(f"preload-{rnd}", n, profile.customers, seed=100 + rnd)
            reqs = [
                Request("POST", "/v1/events/ingest", body, k)
                for body, k in bodies(events, profile.preload_batch)
            ]
            base = added
            load = run_load(
                server.port,
                server.key,
                reqs,
                clients=4,
                time_limit=remaining_s,
                on_progress=lambda done, base=base: update(base + done * profile.preload_batch),
            )
            added += load.counts.get("accepted", 0)
            if load.errors:
                reporter.log(f"preload errors: {load.errors[:3]}")
    return added


def _direct(url: str, count: int, profile: Profile, reporter: Reporter, budget: float) -> int:
    from stripemeter_server.domain.events import EventLimits
    from stripemeter_server.service.ingest.pipeline import ingest_batch
    from stripemeter_server.storage.unit_of_work import Store

    store = Store(url)
    limits = EventLimits()
    added = 0
    deadline = datetime.now(UTC).timestamp() + budget
    try:
        with reporter.task("preload (direct)", count) as update:
            for rnd in range((count + ROUND - 1) // ROUND):
                n = min(ROUND, count - rnd * ROUND)
                events = generate(f"preload-{rnd}", n, profile.customers, seed=100 + rnd)
                for offset in range(0, n, profile.preload_batch):
                    if datetime.now(UTC).timestamp() > deadline:
                        reporter.log("preload: time limit reached")
                        return added
                    raw = [e.as_json() for e in events[offset : offset + profile.preload_batch]]
                    with store.unit_of_work("default") as uow:
                        outcome = ingest_batch(uow, raw, now=datetime.now(UTC), limits=limits)
                        uow.commit()
                    added += outcome.count("accepted")
                    update(added)
    finally:
        store.close()
    return added
