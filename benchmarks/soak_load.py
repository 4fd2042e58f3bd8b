"""The soak's paced load: client processes sending ingest batches at a fixed rate.

Unlike ``loadgen`` (requests back to back, to find the ceiling) a soak holds a steady
rate for a long time, so each client sleeps to its schedule and reports one record per
window: latencies, events acknowledged and statuses. Every event has an explicit
idempotency key and a quantity drawn from a seeded generator, so the orchestrator can
recompute the exact totals per customer afterwards (``expected_totals``) without the
clients shipping them back. Traffic only goes to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing as mp
import queue
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class PacedPlan:
    """What every client sends: ``rate`` events/s in total, in bodies of ``batch`` events,
    for ``seconds``; windows of ``window_s`` each produce one report per client."""

    port: int
    key: str
    metric: str
    customers: tuple[str, ...]
    rate: float
    batch: int
    seconds: float
    window_s: float
    clients: int


def _quantity(rng: random.Random) -> str:
    """Whole units: Stripe's meters take whole numbers, and the pusher sends the ledger's
    value rounded half-up (docs/stripe-sync.md), so only whole totals compare exactly."""
    return str(rng.randint(1, 9))


def client_events(plan: PacedPlan, index: int, batch_no: int) -> list[tuple[str, str, str]]:
    """Batch ``batch_no`` of client ``index`` as (idempotency key, customer, quantity): a
    pure function of its arguments, so the orchestrator can replay it to get the totals."""
    rng = random.Random(index * 1_000_003 + batch_no)
    return [
        (f"soak-{index}-{batch_no}-{i}", rng.choice(plan.customers), _quantity(rng))
        for i in range(plan.batch)
    ]


def _body(plan: PacedPlan, events: list[tuple[str, str, str]]) -> bytes:
    ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        {
            "events": [
                {
                    "metric": plan.metric,
                    "customerRef": ref,
                    "quantity": qty,
                    "ts": ts,
                    "idempotencyKey": key,
                }
                for key, ref, qty in events
            ]
        }
    ).encode()


def _post(conn: http.client.HTTPConnection, body: bytes, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request("POST", "/v1/events/ingest", body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _paced_client(plan: PacedPlan, index: int, start_at: float, out: Any) -> None:
    """Send batch after batch on this client's schedule; one report per window. A request
    that fails on the connection is retried once on a new one (safe: idempotency keys)."""
    interval = plan.batch * plan.clients / plan.rate
    conn = http.client.HTTPConnection(HOST, plan.port, timeout=60)
    window_end = start_at + plan.window_s
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent_batches = acked = 0
    batch_no = 0
    while True:
        due = start_at + batch_no * interval + index * interval / plan.clients
        if due - start_at >= plan.seconds:
            break
        while due >= window_end:
            out.put(
                {
                    "index": index,
                    "window_end": window_end,
                    "latencies": latencies,
                    "statuses": statuses,
                    "acked": acked,
                    "done": False,
                }
            )
            latencies, statuses, acked = [], {}, 0
            window_end += plan.window_s
        time.sleep(max(0.0, due - time.monotonic()))
        body = _body(plan, client_events(plan, index, batch_no))
        status = 0
        t0 = time.perf_counter()
        for _attempt in range(2):
            try:
                status = _post(conn, body, plan.key)
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(HOST, plan.port, timeout=60)
        latencies.append((time.perf_counter() - t0) * 1000.0)
        statuses[status] = statuses.get(status, 0) + 1
        acked += plan.batch if status == 200 else 0
        sent_batches += 1
        batch_no += 1
    conn.close()
    out.put(
        {
            "index": index,
            "window_end": window_end,
            "latencies": latencies,
            "statuses": statuses,
            "acked": acked,
            "done": True,
            "batches": batch_no,
        }
    )


@dataclass
class Window:
    """One reporting window over all clients."""

    end_s: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    acked: int

    def percentile(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


class PacedLoad:
    """Start the clients; ``windows()`` yields each window once every client reported it."""

    def __init__(self, plan: PacedPlan) -> None:
        self.plan = plan
        ctx = mp.get_context("fork")
        self._out: Any = ctx.Queue()
        self.start_at = time.monotonic() + 1.0
        self._procs = [
            ctx.Process(target=_paced_client, daemon=True, args=(plan, i, self.start_at, self._out))
            for i in range(plan.clients)
        ]
        for proc in self._procs:
            proc.start()
        self.batches: dict[int, int] = {}

    def windows(self) -> Iterator[Window]:
        pending: dict[float, list[dict[str, Any]]] = {}
        finished = 0
        deadline = self.start_at + self.plan.seconds + 300
        while finished < self.plan.clients and time.monotonic() < deadline:
            try:
                report = self._out.get(timeout=1.0)
            except queue.Empty:
                continue
            if report["done"]:
                finished += 1
                self.batches[report["index"]] = report["batches"]
            pending.setdefault(report["window_end"], []).append(report)
            for end in sorted(pending):
                if len(pending[end]) < self.plan.clients and finished < self.plan.clients:
                    break
                yield _merge(end - self.start_at, pending.pop(end))
        for end in sorted(pending):
            yield _merge(end - self.start_at, pending.pop(end))

    def expected_totals(self) -> dict[str, Decimal]:
        """Exact totals per customer of every batch the clients sent (acknowledged or
        not: a soak with a non-200 answer is reported as not exact anyway)."""
        totals: dict[str, Decimal] = {}
        for index, count in self.batches.items():
            for batch_no in range(count):
                for _key, ref, qty in client_events(self.plan, index, batch_no):
                    totals[ref] = totals.get(ref, Decimal(0)) + Decimal(qty)
        return totals

    def close(self) -> None:
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                with contextlib.suppress(Exception):
                    proc.join(timeout=5)


def _merge(end_s: float, reports: Sequence[dict[str, Any]]) -> Window:
    window = Window(end_s=end_s, latencies_ms=[], statuses={}, acked=0)
    for r in reports:
        window.latencies_ms.extend(r["latencies"])
        window.acked += r["acked"]
        for status, n in r["statuses"].items():
            window.statuses[status] = window.statuses.get(status, 0) + n
    return window
