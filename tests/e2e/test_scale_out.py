"""Scale-out on one PostgreSQL: two `serve` nodes (one of them with two HTTP processes) and a
`stripemeter worker`, under concurrent load on the same customers, some batches sent to both
nodes at once. Totals are exact, each alert fires once and is delivered once, /metrics of the
multi-process node adds up every process's counts, and the JSON logs hold no secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from stripemeter_server.domain.timestamps import format_timestamp
from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store
from tests.e2e.test_server_process import free_port
from tests.support.postgres import PostgresServer
from tests.support.receiver import webhook_receiver

STRIPEMETER = str(Path(sys.executable).with_name("stripemeter"))
KEY = "smk_scale_out_admin_key_0001"
DB_PASSWORD = "Sc4leOutDbPassw0rd"
STRIPE_SECRET = "sk_test_ScaleOutStripeSecret0001"
BOGUS_KEY = "smk_bogus_presented_key_0001"
CUSTOMERS = [f"cus_{n}" for n in range(12)]
EVENTS_PER_CUSTOMER = 120
THRESHOLD = 100


def _wait(check: Any, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + 120  # a guard against a hang, not a timed assertion
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: " + (log.read_text()[-3000:] if log else ""))
        time.sleep(0.1)


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [STRIPEMETER, *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def cluster(pg_server: PostgresServer, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = pg_server.create_database("scale_out").replace("postgres@", f"postgres:{DB_PASSWORD}@")
    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:  # bootstrapped here, so no node prints the key
        bootstrap(uow, datetime.now(UTC), KEY, auto_create_metrics=True)
        uow.commit()
    store.close()
    env = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": url,
        "STRIPEMETER_LOCAL_STRIPE": "off",
        "STRIPEMETER_SECRET_KEY": "scale-out-test-secret-key-material",
        "STRIPEMETER_PUSH_WORKER": "false",
        "STRIPEMETER_LOG_FORMAT": "json",
        "STRIPEMETER_ALLOW_PRIVATE_WEBHOOKS": "true",
    }  # the receiver is on 127.0.0.1
    env.pop("STRIPEMETER_BOOTSTRAP_KEY", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        nodes = []
        for n, (port, extra) in enumerate(zip(ports, (["--workers", "2"], []), strict=True)):
            node = Process(
                ["serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                env,
                tmp_path / f"node{n}.log",
            )
            stack.callback(node.stop)
            nodes.append(node)
        worker = Process(["worker", "--interval", "0.2"], env, tmp_path / "worker.log")
        stack.callback(worker.stop)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for node, base in zip(nodes, urls, strict=True):
            _wait(lambda b=base: _ready(b), "node did not become ready", node.log)
        yield {
            "urls": urls,
            "logs": [n.log for n in (*nodes, worker)],
            "stop": lambda: stack.close(),
        }


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_two_nodes_and_a_worker_count_exactly_and_run_each_job_once(
    cluster: dict[str, Any],
) -> None:
    one, two = cluster["urls"]
    auth = {"Authorization": f"Bearer {KEY}"}
    with webhook_receiver([200]) as receiver, httpx.Client(headers=auth, timeout=30) as http:
        assert http.post(f"{one}/v1/metrics", json={"code": "calls"}).status_code == 201
        rule = http.post(
            f"{two}/v1/alerts",
            json={"metric": "calls", "threshold": THRESHOLD, "webhookUrl": receiver.url},
        )
        assert rule.status_code == 201, rule.text
        accepted = _load(one, two)
        for base in (one, two):
            for customer in CUSTOMERS:
                usage = http.get(
                    f"{base}/v1/usage/current", params={"customerRef": customer, "metric": "calls"}
                ).json()
                assert [m["value"] for m in usage["metrics"]] == [str(EVENTS_PER_CUSTOMER)], usage
        fired = http.get(f"{one}/v1/alerts/events", params={"limit": 1000}).json()["data"]
        assert sorted(e["customerRef"] for e in fired) == sorted(CUSTOMERS)
        assert [e["sequence"] for e in fired] == list(range(1, len(CUSTOMERS) + 1))

        def delivered() -> bool:
            return all(
                d["status"] == "delivered"
                for e in fired
                for d in http.get(f"{two}/v1/alerts/events/{e['id']}/deliveries").json()[
                    "deliveries"
                ]
            )

        _wait(delivered, "alerts were not all delivered", cluster["logs"][2])
        posted = [json.loads(r.body)["id"] for r in receiver.requests]
        assert sorted(posted) == sorted(e["id"] for e in fired)  # each exactly once
        _metrics_add_up(http, one, accepted[one])
        _requests_with_secrets(one, two)
    cluster["stop"]()
    _logs_hold_no_secret(cluster["logs"])


def _load(one: str, two: str) -> dict[str, int]:
    """Batches of 20 events, spread over both nodes; every third batch goes to both at once
    (a client failing over). Returns how many events each node accepted."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    batches = []
    for customer in CUSTOMERS:
        events = [
            {
                "metric": "calls",
                "customerRef": customer,
                "quantity": 1,
                "ts": format_timestamp(now),
                "idempotencyKey": f"{customer}-{n}",
            }
            for n in range(EVENTS_PER_CUSTOMER)
        ]
        batches += [events[i : i + 20] for i in range(0, len(events), 20)]
    accepted = {one: 0, two: 0}

    def send(index: int) -> list[tuple[str, int]]:
        targets = [one, two] if index % 3 == 0 else [(one, two)[index % 2]]
        with (
            httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as http,
            ThreadPoolExecutor(2) as both,
        ):
            answers = both.map(
                lambda base: (
                    base,
                    http.post(f"{base}/v1/events/ingest", json={"events": batches[index]}),
                ),
                targets,
            )
            found = []
            for base, answer in answers:
                assert answer.status_code == 200, answer.text
                found.append((base, int(answer.json()["accepted"])))
        return found

    with ThreadPoolExecutor(8) as pool:
        for found in pool.map(send, range(len(batches))):
            for base, count in found:
                accepted[base] += count
    assert sum(accepted.values()) == len(CUSTOMERS) * EVENTS_PER_CUSTOMER
    return accepted


def _metrics_add_up(http: httpx.Client, base: str, accepted: int) -> None:
    """Node one runs two HTTP processes: whichever answers a scrape reports both."""
    for _ in range(4):
        text = http.get(f"{base}/metrics").text
        line = next(
            x
            for x in text.splitlines()
            if x.startswith('stripemeter_ingest_events_total{status="accepted"}')
        )
        assert float(line.split()[-1]) == accepted
        assert "stripemeter_open_periods" in text


def _requests_with_secrets(one: str, two: str) -> None:
    with httpx.Client(timeout=30) as http:
        for base in (one, two):
            assert (
                http.get(
                    f"{base}/v1/metrics", headers={"Authorization": f"Bearer {BOGUS_KEY}"}
                ).status_code
                == 401
            )
            assert (
                http.get(f"{base}/v1/metrics", headers={"X-Api-Key": BOGUS_KEY}).status_code == 401
            )
            put = http.put(
                f"{base}/v1/stripe/account",
                json={"secretKey": STRIPE_SECRET},
                headers={"Authorization": f"Bearer {KEY}"},
            )
            assert put.status_code == 200, put.text


def _logs_hold_no_secret(logs: list[Path]) -> None:
    request_lines = []
    for log in logs:
        text = log.read_text()
        for secret in (KEY, BOGUS_KEY, STRIPE_SECRET, DB_PASSWORD):
            assert secret not in text, (log.name, secret)
        for line in text.splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry["logger"] == "stripemeter.access":
                    request_lines.append(entry)
    assert request_lines
    assert all(
        {"requestId", "tenant", "route", "method", "status", "durationMs"} <= set(e)
        for e in request_lines
    )
    refused = [e for e in request_lines if e["status"] == 401]
    assert len(refused) == 4 and all(e["tenant"] is None for e in refused)
    puts = [e for e in request_lines if e["route"] == "/v1/stripe/account"]
    assert len(puts) == 2 and all(e["tenant"] == "default" for e in puts)
