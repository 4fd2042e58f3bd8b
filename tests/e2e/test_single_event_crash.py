"""A kill -9 of `stripemeter serve` while 8 clients send single events (the group committer's
path: a group's first reads with its ``BEGIN``, its tally with its ``COMMIT`` on PostgreSQL,
ADR 0969) loses no acknowledged event; replaying every event afterwards counts each once. On
both stores."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server_process import RECENT, STRIPEMETER, free_port
from tests.support.postgres import PostgresServer

KEY = "smk_e2e_single_crash_key_01"
CLIENTS = 8
PER_CLIENT = 400


class Serve:
    def __init__(self, url: str, port: int, log: Path) -> None:
        env = {
            **os.environ,
            "STRIPEMETER_DATABASE_URL": url,
            "STRIPEMETER_DEFAULT_AUTO_CREATE_METRICS": "true",
            "STRIPEMETER_BOOTSTRAP_KEY": KEY,
            "STRIPEMETER_LOCAL_STRIPE": "off",
            "STRIPEMETER_RATE_LIMIT_PER_SECOND": "0",
        }
        self.url = f"http://127.0.0.1:{port}"
        with log.open("a") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [STRIPEMETER, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"server did not become ready: {log.read_text()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'stripemeter.db'}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    yield server.create_database(f"single_crash_{os.getpid()}_{time.monotonic_ns()}")


def event(client: int, n: int) -> dict[str, object]:
    return {
        "metric": "calls",
        "customerRef": f"c{n % 5}",
        "quantity": "1",
        "ts": RECENT,
        "idempotencyKey": f"s{client}-{n}",
    }


def test_a_crash_amid_single_events_loses_no_acknowledged_event(
    database_url: str, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    headers = {"Authorization": f"Bearer {KEY}"}
    server = Serve(database_url, port, log)
    acknowledged: list[str] = []

    def send(client: int) -> None:
        with httpx.Client(timeout=5, headers=headers) as http:
            for n in range(PER_CLIENT):
                try:
                    answer = http.post(
                        f"{server.url}/v1/events/ingest", json={"events": [event(client, n)]}
                    )
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    acknowledged.extend(r["idempotencyKey"] for r in answer.json()["results"])

    senders = [threading.Thread(target=send, args=(c,)) for c in range(CLIENTS)]
    for sender in senders:
        sender.start()
    while len(acknowledged) < 300 and any(s.is_alive() for s in senders):
        time.sleep(0.01)
    server.kill()
    for sender in senders:
        sender.join()
    assert 0 < len(acknowledged) < CLIENTS * PER_CLIENT

    server = Serve(database_url, port, log)
    try:
        with httpx.Client(timeout=30, headers=headers) as http:
            stored: set[str] = set()
            cursor = None
            while True:
                params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
                page = http.get(f"{server.url}/v1/events", params=params).json()
                stored.update(e["idempotencyKey"] for e in page["data"])
                cursor = page["nextCursor"]
                if not cursor:
                    break
            assert set(acknowledged) <= stored
            statuses: set[str] = set()
            for client in range(CLIENTS):  # every event again, one request each: exactly once
                for n in range(0, PER_CLIENT, 8):
                    answer = http.post(
                        f"{server.url}/v1/events/ingest",
                        json={"events": [event(client, m) for m in range(n, n + 8)]},
                    )
                    assert answer.status_code == 200
                    statuses.update(r["status"] for r in answer.json()["results"])
            window = {"metric": "calls", "start": "2000-01-01T00:00:00Z"}
            totals = [
                http.post(
                    f"{server.url}/v1/usage/query",
                    json={**window, "end": "2100-01-01T00:00:00Z", "customerRef": f"c{c}"},
                ).json()["value"]["sum"]
                for c in range(5)
            ]
        assert statuses <= {"accepted", "duplicate"}
        assert sum(Decimal(t) for t in totals) == Decimal(CLIENTS * PER_CLIENT)
    finally:
        server.kill()
