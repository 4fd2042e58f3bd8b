"""Unimeter's guide, Steps 1 and 2, run word for word against a real `stripemeter serve
--unimeter-port 7001`: the metric is defined, every simulated request is counted exactly
once, a resent batch counts nothing, even across a kill -9 of the server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from unimeter import AsyncClient, Event, current_billing_period

from tests.e2e.unimeter_support import UNIMETER_PORT, UnimeterServer, port_held, run_sample

pytestmark = pytest.mark.slow
NODES = ["localhost:7001"]
GUARD_SECONDS = 120  # a hang guard, not a speed assertion


class Request:
    """What the middleware reads of a web request: its headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnimeterServer]:
    shared = tmp_path_factory.getbasetemp().parent  # the same for every test worker
    with port_held(shared, UNIMETER_PORT):
        running = UnimeterServer(tmp_path / "stripemeter.db").start()
        yield running
        running.kill()


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, GUARD_SECONDS))


async def calls_this_period(account_id: int) -> int:
    async with AsyncClient(NODES) as client:
        result = await client.query(account_id, "api_calls", current_billing_period(1))
        return int(result.value.count)


def test_step_1_defines_the_metric_and_may_run_again(server: UnimeterServer) -> None:
    run(run_sample("step1_define_metric.py", {}))
    run(run_sample("step1_define_metric.py", {}))  # "you only need to do this once"
    metric = server.admin("GET", "/v1/metrics/api_calls").json()
    assert (metric["aggregation"], metric["period"]["type"], metric["period"]["anchorDay"]) == (
        "count",
        "month",
        1,
    )


def test_step_2_counts_every_request_once(server: UnimeterServer) -> None:
    run(run_sample("step1_define_metric.py", {}))
    sample = run(run_sample("step2_record_usage.py", {}))
    requests = (
        [Request({"X-Account-ID": "1"})] * 25
        + [Request({"X-Account-ID": "2"})] * 12
        + [Request({"X-Account-ID": "0"}), Request({})] * 3
    )

    async def traffic() -> None:
        async with AsyncClient(NODES) as client:
            for request in requests:
                await sample["usage_middleware"](request, client)

    run(traffic())
    assert (run(calls_this_period(1)), run(calls_this_period(2))) == (25, 12)
    usage = server.admin("GET", "/v1/usage/current", params={"customerRef": "1"}).json()
    assert [(m["metric"], m["value"]) for m in usage["metrics"]] == [("api_calls", "25")]


def test_a_resent_batch_counts_once_even_across_a_crash(server: UnimeterServer) -> None:
    run(run_sample("step1_define_metric.py", {}))
    start = datetime.now(UTC) - timedelta(seconds=30)
    batch = [
        Event(
            account_id=3,
            metric_code="api_calls",
            value=1,
            timestamp=start + timedelta(milliseconds=i),
        )
        for i in range(40)
    ]

    async def send() -> tuple[int, int]:
        async with AsyncClient(NODES) as client:
            result = await client.ingest(batch)
            return result.n_stored, result.n_duplicates

    assert (run(send()), run(send())) == ((40, 0), (0, 40))
    server.kill()
    server.start()  # same store: acknowledged events survive, and so does their dedupe
    assert run(send()) == (0, 40)
    assert run(calls_this_period(3)) == 40
