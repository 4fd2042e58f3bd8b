"""The metrics and prices page: each metric's definition, its default price and customer
overrides, amounts formatted per currency (exact decimals, rounded on the server)."""

from __future__ import annotations

import re

from tests.integration.ui.conftest import Ui

GRADUATED = {
    "model": "graduated",
    "currency": "usd",
    "tiers": [
        {"upTo": "1000", "unitAmount": "0"},
        {"upTo": None, "unitAmount": "0.002", "flatAmount": "1"},
    ],
}


def _row(page: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row {attribute}={value}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def _catalog(ui: Ui) -> str:
    return ui.sign_in().get("/ui/metrics").text


def test_a_metrics_definition_is_shown(ui: Ui) -> None:
    ui.api_send(
        "POST",
        "/v1/metrics",
        {
            "code": "seats",
            "displayName": "Seats",
            "aggregation": "unique_count",
            "uniqueProperty": "meta.user",
            "filter": {"meta.region": "eu"},
            "latenessWindow": "PT1H",
            "latePolicy": "reject",
        },
    )
    row = _row(_catalog(ui), "data-metric", "seats")
    assert row == (
        'seats Seats — unique_count of meta.user meta.region = "eu" month, day 1 (UTC) PT1H reject'
    )


def test_a_default_unit_price_is_formatted_in_its_currency(ui: Ui) -> None:
    ui.api_send("POST", "/v1/metrics", {"code": "calls", "aggregation": "sum"})
    ui.api_send(
        "PUT",
        "/v1/prices/calls",
        {"model": "per_unit", "currency": "usd", "unitAmount": "12.5", "minimum": "100"},
    )
    row = _row(_catalog(ui), "data-price", "calls/")
    assert row == "calls default per_unit USD 12.50 USD per unit 100.00 USD —"


def test_a_customer_override_follows_the_default_with_its_own_currency(ui: Ui) -> None:
    ui.api_send("POST", "/v1/metrics", {"code": "calls", "aggregation": "sum"})
    ui.api_send(
        "PUT", "/v1/prices/calls", {"model": "per_unit", "currency": "usd", "unitAmount": "1"}
    )
    ui.api_send(
        "PUT",
        "/v1/customers/cus_A/prices/calls",
        {"model": "flat", "currency": "jpy", "flatAmount": "5000"},
    )
    page = _catalog(ui)
    row = _row(page, "data-price", "calls/cus_A")
    assert row == "calls override for cus_A flat JPY 5,000 JPY flat — —"
    assert page.index('data-price="calls/"') < page.index('data-price="calls/cus_A"')


def test_a_graduated_price_shows_each_tier_without_rounding_its_unit_price(ui: Ui) -> None:
    ui.api_send("POST", "/v1/metrics", {"code": "calls", "aggregation": "sum"})
    ui.api_send("PUT", "/v1/prices/calls", GRADUATED)
    row = _row(_catalog(ui), "data-price", "calls/")
    assert row == (
        "calls default graduated USD up to 1,000: 0.00 USD per unit "
        "above: 0.002 USD per unit + 1.00 USD flat — —"
    )
