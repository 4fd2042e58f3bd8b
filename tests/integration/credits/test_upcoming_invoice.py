"""The upcoming invoice preview on both stores: lines priced as the invoice flow prices them,
tiers shown, credits for the same periods taken off, ``at`` choosing the period."""

from __future__ import annotations

from typing import Any

import pytest

from stripemeter_server.service.operations.tenancy import create_tenant, issue_key
from tests.integration.credits.conftest import event, grant, track
from tests.support.app_client import Client


def preview(client: Client, **params: Any) -> Any:
    return client.get("/v1/customers/cus_1/upcoming-invoice", **params).json()


def test_each_priced_metric_is_a_line_with_its_amount(client: Client) -> None:
    track(client, [event("3000", "e1"), event("10", "e2", metric="images")])
    lines = {line["metric"]: line for line in preview(client)["lines"]}
    assert (lines["tokens"]["amount"], lines["images"]["amount"]) == ("4", "0.5")


def test_a_line_shows_the_tiers_applied(client: Client) -> None:
    track(client, [event("3000", "e1")])
    tokens = next(line for line in preview(client)["lines"] if line["metric"] == "tokens")
    assert [(t["quantity"], t["amount"]) for t in tokens["tiers"]] == [("1000", "0"), ("2000", "4")]


def test_totals_take_the_credit_off(client: Client) -> None:
    grant(client, "3", "g1")
    track(client, [event("3000", "e1"), event("10", "e2", metric="images")])
    assert preview(client)["totals"] == [
        {"currency": "usd", "subtotal": "4.5", "credits": "3", "total": "1.5"}
    ]


def test_the_period_is_the_customers_period(client: Client) -> None:
    body = preview(client)
    assert (body["periodStart"], body["periodEnd"]) == (
        "2025-01-01T00:00:00.000000Z",
        "2025-02-01T00:00:00.000000Z",
    )


def test_at_previews_the_period_containing_it(client: Client) -> None:
    track(client, [event("3000", "e1")])
    body = preview(client, at="2025-03-10T00:00:00Z")
    tokens = next(line for line in body["lines"] if line["metric"] == "tokens")
    assert (body["periodStart"], tokens["quantity"], tokens["amount"]) == (
        "2025-03-01T00:00:00.000000Z",
        "0",
        "1",
    )  # nothing yet: the $1 minimum


def test_a_mapping_unit_amount_prices_an_unpriced_metric(client: Client) -> None:
    client.post("/v1/metrics", {"code": "calls", "aggregation": "sum"})
    client.put(
        "/v1/mappings/calls", {"mode": "invoice_items", "unitAmount": "25", "currency": "usd"}
    )
    track(client, [event("4", "e1", metric="calls")])
    calls = next(line for line in preview(client)["lines"] if line["metric"] == "calls")
    assert (calls["pricing"], calls["amount"]) == ("unit_amount", "1")


def test_at_beyond_the_year_9000_names_the_field(client: Client) -> None:
    response = client.get("/v1/customers/cus_1/upcoming-invoice", at="9999-01-01T00:00:00Z")
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "at")


def test_another_tenant_sees_no_line(client: Client) -> None:
    track(client, [event("3000", "e1")])
    with client.store.unit_of_work() as uow:
        create_tenant(uow, "other", name=None, auto_create_metrics=True, now=client.clock.now())
        issued = issue_key(uow, "other", frozenset({"read"}), label=None, now=client.clock.now())
        uow.commit()
    body = client.http.get(
        "/v1/customers/cus_1/upcoming-invoice", headers={"Authorization": f"Bearer {issued.secret}"}
    ).json()
    assert (body["lines"], body["totals"]) == ([], [])


@pytest.mark.parametrize(
    ("at", "field"),
    [
        ("12025-01-01T00:00:00Z", "at"),  # 10 000 years on
        ("2025-01-01T00:00:00\u0000Z", "at"),
        ("1e80", "at"),
    ],
)
def test_an_unparsable_at_is_a_problem_naming_it(client: Client, at: str, field: str) -> None:
    response = client.get("/v1/customers/cus_1/upcoming-invoice", at=at)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, field)


def test_a_nul_in_the_customer_ref_is_a_problem(client: Client) -> None:
    response = client.get("/v1/customers/cus%001/upcoming-invoice")
    assert response.status_code in (400, 404, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
