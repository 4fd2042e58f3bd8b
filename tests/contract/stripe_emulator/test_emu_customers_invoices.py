"""Customers, invoices and invoice items (the webhook flow's writes)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer


@pytest.fixture
def price(client: stripe.StripeClient) -> Any:
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount_decimal": "0.25",
            "product_data": {"name": "API calls"},
        }
    )


@pytest.fixture
def draft(client: stripe.StripeClient, customer: Any) -> Any:
    return client.v1.invoices.create(params={"customer": customer.id, "auto_advance": False})


def test_customer_round_trips_metadata(client: stripe.StripeClient, customer: Any) -> None:
    assert client.v1.customers.retrieve(customer.id).metadata.to_dict() == {"tenant": "t1"}


def test_customer_list_contains_created(client: stripe.StripeClient, customer: Any) -> None:
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]


def test_unknown_customer_is_404(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.customers.retrieve("cus_missing")
    assert info.value.http_status == 404


def test_new_invoice_is_an_empty_draft(draft: Any) -> None:
    assert (draft.status, draft.total, draft.lines.data) == ("draft", 0, [])


def test_invoice_item_prices_quantity_with_price(
    client: stripe.StripeClient, customer: Any, draft: Any, price: Any
) -> None:
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "pricing": {"price": price.id},
            "quantity": 1000,
            "period": {"start": 1767225600, "end": 1769904000},
        }
    )
    assert (item.amount, item.invoice, item.period.start) == (250, draft.id, 1767225600)


def test_invoice_total_sums_items(client: stripe.StripeClient, customer: Any, draft: Any) -> None:
    for amount in ("1.5", "2.5"):
        client.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "invoice": draft.id,
                "currency": "usd",
                "unit_amount_decimal": amount,
                "quantity_decimal": "100",
            }
        )
    assert client.v1.invoices.retrieve(draft.id).total == 400


def test_decimal_amounts_round_half_up(
    client: stripe.StripeClient, customer: Any, draft: Any
) -> None:
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "currency": "usd",
            "unit_amount_decimal": "0.5",
            "quantity": 3,
        }
    )
    assert item.amount == 2


def test_items_are_listed_by_invoice(
    client: stripe.StripeClient, customer: Any, draft: Any, price: Any
) -> None:
    item = client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "pricing": {"price": price.id}}
    )
    listed = client.v1.invoice_items.list(params={"invoice": draft.id})
    assert [i.id for i in listed.data] == [item.id]


def test_finalize_moves_draft_to_open(
    client: stripe.StripeClient, customer: Any, draft: Any, price: Any
) -> None:
    client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "pricing": {"price": price.id},
            "quantity": 4,
        }
    )
    final = client.v1.invoices.finalize_invoice(draft.id)
    assert (final.status, final.amount_due) == ("open", 1)
    assert final.number


def test_item_on_finalized_invoice_is_rejected(
    client: stripe.StripeClient, customer: Any, draft: Any, price: Any
) -> None:
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "pricing": {"price": price.id}}
    )
    client.v1.invoices.finalize_invoice(draft.id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.invoice_items.create(
            params={"customer": customer.id, "invoice": draft.id, "pricing": {"price": price.id}}
        )
    assert "draft" in str(info.value.user_message)


def test_invoice_accepts_at_most_250_items(
    server: EmulatorServer, client: stripe.StripeClient, customer: Any, draft: Any
) -> None:
    with server.emulator.store.lock:  # bulk-fill in process; the 251st goes over HTTP
        invoice = server.emulator.store.get("invoices", draft.id)
        invoice["_lines"].extend({"amount": 1} for _ in range(250))
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.invoice_items.create(
            params={"customer": customer.id, "invoice": draft.id, "currency": "usd", "amount": 1}
        )
    assert "250" in str(info.value.user_message)


def test_finalizing_twice_is_rejected(client: stripe.StripeClient, draft: Any) -> None:
    client.v1.invoices.finalize_invoice(draft.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.finalize_invoice(draft.id)


def test_key_that_is_not_a_secret_key_is_an_authentication_error(server: EmulatorServer) -> None:
    with pytest.raises(stripe.AuthenticationError):
        server.stripe_client("pk_test_public").v1.customers.list()
