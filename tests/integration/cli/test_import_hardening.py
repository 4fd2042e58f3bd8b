"""`stripemeter import` on hostile files: each unreadable line refused alone with its reason
(bad UTF-8, too deep, too long), the good lines of its batch kept, a BOM accepted, and one
clear line (no traceback) for a missing file or a directory. And `export --format csv`
writes cells a spreadsheet shows as text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.cli.test_import_export import GOOD, jsonl, run

LINE = json.dumps(GOOD).encode()


def rejects(path: Path) -> list[dict[str, object]]:
    text = Path(str(path) + ".rejects.jsonl").read_text()
    return [json.loads(x) for x in text.splitlines()]


def test_a_bad_utf8_line_is_refused_alone(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    second = json.dumps({**GOOD, "customerRef": "cus_2"}).encode()
    source.write_bytes(LINE + b"\n" + b'{"metric":"\xff"}\n' + second + b"\n")
    result = run(env, "import", str(source), "--tenant", "acme")
    assert (result.exit_code, "2 accepted" in result.stdout) == (1, True)
    assert [(r["line"], r["code"], "UTF-8" in str(r["message"])) for r in rejects(source)] == [
        (2, "invalid_line", True)
    ]


def test_a_line_nested_too_deep_is_refused_alone(env: dict[str, str], tmp_path: Path) -> None:
    deep = '{"meta":' + "[" * 5000 + "]" * 5000 + "}"
    source = jsonl(tmp_path / "in.jsonl", GOOD, deep)
    result = run(env, "import", str(source), "--tenant", "acme")
    assert (result.exit_code, "1 accepted" in result.stdout) == (1, True)
    assert [(r["line"], "deep" in str(r["message"])) for r in rejects(source)] == [(2, True)]


def test_a_line_over_the_bound_is_refused_alone(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"x" * (200 * 1024) + b"\n" + LINE + b"\n")
    result = run(env, "import", str(source), "--tenant", "acme")
    assert "1 accepted" in result.stdout
    assert [(r["line"], "65536 allowed" in str(r["message"])) for r in rejects(source)] == [
        (1, True)
    ]


def test_a_utf8_bom_is_accepted(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + LINE + b"\n")
    result = run(env, "import", str(source), "--tenant", "acme")
    assert (result.exit_code, "1 accepted" in result.stdout) == (0, True)


def test_a_csv_with_a_bom_keeps_its_first_column(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(
        b"\xef\xbb\xbfmetric,customerRef,quantity,ts\r\napi_calls,cus_1,3,2025-01-10T00:00:00Z\r\n"
    )
    result = run(env, "import", str(source), "--tenant", "acme")
    assert (result.exit_code, "1 accepted" in result.stdout) == (0, True)


def test_a_missing_file_is_one_line_and_no_traceback(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "import", str(tmp_path / "nope.jsonl"), "--tenant", "acme")
    assert (result.exit_code, result.stderr.strip().splitlines()) == (
        1,
        [f"error: cannot read {tmp_path / 'nope.jsonl'}: no such file"],
    )


def test_a_directory_is_one_line_and_no_traceback(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "import", str(tmp_path), "--tenant", "acme")
    assert (result.exit_code, result.stderr.strip().splitlines()) == (
        1,
        [f"error: cannot read {tmp_path}: it is a directory"],
    )


def test_a_csv_export_quotes_formula_cells_and_imports_again(
    env: dict[str, str], tmp_path: Path
) -> None:
    hostile = {**GOOD, "customerRef": "=cmd|' /C calc'!A0"}
    run(env, "import", str(jsonl(tmp_path / "in.jsonl", hostile)), "--tenant", "acme")
    out = tmp_path / "out.csv"
    run(env, "export", "events", "--tenant", "acme", "--format", "csv", "--output", str(out))
    assert ",'=cmd|' /C calc'!A0," in out.read_text()
    again = run(env, "import", str(out), "--tenant", "acme")
    assert "0 accepted, 1 duplicates, 0 rejected" in again.stdout
