"""`serve` on the embedded store with no Stripe account starts the local emulator, points
tenant `default` at it and registers the invoice webhook — and prints no secret."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import stripe

from tests.e2e.test_server_process import free_port

STRIPEMETER = str(Path(sys.executable).with_name("stripemeter"))
KEY = "smk_e2e_local_stripe_0001"


def _serve(
    tmp_path: Path, port: int, emulator_port: int, *, auto_create: bool = True
) -> tuple[subprocess.Popen[bytes], Path]:
    env = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'sm.db'}",
        "STRIPEMETER_BOOTSTRAP_KEY": KEY,
        "STRIPEMETER_DEFAULT_AUTO_CREATE_METRICS": "true" if auto_create else "false",
        "STRIPEMETER_LOCAL_STRIPE_PORT": str(emulator_port),
    }
    for name in ("STRIPEMETER_STRIPE_SECRET_KEY", "STRIPEMETER_LOCAL_STRIPE"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [STRIPEMETER, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return proc, log
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(log.read_text())


def test_serve_without_a_stripe_account_runs_the_local_emulator(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    proc, log = _serve(tmp_path, port, emulator_port)
    try:
        account = httpx.get(
            f"http://127.0.0.1:{port}/v1/stripe/account", headers={"Authorization": f"Bearer {KEY}"}
        ).json()
        assert account["source"] == "environment" and account["webhookSecretConfigured"]
        assert account["apiBase"] == f"http://127.0.0.1:{emulator_port}"
        client = stripe.StripeClient(
            "sk_test_check", max_network_retries=0, base_addresses={"api": account["apiBase"]}
        )
        urls = [e.url for e in client.v1.webhook_endpoints.list().data]
        assert urls == [f"http://127.0.0.1:{port}/v1/stripe/webhook/default"]
        printed = log.read_text()
        assert "local Stripe emulator" in printed and "whsec_" not in printed
        assert (tmp_path / "data" / "stripe-emulator.db").exists()
    finally:
        proc.kill()
        proc.wait(10)
