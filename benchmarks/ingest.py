"""The ingest scenarios: new events (batches of N, of 1, and the 3-metric mix) and their
pure duplicate replays, each followed by the floors on the same request bodies."""

from __future__ import annotations

from benchmarks.config import HEADLINE_METRICS, MIX_METRICS
from benchmarks.dbrun import INGEST, DbRun, Replayable, phase_clients
from benchmarks.floor_phases import asgi_floor_phase, floor_phase
from benchmarks.loadgen import Request
from benchmarks.phases import timed_phase, verify_and_record
from benchmarks.workload import Event, bodies, generate


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
    load = timed_phase(
        run, scenario, requests, phase_clients(run, scenario), expect="accepted", report=False
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
        verify_and_record(run, scenario, requests, load, "accepted", rss)
    if not mix:
        floor_phase(run, scenario, requests, chunks, report=report)
    if single:
        asgi_floor_phase(run, scenario, requests, report=report)


def ingest_dup(run: DbRun, scenario: str) -> None:
    """Replay every acknowledged request of the matching "new" scenario: all duplicates."""
    if scenario not in run.replay:
        ingest_new(run, scenario.replace("_dup", "_new"), report=False)
    replay = run.replay[scenario]
    load = timed_phase(
        run,
        scenario,
        replay.requests,
        phase_clients(run, scenario),
        expect="duplicates",
        report=True,
    )
    rate = load.events / load.wall_s if load.wall_s else 0.0
    new_rate = run.rates.get(scenario.replace("_dup", "_new"))
    run.rows[-1]["dup_ratio"] = round(rate / new_rate, 2) if new_rate else None
    floor_phase(run, scenario, run.floor_replay.get(scenario, []), [], report=True)
    if scenario.startswith("single"):
        asgi_floor_phase(run, scenario, run.floor_replay.get(f"asgi_{scenario}", []), report=True)
