"""Benchmark sizes and targets.

Sizes live in one place so that ``--quick`` (sanity check) and the pytest smoke test run the
exact same code paths as the full run, just smaller. Every phase is bounded both in count
(the number of requests is fixed before it starts) and in time (``time_limit_s``): in the
full run the counts are sized so that a fast server finishes its list and a slow one is
stopped after 20 s.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How big each scenario is; one instance per mode (full, quick, smoke)."""

    name: str
    customers: int
    batch_size: int
    batch_events: int
    batch_clients: int
    single_requests: int
    single_clients: int
    ledger_events: int
    preload_batch: int
    read_requests: int
    verify_sample: int
    time_limit_s: float
    preload_time_limit_s: dict[str, float]
    import_lines: int
    worker_counts: tuple[int, ...]
    worker_clients: int


# Sized so that `make bench` stays under ~20 minutes on a 2-core machine: every ingest phase
# (server and floor) stops after 20 s, the preload (1M events in the ledger) has a budget.
# If the budget runs out, the ledger stays smaller (the row records ``ledger_events``, and the
# read target is then reported as not judged at 1M).
FULL = Profile(
    name="full",
    customers=10_000,
    batch_size=500,
    batch_events=400_000,
    batch_clients=4,
    single_requests=60_000,
    single_clients=16,
    ledger_events=1_000_000,
    preload_batch=1000,
    # 10 000 reads per read phase (bounded by the 20 s limit): the p99 of 2 000 reads, a
    # phase of about a second, was its 20th worst and moved by 2-3x between windows of
    # one run (ADR 0977)
    read_requests=10_000,
    verify_sample=500,
    time_limit_s=20.0,
    preload_time_limit_s={"sqlite": 150.0, "postgres": 150.0},
    import_lines=50_000,
    worker_counts=(1, 2, 4),
    worker_clients=8,
)

QUICK = Profile(
    name="quick",
    customers=1_000,
    batch_size=500,
    batch_events=40_000,
    batch_clients=4,
    single_requests=4_000,
    single_clients=16,
    ledger_events=60_000,
    preload_batch=1000,
    read_requests=500,
    verify_sample=1_000,
    time_limit_s=8.0,
    preload_time_limit_s={"sqlite": 60.0, "postgres": 60.0},
    import_lines=20_000,
    worker_counts=(1, 2, 4),
    worker_clients=8,
)

SMOKE = Profile(
    name="smoke",
    customers=50,
    batch_size=100,
    batch_events=400,
    batch_clients=2,
    single_requests=40,
    single_clients=2,
    ledger_events=1_000,
    preload_batch=200,
    read_requests=20,
    verify_sample=50,
    time_limit_s=20.0,
    preload_time_limit_s={"sqlite": 20.0, "postgres": 20.0},
    import_lines=1_000,
    worker_counts=(1, 2),
    worker_clients=2,
)

PROFILES = {p.name: p for p in (FULL, QUICK, SMOKE)}

#: Every metric the scenarios write to: code -> (aggregation, extra definition fields).
METRICS: dict[str, dict[str, str]] = {
    "bench_sum": {"aggregation": "sum"},
    "bench_count": {"aggregation": "count"},
    "bench_unique": {"aggregation": "unique_count", "uniqueProperty": "resourceId"},
}

#: The headline scenarios send one sum metric (what the issue's targets are stated for);
#: ``batch_mix`` spreads its events over all three.
HEADLINE_METRICS = ("bench_sum",)
MIX_METRICS = tuple(METRICS)

#: Distinct resource ids per customer for ``bench_unique`` (so that duplicates of a value occur).
RESOURCES_PER_CUSTOMER = 40

SCENARIOS = (
    "batch_new",
    "batch_dup",
    "single_new",
    "single_dup",
    "batch_mix",
    "read_current",
    "read_periods",
    "read_history",
    "rebuild",
)
DATABASES = ("sqlite", "postgres")


@dataclass(frozen=True)
class Target:
    """One target from the issue: ``field`` of ``scenario`` compared with ``op`` to ``value``."""

    scenario: str
    database: str | None  # None: every database
    field: str
    op: str  # ">=" or "<"
    value: float
    label: str

    def met(self, measured: float | None) -> bool | None:
        """None when the scenario was not run (or produced no figure)."""
        if measured is None:
            return None
        return measured >= self.value if self.op == ">=" else measured < self.value


_SINGLE = "single events (16 connections)"
_BATCH = "batch ingest (500 x 4 clients)"

TARGETS = (
    # Issue 19: the ratio to the floor measured in the same run is the target; the absolute
    # figures are what that ratio meant on the reference 2-core machine when it was filed.
    Target("batch_new", None, "floor_ratio", ">=", 0.5, "batch ingest / floor, same run"),
    Target("batch_new", None, "floor_ratio", ">=", 0.8, "batch ingest / floor, stretch"),
    Target("batch_new", "sqlite", "events_per_s", ">=", 45_000, _BATCH),
    Target("batch_new", "postgres", "events_per_s", ">=", 20_000, _BATCH),
    Target("single_new", "sqlite", "requests_per_s", ">=", 3_000, _SINGLE),
    Target("single_new", "postgres", "requests_per_s", ">=", 2_000, _SINGLE),
    Target("single_new", None, "p99_ms", "<", 20, "single events p99"),
    Target("batch_dup", None, "dup_ratio", ">=", 2, "batch replays / new-event rate"),
    Target("single_dup", None, "dup_ratio", ">=", 2, "single replays / new-event rate"),
    Target("read_current", None, "p99_ms", "<", 5, "current-usage read p99 at >= 1M events"),
    Target("read_periods", None, "p99_ms", "<", 20, "usage periods read p99 at >= 1M events"),
    Target("read_history", None, "p99_ms", "<", 20, "usage history read p99 at >= 1M events"),
    Target("rebuild", "sqlite", "events_per_s", ">=", 200_000, "rebuild"),
    Target("rebuild", "postgres", "events_per_s", ">=", 100_000, "rebuild"),
    Target("*", None, "peak_rss_mb", "<", 300, "server peak RSS"),
    Target("push_drain", None, "changes_per_s", ">=", 1_000, "Stripe pusher, v1 meter events"),
    Target("push_drain_v2", None, "changes_per_s", ">=", 5_000, "Stripe pusher, v2 streams"),
    Target("push_drain", None, "floor_ratio", ">=", 0.8, "Stripe pusher v1 / httpx floor"),
    Target("push_drain_v2", None, "floor_ratio", ">=", 0.8, "Stripe pusher v2 / httpx floor"),
    Target("push_lag", None, "lag_p99_s", "<", 2, "push lag p99 at 500 changes/s"),
)
