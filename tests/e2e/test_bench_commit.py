"""The results header names the code it measured (benchmarks/__main__.py ``_commit``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import __main__ as bench

REPO = Path(bench.__file__).resolve().parent.parent


def test_the_server_package_of_this_tree_is_recognised() -> None:
    assert bench._server_from(REPO / "src")


def test_a_server_package_from_another_tree_is_not(tmp_path: Path) -> None:
    assert not bench._server_from(tmp_path)


def test_the_header_marks_code_imported_from_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "_server_from", lambda tree: False)
    assert bench._commit().endswith("+other-src")
