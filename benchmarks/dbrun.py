"""The state one database's scenarios share (``DbRun``): its server, the totals the
server must report, the ledger's size, the requests kept for replays and the rows so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.asgi_floor import AsgiFloor
from benchmarks.config import METRICS, Profile
from benchmarks.floor import FloorStore
from benchmarks.loadgen import Request
from benchmarks.progress import Reporter
from benchmarks.server import Server
from benchmarks.verify import sample_customers
from benchmarks.workload import Totals

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
    """Define the workload's metrics on a fresh server: ingest refuses unknown metric codes."""
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


def phase_clients(run: DbRun, scenario: str) -> int:
    """The closed-loop clients of a phase: single events and batches have their own counts."""
    p = run.profile
    return p.single_clients if scenario.startswith("single") else p.batch_clients
