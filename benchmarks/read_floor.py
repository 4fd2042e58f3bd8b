"""The harness floor of a usage read (ADR 0987): ``python -m benchmarks.read_floor``.

``read_current``'s p99 is issue 19's read target, but a read costs the server ~0.3 ms of CPU
and its p99 sat at 5-7 ms: the slowest 1 % wait for something else. This tool answers
*for what*: a bare ASGI app, served by the same uvicorn settings and HTTP protocol class as
``stripemeter serve`` (one process), answers every ``GET`` with a fixed JSON body of a
current-usage answer's size after burning ``--cpu-ms`` of its thread's CPU — no store, no
logging, no GC of note, no other thread. It is driven exactly as ``read_current`` drives the
server (the bench's load generator: 4 closed-loop client processes, keep-alive, 100 warm-up
requests, then ``--requests``). Its p99 at the server's CPU per read is what the machine and
the harness give any read of that cost; what the server's p99 exceeds it by is the server's.

    python -m benchmarks.read_floor --cpu-ms 0 0.15 0.3 --rounds 2

Each round runs every ``--cpu-ms`` once, in the order given; every line carries the load
average. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from benchmarks.loadgen import Request, run_load
from benchmarks.proctree import run_queue_seconds, tree_cpu_seconds
from benchmarks.server import HOST, free_port

CLIENTS = 4  # as ``reads.READ_CLIENTS``
WARM_UP = 100
# a current-usage answer's size (one metric, its period, its cost)
BODY = (
    b'{"customerRef":"cus_0001234","tenantId":"default","asOf":"2026-12-08T01:00:00.000000Z",'
    b'"metrics":[{"metric":"bench_sum","aggregation":"sum","value":"12345.67",'
    b'"periodStart":"2026-12-01T00:00:00Z","periodEnd":"2027-01-01T00:00:00Z",'
    b'"cost":null,"currency":null}],"backfills":[]}'
)

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def build_app(cpu_s: float) -> Callable[[Scope, Any, Send], Awaitable[None]]:
    """The bare app: ``cpu_s`` of this thread's CPU, then the fixed answer."""
    head = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BODY)).encode()),
        ],
    }
    body = {"type": "http.response.body", "body": BODY}

    async def app(scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        end = time.thread_time() + cpu_s
        while time.thread_time() < end:
            pass
        await send(head)
        await send(body)

    return app


def serve(port: int, cpu_ms: float) -> None:
    import uvicorn

    from stripemeter_server.api.protocol import DEFAULT_PROTOCOL

    uvicorn.run(
        build_app(cpu_ms / 1000),
        host=HOST,
        port=port,
        http=DEFAULT_PROTOCOL,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Until the app accepts connections (or its process exited)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the read floor's app did not start (exit {proc.poll()})")


def measure(cpu_ms: float, requests: int) -> dict[str, Any]:
    """One run at ``cpu_ms``: the bare app started, warmed up, read ``requests`` times."""
    port = free_port()
    cmd = [sys.executable, "-m", "benchmarks.read_floor", "--serve", str(port), "--cpu-ms"]
    proc = subprocess.Popen([*cmd, str(cpu_ms)])
    try:
        wait_port(port, proc)
        paths = [f"/v1/usage/current?customerRef=cus_{i:07d}" for i in range(requests + WARM_UP)]
        reads = [Request("GET", path) for path in paths]
        run_load(port, "floor", reads[:WARM_UP], clients=1, time_limit=30)
        load_average = os.getloadavg()[0]
        cpu_before = tree_cpu_seconds(proc.pid)
        waited_before = run_queue_seconds(proc.pid, main_only=True)
        load = run_load(port, "floor", reads[WARM_UP:], clients=CLIENTS, time_limit=30)
        cpu_s = tree_cpu_seconds(proc.pid) - cpu_before
        waited_ms = (run_queue_seconds(proc.pid, main_only=True) - waited_before) * 1000
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return {
        "cpu_ms": cpu_ms,
        "load": round(load_average, 2),
        "requests": load.requests,
        "ok": load.statuses.get(200, 0) == load.requests > 0 and not load.errors,
        "reads_per_s": round(load.requests / max(load.wall_s, 1e-9)),
        "p50_ms": load.percentile(50),
        "p95_ms": load.percentile(95),
        "p99_ms": load.percentile(99),
        "server_cpu_ms_per_read": round(cpu_s * 1000 / max(load.requests, 1), 3),
        "run_queue_ms_per_s": round(waited_ms / max(load.wall_s, 1e-9), 1),
    }


def line(row: dict[str, Any]) -> str:
    ms = " ".join(f"{k[:-3]} {row[k]:.2f}" for k in ("p50_ms", "p95_ms", "p99_ms"))
    return (
        f"read floor, burn {row['cpu_ms']} ms: load {row['load']}, {row['reads_per_s']} reads/s, "
        f"{ms} ms, server CPU {row['server_cpu_ms_per_read']} ms per read, its loop waited "
        f"{row['run_queue_ms_per_s']} ms/s for a core, ok={row['ok']}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.read_floor")
    parser.add_argument("--cpu-ms", type=float, nargs="+", default=[0.0, 0.15, 0.3])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the app's own process
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.cpu_ms[0])
        return
    for _ in range(args.rounds):
        for cpu_ms in args.cpu_ms:
            print(line(measure(cpu_ms, args.requests)), flush=True)


if __name__ == "__main__":
    main()
