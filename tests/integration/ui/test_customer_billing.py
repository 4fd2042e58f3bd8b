"""A customer's page shows their entitlements, credit and upcoming invoice with the admin
API's exact values (the visible text is those values in the page's number/money format)."""

from __future__ import annotations

import re
from typing import Any

from stripemeter_server.api.ui.render import format_money, format_number, format_when
from tests.integration.ui.conftest import Ui

REF = "cus_A"
EVENTS = [
    {
        "metric": "tokens",
        "customerRef": REF,
        "quantity": q,
        "ts": f"2025-01-16T1{i}:00:00Z",
        "idempotencyKey": f"k-{i}",
    }
    for i, q in enumerate(["120.5", "180"])
]


def _prepare(ui: Ui) -> None:
    ui.api_send("POST", "/v1/metrics", {"code": "tokens", "aggregation": "sum"})
    ui.api_send(
        "PUT", "/v1/prices/tokens", {"model": "per_unit", "currency": "usd", "unitAmount": "0.013"}
    )
    ui.api_send("PUT", "/v1/features/tokens", {"type": "metered", "metric": "tokens"})
    ui.api_send("PUT", f"/v1/customers/{REF}/entitlements/tokens", {"limit": "1000"})
    ui.api_send(
        "POST",
        f"/v1/customers/{REF}/credit-grants",
        {
            "amount": "2.5",
            "currency": "usd",
            "category": "paid",
            "priority": 1,
            "effectiveAt": "2025-01-01T00:00:00Z",
            "idempotencyKey": "topup-1",
        },
    )
    assert ui.ingest(EVENTS).status_code == 200


def _cells(page: str, attribute: str, value: str) -> dict[str, tuple[str, str]]:
    """Each ``data-field`` of the element marked ``attribute=value``: (data-value, text)."""
    block = re.search(rf'<(\w+) {attribute}="{re.escape(value)}"[^>]*>(.*?)</\1>', page, re.S)
    assert block is not None, f"no element {attribute}={value}"
    found = re.findall(
        r'data-field="([^"]+)" data-value="([^"]*)">(.*?)</(?:td|dd)>', block.group(2), re.S
    )
    return {field: (raw, re.sub(r"<[^>]+>", "", text).strip()) for field, raw, text in found}


def _page(ui: Ui) -> str:
    answer = ui.sign_in().get(f"/ui/customers/{REF}")
    assert answer.status_code == 200, answer.text
    return answer.text


def test_the_entitlement_row_shows_the_apis_access_answer(ui: Ui) -> None:
    _prepare(ui)
    api = ui.api_get(f"/v1/customers/{REF}/entitlements/tokens")
    cells = _cells(_page(ui), "data-entitlement", "tokens")
    numbers = ("usage", "reserved", "limit", "balance")
    assert {f: cells[f] for f in (*numbers, "resetsAt", "hasAccess")} == {
        **{f: (api[f], format_number(api[f])) for f in numbers},
        "resetsAt": (api["resetsAt"], format_when(api["resetsAt"])),
        "hasAccess": ("true" if api["hasAccess"] else "false", "yes" if api["hasAccess"] else "no"),
    }


def test_the_credit_grant_shows_the_apis_remaining_amount(ui: Ui) -> None:
    _prepare(ui)
    grant: dict[str, Any] = ui.api_get(f"/v1/customers/{REF}/credits")["grants"][0]
    cells = _cells(_page(ui), "data-grant", grant["id"])
    assert {f: cells[f] for f in ("amount", "remaining")} == {
        f: (grant[f], format_money(grant[f], "usd")) for f in ("amount", "remaining")
    }


def test_the_credit_balance_is_the_apis(ui: Ui) -> None:
    _prepare(ui)
    balance = ui.api_get(f"/v1/customers/{REF}/credits")["balances"][0]
    cells = _cells(_page(ui), "data-balance", "usd")
    assert cells["balance"] == (balance["balance"], format_money(balance["balance"], "usd"))


def test_the_upcoming_invoice_line_is_the_apis(ui: Ui) -> None:
    _prepare(ui)
    line = ui.api_get(f"/v1/customers/{REF}/upcoming-invoice")["lines"][0]
    cells = _cells(_page(ui), "data-line", "tokens")
    assert cells == {
        "quantity": (line["quantity"], format_number(line["quantity"])),
        "amount": (line["amount"], format_money(line["amount"], "usd")),
    }


def test_the_upcoming_invoice_totals_are_the_apis(ui: Ui) -> None:
    _prepare(ui)
    total = ui.api_get(f"/v1/customers/{REF}/upcoming-invoice")["totals"][0]
    cells = _cells(_page(ui), "data-total", "usd")
    fields = ("subtotal", "credits", "total")
    assert cells == {f: (total[f], format_money(total[f], "usd")) for f in fields}


def test_a_customer_without_features_or_credit_says_so(ui: Ui) -> None:
    ui.api_send("POST", "/v1/metrics", {"code": "tokens", "aggregation": "sum"})
    assert ui.ingest(EVENTS).status_code == 200
    page = _page(ui)
    assert ("No features are defined." in page, "No credit grants." in page) == (True, True)
