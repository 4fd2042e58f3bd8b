"""Reconciliation lines as CSV, from the JSON API and from the dashboard: a cell a
spreadsheet would run as a formula starts with a quote; negative numbers stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from stripemeter_server.service.reconciliation.ports import LineRecord
from tests.integration.ui.conftest import ADMIN_KEY, Ui

HOSTILE = '=HYPERLINK("http://example.invalid","x")'
RUN_ID = "rcn_csvcells0000000000000000"


def _seed_run(ui: Ui) -> None:
    line = LineRecord(
        1,
        HOSTILE,
        "@api_calls",
        "meter",
        0,
        60_000_000,
        Decimal("5"),
        Decimal("5"),
        Decimal("10"),
        Decimal("-5"),
        Decimal("-0.5"),
        "drift",
        Decimal("-0.25"),
        "usd",
        None,
        "+cmd|' /C calc'!A0",
    )
    with ui.store.unit_of_work("default") as uow:
        uow.reconciliation.create_run(
            RUN_ID, trigger="manual", filters="{}", repair=False, now_us=0
        )
        uow.reconciliation.add_lines(RUN_ID, [line])
        uow.commit()


def _row(text: str) -> dict[str, str]:
    return next(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def api_csv(ui: Ui) -> dict[str, str]:
    _seed_run(ui)
    answer = ui.browser().get(
        f"/v1/reconciliation/runs/{RUN_ID}.csv", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert answer.status_code == 200, answer.text
    return _row(answer.text)


def test_the_api_csv_quotes_formula_cells(api_csv: dict[str, str]) -> None:
    assert (api_csv["customerRef"], api_csv["metric"], api_csv["note"]) == (
        "'" + HOSTILE,
        "'@api_calls",
        "'+cmd|' /C calc'!A0",
    )


def test_the_api_csv_keeps_negative_numbers_as_numbers(api_csv: dict[str, str]) -> None:
    assert (api_csv["absoluteDrift"], api_csv["relativeDrift"], api_csv["moneyAtStake"]) == (
        "-5",
        "-0.5",
        "-0.25",
    )


def test_the_dashboard_csv_quotes_formula_cells(ui: Ui) -> None:
    _seed_run(ui)
    answer = ui.sign_in().get(f"/ui/stripe/runs/{RUN_ID}/lines.csv")
    assert answer.status_code == 200, answer.text
    assert _row(answer.text)["customerRef"] == "'" + HOSTILE
