"""The upcoming invoice beside Stripe's own preview (``invoices.create_preview`` on the
emulator), compared line by line before the invoice exists."""

from __future__ import annotations

from typing import Any

from tests.integration.stripe_invoices.conftest import Flow
from tests.integration.stripe_invoices.support import CUSTOMER, billed_customer


def preview(flow: Flow, **params: Any) -> Any:
    return flow.get(f"/v1/customers/{CUSTOMER}/upcoming-invoice", **params)


def stripe_line(flow: Flow, quantity: int) -> None:
    """An invoice item for ``exports`` waiting in Stripe for the next invoice, at the
    mapping's Stripe price, tied to the metric by the flow's metadata."""
    stripe_customer = (
        flow.stripe.v1.customers.search(
            params={"query": f"metadata['stripemeter_customer_ref']:'{CUSTOMER}'"}
        )
        .data[0]
        .id
    )
    mapping = flow.get("/v1/mappings/exports")
    flow.stripe.v1.invoice_items.create(
        params={
            "customer": stripe_customer,
            "pricing": {"price": mapping["price"]},
            "quantity": quantity,
            "metadata": {"stripemeter_metric": "exports"},
        }
    )


def by_metric(body: Any) -> dict[Any, Any]:
    return {line["metric"]: line for line in body["stripe"]["lines"]}


def test_stripe_lines_that_agree_with_ours_match(flow: Flow) -> None:
    billed_customer(flow)
    stripe_line(flow, 7)
    line = by_metric(preview(flow))["exports"]
    assert (line["status"], line["quantity"], line["stripeQuantity"], line["stripeAmount"]) == (
        "match",
        "7",
        "7",
        "0.21",
    )


def test_a_deliberate_difference_is_shown_with_its_size(flow: Flow) -> None:
    billed_customer(flow)
    stripe_line(flow, 5)
    line = by_metric(preview(flow))["exports"]
    assert (line["status"], line["quantityDifference"]) == ("differs", "-2")


def test_lines_we_add_at_invoice_creation_are_not_in_stripe_yet(flow: Flow) -> None:
    billed_customer(flow)
    line = by_metric(preview(flow))["api_calls"]
    assert (line["status"], line["amount"], line["stripeAmount"]) == (
        "added_at_invoice",
        "6.17",
        None,
    )


def test_a_stripe_line_nothing_of_ours_explains_is_listed(flow: Flow) -> None:
    billed_customer(flow)
    body = preview(flow)
    plan = [line for line in body["stripe"]["lines"] if line["status"] == "only_stripe"]
    assert ([line["stripeAmount"] for line in plan], body["stripe"]["status"]) == (
        ["10"],
        "compared",
    )


def test_stripes_totals_come_with_the_comparison(flow: Flow) -> None:
    billed_customer(flow)
    stripe_line(flow, 7)
    stripe = preview(flow)["stripe"]
    assert (stripe["currency"], stripe["total"], stripe["subscription"] is not None) == (
        "usd",
        "10.21",
        True,
    )


def test_a_preview_of_another_instant_has_no_stripe_side(flow: Flow) -> None:
    billed_customer(flow)
    assert "stripe" not in preview(flow, at="2026-01-20T00:00:00Z")


def test_a_customer_unknown_to_stripe_has_no_stripe_side(flow: Flow) -> None:
    billed_customer(flow)
    assert "stripe" not in flow.get("/v1/customers/bob/upcoming-invoice")
