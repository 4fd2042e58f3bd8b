"""`stripemeter worker --once` on an embedded store: migrates, makes one pass, exits."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from stripemeter_server.cli.main import app


def test_worker_once_makes_one_pass_and_exits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    result = CliRunner().invoke(app, ["worker", "--once"], env={"STRIPEMETER_DATABASE_URL": url})
    assert (result.exit_code, result.output.strip()) == (
        0,
        (
            "attempted 0 deliveries\nplanned 0 pushes, sent 0, retrying 0, failed 0\n"
            "ran 0 Stripe webhook jobs\nexecuted 0 reconciliation runs\n"
            "pruned 0 ingest tallies, 0 expired dashboard sessions\n"
            "created 0 ledger partitions"
        ),
    )
