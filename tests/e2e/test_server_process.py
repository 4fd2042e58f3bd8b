"""The real `stripemeter serve` process: first start prints a working key; a kill -9 in the
middle of ingest loses no acknowledged event, and replaying everything counts it once."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

STRIPEMETER = str(Path(sys.executable).with_name("stripemeter"))
# recent, so the period is open (a real process reads the real clock)
RECENT = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db: Path, port: int, key: str | None) -> None:
        env = {
            **os.environ,
            "STRIPEMETER_DATABASE_URL": f"sqlite:///{db}",
            "STRIPEMETER_DEFAULT_AUTO_CREATE_METRICS": "true",
        }
        env.pop("STRIPEMETER_BOOTSTRAP_KEY", None)
        if key:
            env["STRIPEMETER_BOOTSTRAP_KEY"] = key
        self.url = f"http://127.0.0.1:{port}"
        self.log = db.with_suffix(f".{port}.log")
        with self.log.open("w") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [STRIPEMETER, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"server did not become ready: {self.log.read_text()}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "stripemeter.db"


def test_first_start_prints_a_working_key_and_curl_line(db: Path) -> None:
    server = Server(db, free_port(), key=None)
    try:
        printed = server.log.read_text()
        key = re.search(r"API key \(tenant 'default'[^)]*\): (\S+)", printed)
        assert key is not None and "curl -s -X POST" in printed
        response = httpx.post(
            f"{server.url}/v1/events/ingest",
            headers={"Authorization": f"Bearer {key.group(1)}"},
            json={
                "events": [{"metric": "api_calls", "customerRef": "cus_ABC123", "quantity": 100}]
            },
        )
        assert response.json()["accepted"] == 1
    finally:
        server.kill()


def test_a_crash_mid_ingest_loses_no_acknowledged_event(db: Path) -> None:
    key = "smk_e2e_crash_key_0001"
    port = free_port()
    server = Server(db, port, key)
    headers = {"Authorization": f"Bearer {key}"}
    batches = [
        [
            {
                "metric": "calls",
                "customerRef": f"c{i % 5}",
                "quantity": "1",
                "ts": RECENT,
                "idempotencyKey": f"b{b}-{i}",
            }
            for i in range(50)
        ]
        for b in range(200)
    ]
    acknowledged: list[str] = []

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            for batch in batches:
                try:
                    response = client.post(
                        f"{server.url}/v1/events/ingest", headers=headers, json={"events": batch}
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    acknowledged.extend(r["idempotencyKey"] for r in response.json()["results"])

    sender = threading.Thread(target=send)
    sender.start()
    while len(acknowledged) < 500 and sender.is_alive():
        time.sleep(0.01)
    server.kill()
    sender.join()
    assert 0 < len(acknowledged) < 10_000

    server = Server(db, port, key)
    try:
        with httpx.Client(timeout=30, headers=headers) as client:
            stored: set[str] = set()
            cursor = None
            while True:
                params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
                page = client.get(f"{server.url}/v1/events", params=params).json()
                stored.update(e["idempotencyKey"] for e in page["data"])
                cursor = page["nextCursor"]
                if not cursor:
                    break
            assert set(acknowledged) <= stored
            for batch in batches:  # a client retrying everything: exactly once
                assert (
                    client.post(
                        f"{server.url}/v1/events/ingest", json={"events": batch}
                    ).status_code
                    == 200
                )
            window = {
                "metric": "calls",
                "start": "2000-01-01T00:00:00Z",
                "end": "2100-01-01T00:00:00Z",
            }
            totals = [
                client.post(
                    f"{server.url}/v1/usage/query", json={**window, "customerRef": f"c{c}"}
                ).json()["value"]["sum"]
                for c in range(5)
            ]
        assert sum(Decimal(t) for t in totals) == Decimal(10_000)
    finally:
        server.kill()
