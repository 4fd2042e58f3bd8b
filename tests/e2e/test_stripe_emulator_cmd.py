"""`stripemeter stripe-emulator` as a user runs it: `--reset` starts a kept state file empty,
and `--sync-meter-errors` switches back to refusing unknown customers at once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import stripe

from tests.e2e.test_server_process import free_port

KEY = "sk_test_emulator_cmd"
STRIPEMETER = str(Path(sys.executable).with_name("stripemeter"))


@contextmanager
def _emulator(*args: str) -> Iterator[stripe.StripeClient]:
    port = free_port()
    proc = subprocess.Popen(
        [STRIPEMETER, "stripe-emulator", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):  # wait until it answers (bounded: a loaded machine is slow)
            try:
                httpx.get(f"{base}/v1/customers", auth=(KEY, ""), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield stripe.StripeClient(KEY, base_addresses={"api": base}, max_network_retries=0)
    finally:
        proc.terminate()
        proc.wait(10)


def _customers(client: stripe.StripeClient) -> list[str]:
    return [c.id for c in client.v1.customers.list().data]


def test_a_state_file_keeps_the_account_across_restarts(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    with _emulator("--state-file", state) as client:
        made = client.v1.customers.create(params={"name": "Acme"}).id
    with _emulator("--state-file", state) as client:
        assert _customers(client) == [made]


def test_reset_starts_a_kept_state_file_empty(tmp_path: Path) -> None:
    state = str(tmp_path / "emu.db")
    with _emulator("--state-file", state) as client:
        client.v1.customers.create(params={"name": "Acme"})
    with _emulator("--state-file", state, "--reset") as client:
        assert _customers(client) == []


def _send_to_unknown_customer(client: stripe.StripeClient) -> None:
    client.v1.billing.meters.create(
        params={
            "display_name": "API calls",
            "event_name": "api_calls",
            "default_aggregation": {"formula": "sum"},
        }
    )
    client.v1.billing.meter_events.create(
        params={"event_name": "api_calls", "payload": {"stripe_customer_id": "cus_x", "value": "1"}}
    )


def test_by_default_an_unknown_customer_is_answered_then_reported() -> None:
    with _emulator() as client:
        _send_to_unknown_customer(client)
        reports = client.v2.core.events.list(
            params={"types": ["v1.billing.meter.error_report_triggered"]}
        ).data
    assert len(reports) == 1


def test_sync_meter_errors_refuses_an_unknown_customer_at_once() -> None:
    with (
        _emulator("--sync-meter-errors") as client,
        pytest.raises(stripe.InvalidRequestError) as caught,
    ):
        _send_to_unknown_customer(client)
    assert caught.value.code == "meter_event_customer_not_found"
