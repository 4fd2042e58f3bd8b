"""The load generator: N client processes with keep-alive ``http.client`` connections.

Why processes: the server has 2 cores to itself at most, and a Python client in the same
interpreter as the orchestrator would fight it for the GIL and skew latencies. Each client
gets its share of pre-built requests (bytes), connects, waits for a common start signal,
then sends its requests back to back. Every client stops by itself when its list is done
or its deadline passes (bounded in count AND time); traffic only goes to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import re
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.rawhttp import RawConnection, encode_request

HOST = "127.0.0.1"
_COUNT = re.compile(rb'"(accepted|duplicates|conflicts|rejected)":(\d+)')
_MAX_ERRORS = 20


@dataclass(frozen=True, slots=True)
class Request:
    """One pre-built request; ``events`` is how many events its body carries (0 for reads)."""

    method: str
    path: str
    body: bytes | None = None
    events: int = 0


@dataclass
class LoadResult:
    """What the clients saw: timings, per-status counts and which requests completed."""

    wall_s: float = 0.0
    requests: int = 0
    events: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    completed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    dropped: int = 0  # requests sent that never got a response (after one retry)

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile of the request latencies, in ms."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]


def _client(
    index: int,
    port: int,
    key: str,
    requests: Sequence[Request],
    positions: Sequence[int],
    time_limit: float,
    ready: Any,
    go: Any,
    progress: Any,
    out: Any,
) -> None:
    """One client process: connect, wait for ``go``, send, report through ``out``."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    raw = {
        pos: encode_request(r.method, r.path, r.body, headers)
        for pos in positions
        for r in [requests[pos]]
    }
    conn = RawConnection(HOST, port, timeout=30)
    conn.connect()
    ready.put(index)
    go.wait(timeout=60)
    latencies = array("d")
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    completed: list[int] = []
    errors: list[str] = []
    events = dropped = 0
    start = time.perf_counter()
    deadline = start + time_limit
    timed_out = False
    for done, pos in enumerate(positions):
        if time.perf_counter() > deadline:
            timed_out = True
            break
        req = requests[pos]
        # A dropped connection (the server closes it after a 500) gets one retry on a new
        # connection: safe, because every ingest request carries explicit idempotency keys.
        for _attempt in range(2):
            t0 = time.perf_counter()
            try:
                status, data = conn.exchange(raw[pos])
                break
            except OSError as exc:
                if len(errors) < _MAX_ERRORS:
                    errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
        else:
            dropped += 1
            continue
        latencies.append((time.perf_counter() - t0) * 1000.0)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            completed.append(pos)
            events += req.events
            if req.events:
                for name, value in _COUNT.findall(data[:200]):
                    counts[name.decode()] = counts.get(name.decode(), 0) + int(value)
        elif len(errors) < _MAX_ERRORS:
            errors.append(f"HTTP {status}: {data[:200]!r}")
        progress[index] = done + 1
    end = time.perf_counter()
    conn.close()
    out.put(
        {
            "index": index,
            "start": start,
            "end": end,
            "latencies": latencies.tobytes(),
            "counts": counts,
            "statuses": statuses,
            "completed": completed,
            "errors": errors,
            "events": events,
            "timed_out": timed_out,
            "dropped": dropped,
        }
    )


def run_load(
    port: int | Sequence[int],
    key: str,
    requests: Sequence[Request],
    *,
    clients: int,
    time_limit: float,
    on_progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Send ``requests`` split round-robin over ``clients`` processes; wall time is measured
    from the common start signal to the last client's finish (CLOCK_MONOTONIC is shared).
    Several ports (server nodes) are shared out round-robin over the clients."""
    ports = [port] if isinstance(port, int) else list(port)
    ctx = mp.get_context("fork")
    ready, out = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    progress = ctx.Array("q", clients, lock=False)
    procs = [
        ctx.Process(
            target=_client,
            daemon=True,
            args=(
                i,
                ports[i % len(ports)],
                key,
                requests,
                range(i, len(requests), clients),
                time_limit,
                ready,
                go,
                progress,
                out,
            ),
        )
        for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=60)
    go.set()
    reports: list[dict[str, Any]] = []
    hard_deadline = time.monotonic() + time_limit + 90
    while len(reports) < clients and time.monotonic() < hard_deadline:
        with contextlib.suppress(queue.Empty):
            reports.append(out.get(timeout=0.25))
        if on_progress is not None:
            on_progress(sum(progress))
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5)
    return _merge(reports, clients)


def _merge(reports: list[dict[str, Any]], clients: int) -> LoadResult:
    result = LoadResult()
    if len(reports) < clients:
        result.errors.append(f"{clients - len(reports)} client(s) never reported")
        result.timed_out = True
    if not reports:
        return result
    result.wall_s = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    for r in reports:
        lat = array("d")
        lat.frombytes(r["latencies"])
        result.latencies_ms.extend(lat)
        for name, value in r["counts"].items():
            result.counts[name] = result.counts.get(name, 0) + value
        for status, value in r["statuses"].items():
            result.statuses[status] = result.statuses.get(status, 0) + value
        result.completed.extend(r["completed"])
        result.errors.extend(r["errors"][:_MAX_ERRORS])
        result.events += r["events"]
        result.dropped += r["dropped"]
        result.timed_out = result.timed_out or r["timed_out"]
    result.requests = len(result.latencies_ms)
    result.completed.sort()
    return result
