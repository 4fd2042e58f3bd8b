"""The README's "Full loop" block, run by bash exactly as written, against `serve` with the
local emulator: if the documentation drifts from the product, this fails."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx

from tests.e2e.test_local_stripe import KEY, _serve
from tests.e2e.test_server_process import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def full_loop_block() -> str:
    text = README.read_text()
    marker = text.index("<!-- full-loop:")
    match = re.search(r"```sh\n(.*?)```", text[marker:], flags=re.S)
    assert match is not None
    return match.group(1)


def _run_loop(tmp_path: Path, times: int) -> list[subprocess.CompletedProcess[str]]:
    """Run the block `times` times, one after the other, against one `serve` (each run
    takes seconds, so each gets its own `acme-<time>` customer)."""
    port, emulator_port = free_port(), free_port()
    proc, _log = _serve(tmp_path, port, emulator_port)
    (tmp_path / "data" / ".bootstrap-key").write_text(KEY + "\n")
    env = {
        **os.environ,
        "API": f"http://127.0.0.1:{port}",
        "STRIPE": f"http://127.0.0.1:{emulator_port}",
    }
    try:  # one run after the other: each sees what the previous one left
        runs = [
            subprocess.run(
                ["bash", "-euo", "pipefail", "-c", full_loop_block()],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            for _ in range(times)
        ]
    finally:
        proc.kill()
        proc.wait(10)
    return runs


def _worked(done: subprocess.CompletedProcess[str]) -> bool:
    return (
        done.returncode == 0
        and "Stripe meter total: 120" in done.stdout
        and "invoice line: storage_gb 5 125 usd" in done.stdout
    )


def test_the_readme_full_loop_works_as_written(tmp_path: Path) -> None:
    [done] = _run_loop(tmp_path, 1)
    assert _worked(done), (done.stdout, done.stderr)


def test_the_readme_full_loop_can_be_run_again_and_again(tmp_path: Path) -> None:
    runs = _run_loop(tmp_path, 3)
    assert [_worked(done) for done in runs] == [True, True, True], [
        (done.stdout, done.stderr) for done in runs
    ]


def test_the_readme_full_loop_stops_loudly_when_stripe_refuses_a_push(tmp_path: Path) -> None:
    port, emulator_port = free_port(), free_port()
    proc, _log = _serve(tmp_path, port, emulator_port, auto_create=False)  # the defaults
    (tmp_path / "data" / ".bootstrap-key").write_text(KEY + "\n")
    env = {
        **os.environ,
        "API": f"http://127.0.0.1:{port}",
        "STRIPE": f"http://127.0.0.1:{emulator_port}",
    }
    try:
        httpx.post(
            f"http://127.0.0.1:{emulator_port}/_emulator/faults",
            json={
                "kind": "refuse",
                "path": "/v1/billing/meter_events",
                "count": 1000,
                "code": "timestamp_too_far_in_past",
                "message": "too old",
            },
        ).raise_for_status()
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", full_loop_block()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        proc.kill()
        proc.wait(10)
    assert (
        done.returncode != 0,
        "Stripe refused the push" in done.stderr,
        "timestamp_too_far_in_past" in done.stderr,
    ) == (True, True, True), done.stderr


def test_the_readme_full_loop_stops_loudly_when_stripe_refuses_a_push_later(tmp_path: Path) -> None:
    """Stripe answers 200 and reports the refusal asynchronously (its default for an unknown
    customer): the loop must not print a wrong total and exit 0."""
    port, emulator_port = free_port(), free_port()
    proc, _log = _serve(tmp_path, port, emulator_port, auto_create=False)
    (tmp_path / "data" / ".bootstrap-key").write_text(KEY + "\n")
    env = {
        **os.environ,
        "API": f"http://127.0.0.1:{port}",
        "STRIPE": f"http://127.0.0.1:{emulator_port}",
    }
    try:
        httpx.post(
            f"http://127.0.0.1:{emulator_port}/_emulator/faults",
            json={
                "kind": "report",
                "path": "/v1/billing/meter_events",
                "count": 1000,
                "code": "meter_event_customer_not_found",
            },
        ).raise_for_status()
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", full_loop_block()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        proc.kill()
        proc.wait(10)
    assert (
        done.returncode != 0,
        "Stripe total differs from the ledger" in done.stderr,
        "Stripe meter total: 0" in done.stdout,
    ) == (True, True, True), done.stderr
