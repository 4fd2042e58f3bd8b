"""`stripemeter import` and `export` on an embedded store: rejects with line numbers and
codes, re-runs that count nothing twice, backfill sessions, and export → import round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from stripemeter_server.cli.main import app
from stripemeter_server.service.clock import SystemClock
from stripemeter_server.service.corrections.backfills import open_backfill
from stripemeter_server.service.corrections.commands import open_backfill_command
from stripemeter_server.storage.unit_of_work import Store

GOOD = {
    "metric": "api_calls",
    "customerRef": "cus_1",
    "quantity": "2",
    "ts": "2025-01-10T00:00:00Z",
}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_refused_lines_go_to_the_rejects_file_with_line_numbers_and_codes(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = jsonl(
        tmp_path / "in.jsonl", GOOD, "{oops", {**GOOD, "ts": None}, {**GOOD, "quantity": "-1"}
    )
    result = run(env, "import", str(source), "--tenant", "acme")
    refused = [
        json.loads(x) for x in (tmp_path / "in.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    assert result.exit_code == 1
    assert [(r["line"], r["code"]) for r in refused] == [
        (2, "invalid_line"),
        (3, "missing_ts"),
        (4, "invalid_quantity"),
    ]


def test_a_rerun_counts_nothing_twice(env: dict[str, str], tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", GOOD, {**GOOD, "customerRef": "cus_2"})
    run(env, "import", str(source), "--tenant", "acme")
    again = run(env, "import", str(source), "--tenant", "acme", "--batch-size", "1")
    assert (again.exit_code, again.stdout.strip()) == (
        0,
        f"imported {source}: 2 lines, 0 accepted, 2 duplicates, 0 rejected",
    )


def test_csv_from_stdin_is_imported(env: dict[str, str]) -> None:
    text = (
        'metric,customerRef,quantity,ts,meta\napi_calls,cus_1,3,2025-01-10T00:00:00Z,"{""a"":1}"\n'
    )
    result = run(env, "import", "-", "--tenant", "acme", "--format", "csv", stdin=text)
    assert "1 accepted" in result.stdout


def test_an_import_into_a_backfill_session_tags_every_event(
    env: dict[str, str], tmp_path: Path
) -> None:
    seed = jsonl(tmp_path / "seed.jsonl", {**GOOD, "ts": "2025-01-01T00:00:00Z"})
    run(env, "import", str(seed), "--tenant", "acme")
    store = Store(env["STRIPEMETER_DATABASE_URL"])
    with store.unit_of_work("acme") as uow:
        session = open_backfill(uow, open_backfill_command("api_calls"), "op", SystemClock().now())
        uow.commit()
    run(
        env,
        "import",
        str(jsonl(tmp_path / "in.jsonl", GOOD)),
        "--tenant",
        "acme",
        "--backfill",
        session.backfill_id,
    )
    exported = run(env, "export", "events", "--tenant", "acme").stdout
    store.close()
    assert [json.loads(x)["backfillId"] for x in exported.splitlines()] == [
        None,
        session.backfill_id,
    ]


def test_exported_events_import_again_as_duplicates(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "import", str(jsonl(tmp_path / "in.jsonl", GOOD)), "--tenant", "acme")
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"out.{fmt}"
        run(env, "export", "events", "--tenant", "acme", "--format", fmt, "--output", str(out))
        again = run(env, "import", str(out), "--tenant", "acme")
        assert "0 accepted, 1 duplicates, 0 rejected" in again.stdout


def test_usage_export_lists_each_period_with_its_status(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = jsonl(tmp_path / "in.jsonl", GOOD, {**GOOD, "ts": "2025-02-03T00:00:00Z"})
    run(env, "import", str(source), "--tenant", "acme")
    rows = [
        json.loads(x)
        for x in run(
            env, "export", "usage", "--tenant", "acme", "--metric", "api_calls"
        ).stdout.splitlines()
    ]
    # 2025's periods closed long ago: the imported events are late, billed on today's period
    assert [(r["periodStart"], r["eventCount"], r["status"]) for r in rows[:2]] == [
        ("2025-01-01T00:00:00.000000Z", 1, "closed"),
        ("2025-02-01T00:00:00.000000Z", 1, "closed"),
    ]
    assert (rows[-1]["status"], rows[-1]["value"]) == ("open", "4")
