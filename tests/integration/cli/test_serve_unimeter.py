"""`serve --unimeter-port` is one process's port: with several HTTP workers it is refused
before anything starts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stripemeter_server.cli.main import app


def test_the_unimeter_port_needs_a_single_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(
        app,
        ["serve", "--workers", "2", "--unimeter-port", "7999"],
        env={"STRIPEMETER_DATABASE_URL": url},
    )
    assert result.exit_code == 2
    assert "use --workers 1" in result.output
    assert not (tmp_path / "serve.db").exists()  # refused before the store was opened
