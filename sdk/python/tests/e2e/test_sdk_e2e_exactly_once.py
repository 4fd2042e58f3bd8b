"""Exactly-once totals while the SDK retries through real failures of real servers."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from sdk_server import Server, ServerFactory
from stripemeter import (
    AggType,
    BillingPeriod,
    MetricSchema,
    RetryPolicy,
    StripeMeterClient,
    compute_idempotency_key,
    current_billing_period,
)

EVENTS = 150
KILL_AFTER = 40
# Enough retries to outlast a server restart; full jitter keeps each wait short.
PATIENT = RetryPolicy(max_attempts=400, base_delay=0.02, max_delay=0.2)


def send_in_background(
    client: StripeMeterClient, metric: str, customer: str, progress: threading.Event
) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for i in range(EVENTS):
                client.track(metric, customer, quantity=i + 1)
                if i + 1 == KILL_AFTER:
                    progress.set()
        except BaseException as exc:  # reported by the test
            errors.append(exc)
            progress.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def totals(client: StripeMeterClient, metric: str, customer: str) -> tuple[int, Decimal | None]:
    period: BillingPeriod = current_billing_period(1)
    value = client.query(customer, metric, period).value
    return value.count, value.sum


def expected() -> tuple[int, Decimal]:
    return EVENTS, Decimal(EVENTS * (EVENTS + 1) // 2)


def test_server_killed_and_restarted_mid_stream(start_server: ServerFactory, unique: str) -> None:
    server = start_server()
    metric, customer = f"calls_{unique}", f"cus_{unique}"
    with StripeMeterClient(
        server.url, api_key=server.api_key, tenant_id="default", retry=PATIENT, timeout=5.0
    ) as client:
        client.metrics.create(MetricSchema(metric, agg_type=AggType.SUM))
        progress = threading.Event()
        thread, errors = send_in_background(client, metric, customer, progress)
        progress.wait(timeout=120)
        server.kill()
        server.start()
        thread.join(timeout=120)
        assert (errors, totals(client, metric, customer)) == ([], expected())


def test_node_killed_mid_stream_in_a_two_node_setup(
    shared_server: Server, start_server: ServerFactory, unique: str
) -> None:
    second = start_server(database=shared_server.database)
    metric, customer = f"calls_{unique}", f"cus_{unique}"
    with StripeMeterClient(
        [second.url, shared_server.url],
        api_key=shared_server.api_key,
        tenant_id="default",
        retry=PATIENT,
        timeout=5.0,
    ) as client:
        client.metrics.create(MetricSchema(metric, agg_type=AggType.SUM))
        progress = threading.Event()
        thread, errors = send_in_background(client, metric, customer, progress)
        progress.wait(timeout=120)
        second.kill()
        thread.join(timeout=120)
        assert (errors, totals(client, metric, customer)) == ([], expected())


def test_dead_node_in_the_list_loses_nothing(
    shared_server: Server, tmp_path: Path, unique: str
) -> None:
    dead = Server(tmp_path / "never.sqlite3", shared_server.api_key)  # never started
    metric, customer = f"calls_{unique}", f"cus_{unique}"
    with StripeMeterClient(
        [dead.url, shared_server.url],
        api_key=shared_server.api_key,
        tenant_id="default",
        retry=PATIENT,
    ) as client:
        client.metrics.create(MetricSchema(metric, agg_type=AggType.SUM))
        for i in range(EVENTS):
            client.track(metric, customer, quantity=i + 1)
        assert totals(client, metric, customer) == expected()


def test_resending_the_same_events_counts_them_once(shared_server: Server, unique: str) -> None:
    metric, customer = f"calls_{unique}", f"cus_{unique}"
    with StripeMeterClient(
        shared_server.url, api_key=shared_server.api_key, tenant_id="default"
    ) as client:
        from stripemeter import Event

        events = [Event(metric, customer, quantity=i + 1) for i in range(EVENTS)]
        client.ingest(events)
        again = client.ingest(events)
        assert (again.duplicates, totals(client, metric, customer)[1]) == (EVENTS, expected()[1])


def test_server_derives_the_key_the_sdk_computes(shared_server: Server, unique: str) -> None:
    """A client that does not know its tenant sends ts and no key; the server's key for the
    event is the one the SDK would have computed."""
    with StripeMeterClient(shared_server.url, api_key=shared_server.api_key) as client:
        result = client.track(
            f"calls_{unique}",
            f"cus_{unique}",
            quantity="2.50",
            ts="2025-06-01T12:00:00.123456Z",
            meta={"region": "eu", "n": 1.5},
            resource_id="req_1",
        )
    assert result.idempotency_key == compute_idempotency_key(
        "default",
        f"calls_{unique}",
        f"cus_{unique}",
        "2025-06-01T12:00:00.123456Z",
        "2.5",
        "req_1",
        {"region": "eu", "n": 1.5},
    )
