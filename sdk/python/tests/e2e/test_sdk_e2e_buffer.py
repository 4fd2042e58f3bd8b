"""Buffered mode against a real server: everything accepted is delivered."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sdk_server import Server
from stripemeter import AsyncClient, RetryPolicy, StripeMeterClient, current_billing_period


def count(server: Server, metric: str, customer: str) -> int:
    with StripeMeterClient(server.url, api_key=server.api_key) as client:
        return client.query(customer, metric, current_billing_period(1)).value.count


def test_close_flushes_every_buffered_event(shared_server: Server, unique: str) -> None:
    metric, customer = f"buf_{unique}", f"cus_{unique}"
    with StripeMeterClient(
        shared_server.url, api_key=shared_server.api_key, tenant_id="default"
    ) as client:
        buf = client.buffer(max_events=100, max_interval=60.0)
        for _ in range(1234):
            buf.track(metric, customer)
        buf.close()
    assert count(shared_server, metric, customer) == 1234


def test_events_buffered_while_the_server_is_down_are_delivered(
    tmp_path: Path, api_key: str, unique: str
) -> None:
    server = Server(tmp_path / "db.sqlite3", api_key)  # not started yet: port refuses
    metric, customer = f"buf_{unique}", f"cus_{unique}"
    retry = RetryPolicy(max_attempts=3, base_delay=0.02, max_delay=0.1)
    try:
        with StripeMeterClient(
            server.url, api_key=api_key, tenant_id="default", retry=retry
        ) as client:
            buf = client.buffer(max_events=20, max_interval=0.05, close_timeout=120.0)
            for _ in range(200):
                buf.track(metric, customer)
            server.start()
            buf.close()
        assert count(server, metric, customer) == 200
    finally:
        server.kill()


def test_async_buffer_flushes_on_aclose(shared_server: Server, unique: str) -> None:
    metric, customer = f"abuf_{unique}", f"cus_{unique}"

    async def run() -> None:
        async with AsyncClient(
            [shared_server.url], api_key=shared_server.api_key, tenant_id="default"
        ) as client:
            buf = client.buffer(max_events=50, max_interval=60.0)
            for _ in range(321):
                await buf.track(metric, customer)
            await buf.aclose()

    asyncio.run(run())
    assert count(shared_server, metric, customer) == 321


def test_buffer_is_flushed_at_interpreter_exit(shared_server: Server, unique: str) -> None:
    metric, customer = f"exit_{unique}", f"cus_{unique}"
    program = textwrap.dedent(f"""
        from stripemeter import StripeMeterClient
        client = StripeMeterClient({shared_server.url!r}, tenant_id="default")
        buf = client.buffer(max_events=1000, max_interval=60.0)
        for _ in range(77):
            buf.track({metric!r}, {customer!r})
        print("queued", buf.pending)
    """)
    env = dict(os.environ, STRIPEMETER_API_KEY=shared_server.api_key)
    done = subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, count(shared_server, metric, customer)) == (0, 77), done.stderr
