"""Every page renders for a signed-in operator, with the API's exact values."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.integration.ui.conftest import Ui

EVENTS = [
    {
        "metric": "api_calls",
        "customerRef": "cus_A",
        "quantity": "0.1",
        "ts": "2025-01-16T10:00:00Z",
        "idempotencyKey": "k-1",
    },
    {
        "metric": "api_calls",
        "customerRef": "cus_A",
        "quantity": "0.2",
        "ts": "2025-01-16T11:00:00Z",
        "idempotencyKey": "k-2",
    },
]


def _heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/ui/overview", "Overview"),
        ("/ui/customers", "Customers"),
        ("/ui/events", "Events"),
        ("/ui/corrections", "Corrections"),
        ("/ui/stripe", "Stripe"),
        ("/ui/metrics", "Metrics and prices"),
        ("/ui/alerts", "Alerts"),
        ("/ui/customers/cus_A", "Customer cus_A"),
        ("/ui/events/detail?key=k-1", "Event"),
    ],
)
def test_each_page_renders_with_its_heading(ui: Ui, path: str, heading: str) -> None:
    assert ui.ingest(EVENTS).status_code == 200
    page = ui.sign_in().get(path)
    assert (page.status_code, _heading(page.text)) == (200, heading)


def test_the_customer_page_shows_the_apis_exact_value(ui: Ui) -> None:
    ui.ingest(EVENTS)
    api = ui.api_get("/v1/usage/current", customerRef="cus_A")["metrics"][0]["value"]
    page = ui.sign_in().get("/ui/customers/cus_A").text
    assert f'data-metric="api_calls" data-value="{api}"' in page and api == "0.3"


def test_the_customer_list_searches_by_prefix(ui: Ui) -> None:
    ui.ingest(
        [
            {**EVENTS[0], "customerRef": ref, "idempotencyKey": ref}
            for ref in ("acme", "acorn", "beta")
        ]
    )
    page = ui.sign_in().get("/ui/customers", params={"q": "ac"}).text
    assert "acme" in page and "acorn" in page and "beta" not in page


def test_the_customer_list_pages_by_keyset(ui: Ui) -> None:
    refs = [f"cus_{i:03d}" for i in range(60)]
    ui.ingest([{**EVENTS[0], "customerRef": r, "idempotencyKey": r} for r in refs])
    client = ui.sign_in()
    first = client.get("/ui/customers").text
    second = client.get("/ui/customers", params={"after": "cus_049"}).text
    assert "cus_049" in first and "cus_050" not in first and "cus_050" in second


def test_the_ledger_pages_newest_first(ui: Ui) -> None:
    ui.ingest([{**EVENTS[0], "idempotencyKey": f"e{i:03d}"} for i in range(55)])
    client = ui.sign_in()
    first = client.get("/ui/events").text
    cursor = re.search(r"before=(\d+)", first)
    assert cursor is not None
    older = client.get("/ui/events", params={"before": cursor.group(1)}).text
    assert "e054" in first and "e000" not in first and "e000" in older


def test_an_unknown_customer_is_a_404_page(ui: Ui) -> None:
    page = ui.sign_in().get("/ui/customers/nobody")
    assert page.status_code == 404 and "Not found" in page.text


def test_a_bad_cursor_is_a_422_page_not_a_500(ui: Ui) -> None:
    assert ui.sign_in().get("/ui/events", params={"before": "x"}).status_code == 422


def test_docs_load_swagger_from_the_package_not_a_cdn(ui: Ui) -> None:
    page = ui.browser().get("/docs").text
    assert "/ui/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_the_vendored_assets_are_served(ui: Ui) -> None:
    client = ui.browser()
    for path in (
        "vendor/htmx/htmx.min.js",
        "vendor/uplot/uPlot.iife.min.js",
        "vendor/swagger-ui/swagger-ui-bundle.js",
        "app.css",
        "chart.js",
    ):
        assert client.get(f"/ui/static/{path}").status_code == 200, path


def test_the_ledger_filters_by_customer(ui: Ui) -> None:
    ui.ingest(
        [
            {**EVENTS[0], "customerRef": ref, "idempotencyKey": f"key-of-{ref}"}
            for ref in ("cus_X", "cus_Y")
        ]
    )
    page = ui.sign_in().get("/ui/events", params={"customer": "cus_X"}).text
    assert "key-of-cus_X" in page and "key-of-cus_Y" not in page


def _overview_count(page: str, window: str, status: str) -> str:
    row = re.search(rf"{window}</th>(.*?)</tr>", page, re.S)
    assert row is not None
    cell = re.search(rf'data-status="{status}">([^<]+)</td>', row.group(1))
    assert cell is not None
    return cell.group(1).strip()


def test_the_overview_counts_the_last_hours_events(ui: Ui) -> None:
    ui.ingest(EVENTS)
    page = ui.sign_in().get("/ui/overview").text
    assert _overview_count(page, "Last hour", "accepted") == "2"


def test_the_overview_counts_each_answer_of_the_last_hour(ui: Ui) -> None:
    ui.ingest(EVENTS)
    bad = {**EVENTS[0], "idempotencyKey": "k-3", "quantity": "x"}
    ui.ingest([EVENTS[0], {**EVENTS[1], "quantity": "5"}, bad])  # duplicate, conflict, rejected
    page = ui.sign_in().get("/ui/overview").text
    shown = {
        s: _overview_count(page, "Last hour", s)
        for s in ("accepted", "duplicate", "conflict", "rejected")
    }
    assert shown == {"accepted": "2", "duplicate": "1", "conflict": "1", "rejected": "1"}


def test_the_overviews_last_hour_leaves_out_older_minutes(ui: Ui) -> None:
    ui.ingest(EVENTS)
    ui.clock.advance(timedelta(hours=2))
    page = ui.sign_in().get("/ui/overview").text
    counts = (
        _overview_count(page, "Last hour", "accepted"),
        _overview_count(page, "Last day", "accepted"),
    )
    assert counts == ("0", "2")
