"""Nothing secret is printed: database passwords are masked in every URL shown, and the
bootstrap admin key is printed once, when it is created (ADR 0006)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stripemeter_server.cli.main import app
from stripemeter_server.cli.serve_cmds import _print_welcome
from stripemeter_server.config import Settings
from stripemeter_server.storage.engine import masked_url
from tests.support.postgres import PostgresServer

SECRET = "S3cr3t-pass"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://postgres:S3cr3t@127.0.0.1:5432/db",
            "postgresql://postgres:***@127.0.0.1:5432/db",
        ),
        ("postgresql+psycopg://u:p@ss:w@h/db", "postgresql+psycopg://u:***@h/db"),
        (
            "postgresql://u@h/db?password=zz&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("postgresql://h/db", "postgresql://h/db"),
        ("sqlite:///data/stripemeter.db", "sqlite:///data/stripemeter.db"),
    ],
)
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_migrate_masks_the_password(pg_server: PostgresServer) -> None:
    url = pg_server.create_database("secrets_migrate").replace(
        "postgres@", f"postgres:{SECRET}@"
    )  # the throwaway server trusts local connections, so any password connects
    result = CliRunner().invoke(app, ["migrate"], env={"STRIPEMETER_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output and "postgres:***@" in result.output


def test_banner_prints_a_new_key_once_and_masks_the_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/db"
    settings = Settings(database_url=url, bootstrap_key="smk_bootstrap_key_0001")
    _print_welcome("127.0.0.1", 3000, "smk_bootstrap_key_0001", settings)
    printed = capsys.readouterr().err
    assert printed.count("smk_bootstrap_key_0001") == 1
    assert SECRET not in printed


def test_banner_on_a_later_start_shows_at_most_the_prefix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(database_url="sqlite:///x.db", bootstrap_key="smk_bootstrap_key_0001")
    _print_welcome("127.0.0.1", 3000, None, settings)
    printed = capsys.readouterr().err
    assert "smk_bootstrap_key_0001" not in printed
    assert "smk_boot" in printed


def test_banner_points_to_the_dashboard(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(database_url="sqlite:///x.db")
    _print_welcome("127.0.0.1", 3000, None, settings)
    assert "Dashboard: http://127.0.0.1:3000/ui" in capsys.readouterr().err


def test_the_banner_defines_the_metric_before_sending_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(database_url="sqlite:///x.db", bootstrap_key="smk_bootstrap_key_0001")
    _print_welcome("127.0.0.1", 3000, "smk_bootstrap_key_0001", settings)
    printed = capsys.readouterr().err
    assert 0 <= printed.index("/v1/metrics") < printed.index("/v1/events/ingest")
