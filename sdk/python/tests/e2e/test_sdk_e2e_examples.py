"""Every example program in sdk/python/examples runs unchanged against a real server and
prints OK (the programs the SDK README points to)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sdk_server import Server
from sdk_testkit import REPO_ROOT

EXAMPLES = REPO_ROOT / "sdk" / "python" / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.py"))


def test_examples_are_present() -> None:
    assert PROGRAMS, f"no example programs in {EXAMPLES}"


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_example_prints_ok(program: os.PathLike[str], shared_server: Server) -> None:
    env = dict(os.environ)
    env.update(
        {
            "STRIPEMETER_URL": shared_server.url,
            "STRIPEMETER_API_KEY": shared_server.api_key,
            "STRIPEMETER_TENANT": "default",
        }
    )
    done = subprocess.run(
        [sys.executable, str(program)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip().splitlines()[-1:]) == (0, ["OK"]), done.stderr
