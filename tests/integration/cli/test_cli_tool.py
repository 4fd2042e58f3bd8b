"""The CLI speaks like a tool: operator errors are one line on stderr and exit 1; help has
no `<bool>` metavars and nothing cut at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stripemeter_server.cli.main import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"STRIPEMETER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "80"}


def run(env: dict[str, str], *args: str) -> object:
    return CliRunner().invoke(app, list(args), env=env)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["rebuild", "--tenant", "nope"], "error: tenant 'nope' does not exist"),
        (
            ["rebuild", "--tenant", "acme", "--metric", "nosuch"],
            "error: metric 'nosuch' does not exist",
        ),
        (["keys", "create", "--tenant", "ghost"], "error: tenant 'ghost' does not exist"),
        (["tenants", "create", "acme"], "error: tenant 'acme' exists"),
        (["export", "events", "--tenant", "ghost"], "error: tenant 'ghost' does not exist"),
    ],
)
def test_an_operator_error_is_one_line_on_stderr_and_exit_1(
    env: dict[str, str], args: list[str], line: str
) -> None:
    assert run(env, "tenants", "create", "acme").exit_code == 0  # type: ignore[attr-defined]
    result = run(env, *args)
    assert (result.exit_code, result.stderr.strip(), result.stdout) == (  # type: ignore[attr-defined]
        1,
        line,
        "",
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["tenants", "create"],
        ["keys", "create"],
        ["keys", "revoke"],
        ["rebuild"],
        ["import"],
        ["export", "events"],
        ["export", "usage"],
        ["serve"],
        ["worker"],
    ],
)
def test_help_has_no_bool_metavars_and_fits_80_columns(
    env: dict[str, str], command: list[str]
) -> None:
    text = run(env, *command, "--help").stdout  # type: ignore[attr-defined]
    assert "<bool>" not in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
