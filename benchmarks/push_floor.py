"""The pusher's floor: a plain ``httpx`` loop sending the same meter events to the same
emulator, at the same concurrency, in the same run.

No store, no outbox, no lease, no official library: ``concurrency`` threads share one
keep-alive connection pool and send pre-built requests as fast as the emulator answers.
v1: one ``POST /v1/billing/meter_events`` per event (form-encoded, an idempotency key each,
as the library sends it), never two at once for one customer. v2: one session, then
``POST /v2/billing/meter_event_stream`` with 100 events per request. What the pusher does on
top of this (plan, claim, record, the library's request building) is what its ratio costs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

STREAM_BATCH = 100


@dataclass(frozen=True)
class FloorResult:
    events: int
    seconds: float
    cpu_s: float
    errors: int


def _client(base: str, concurrency: int) -> httpx.Client:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.Client(base_url=base, limits=limits, timeout=30, trust_env=False)


def _run(concurrency: int, jobs: list[Callable[[], bool]]) -> tuple[float, float, int]:
    errors = [0]
    lock = threading.Lock()

    def one(job: Callable[[], bool]) -> None:
        try:
            ok = job()
        except httpx.HTTPError:
            ok = False
        if not ok:
            with lock:
                errors[0] += 1

    cpu, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - started, time.process_time() - cpu, errors[0]


def floor_v1(
    base: str, key: str, event_name: str, customers: list[str], tag: str, concurrency: int
) -> FloorResult:
    """One meter event per customer (each customer appears once: one call per customer and
    meter at a time holds by construction)."""
    now = int(time.time())
    headers = {"Authorization": f"Bearer {key}"}
    with _client(base, concurrency) as client:

        def job(i: int, customer: str) -> Callable[[], bool]:
            ident = f"floor-{tag}-{i}"
            form = {
                "event_name": event_name,
                "payload[stripe_customer_id]": customer,
                "payload[value]": str(1 + i % 7),
                "identifier": ident,
                "timestamp": str(now),
            }

            def send() -> bool:
                response = client.post(
                    "/v1/billing/meter_events",
                    data=form,
                    headers={**headers, "Idempotency-Key": ident},
                )
                return response.status_code == 200

            return send

        seconds, cpu, errors = _run(concurrency, [job(i, c) for i, c in enumerate(customers)])
    return FloorResult(len(customers), seconds, cpu, errors)


def floor_v2(
    base: str, key: str, event_name: str, customers: list[str], tag: str, concurrency: int
) -> FloorResult:
    """One session, then the events 100 per stream request, ``concurrency`` in flight."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with _client(base, concurrency) as client:
        session = client.post(
            "/v2/billing/meter_event_session", headers={"Authorization": f"Bearer {key}"}
        ).json()
        auth = {"Authorization": f"Bearer {session['authentication_token']}"}

        def job(start: int) -> Callable[[], bool]:
            body = {
                "events": [
                    {
                        "event_name": event_name,
                        "identifier": f"floor-{tag}-{start + i}",
                        "timestamp": stamp,
                        "payload": {"stripe_customer_id": c, "value": str(1 + (start + i) % 7)},
                    }
                    for i, c in enumerate(customers[start : start + STREAM_BATCH])
                ]
            }

            def send() -> bool:
                response = client.post("/v2/billing/meter_event_stream", json=body, headers=auth)
                return response.status_code == 200

            return send

        jobs = [job(s) for s in range(0, len(customers), STREAM_BATCH)]
        seconds, cpu, errors = _run(concurrency, jobs)
    return FloorResult(len(customers), seconds, cpu, errors * STREAM_BATCH)
