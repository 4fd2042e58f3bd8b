"""`stripemeter reconcile` exits 0 when Stripe and the ledger agree and 1 on unrepaired drift,
printing the drifted line (both stores, the emulator as the Stripe account)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stripemeter_server.cli.main import app
from tests.integration.stripe_push.support import T0, Env


@pytest.fixture
def cli_env(env: Env) -> dict[str, str]:
    env.metric("api_calls", "sum")
    customer = env.customer("A")
    env.ingest(
        {
            "metric": "api_calls",
            "customerRef": customer,
            "quantity": "12",
            "ts": "2026-01-10T00:00:00Z",
        }
    )
    env.drain()
    return {
        "STRIPEMETER_DATABASE_URL": env.store.url,
        "STRIPEMETER_STRIPE_SECRET_KEY": "sk_test_push_tests",
        "STRIPEMETER_STRIPE_API_BASE": env.emu.url,
        "customer": customer,
    }


def invoke(env_vars: dict[str, str]) -> tuple[int, str]:
    variables = {k: v for k, v in env_vars.items() if k.startswith("STRIPEMETER_")}
    result = CliRunner().invoke(app, ["reconcile", "--period", "2026-01"], env=variables)
    return result.exit_code, result.output


def test_agreement_exits_zero(cli_env: dict[str, str]) -> None:
    code, output = invoke(cli_env)
    assert (code, output.splitlines()[-1].split(": ", 1)[1]) == (0, "1 ok; 0 need attention")


def test_unrepaired_drift_exits_one_and_shows_the_line(env: Env, cli_env: dict[str, str]) -> None:
    env.emu.control(
        "POST",
        "/meter_events",
        {
            "event_name": "api_calls",
            "payload": {"stripe_customer_id": cli_env["customer"], "value": "3"},
            "timestamp": T0,
        },
    )
    code, output = invoke(cli_env)
    assert code == 1
    assert "drift" in output and output.splitlines()[-1].endswith("1 drift; 1 need attention")
