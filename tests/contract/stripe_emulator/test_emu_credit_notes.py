"""Credit notes, customer balance transactions, invoice line updates, invoice item
deletion, `mark_uncollectible` and `invoice.payment_failed`."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripe_emulator import EmulatorServer


@pytest.fixture
def invoice(client: stripe.StripeClient, customer: Any) -> Any:
    """An open invoice of two lines: 3 of 500 and 1 of 1200."""
    draft = client.v1.invoices.create(params={"customer": customer.id})
    for quantity, unit in ((3, "500"), (1, "1200")):
        client.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "invoice": draft.id,
                "quantity": quantity,
                "unit_amount_decimal": unit,
                "currency": "usd",
            }
        )
    return client.v1.invoices.finalize_invoice(draft.id)


def _line(invoice: Any, amount: int) -> str:
    return str(next(li.id for li in invoice.lines.data if li.amount == amount))


def test_a_credit_note_on_an_open_invoice_lowers_the_amount_due(
    client: stripe.StripeClient, invoice: Any
) -> None:
    note = client.v1.credit_notes.create(
        params={
            "invoice": invoice.id,
            "lines": [
                {
                    "type": "invoice_line_item",
                    "invoice_line_item": _line(invoice, 1500),
                    "quantity": 1,
                }
            ],
        }
    )
    after = client.v1.invoices.retrieve(invoice.id)
    assert (note.type, note.total, after.amount_due, after.pre_payment_credit_notes_amount) == (
        "pre_payment",
        500,
        2200,
        500,
    )


def test_the_preview_matches_the_note_then_created(
    client: stripe.StripeClient, invoice: Any
) -> None:
    params: dict[str, Any] = {
        "invoice": invoice.id,
        "lines": [
            {"type": "invoice_line_item", "invoice_line_item": _line(invoice, 1200), "amount": 700},
            {
                "type": "custom_line_item",
                "description": "Goodwill",
                "unit_amount": 150,
                "quantity": 2,
            },
        ],
    }
    preview = client.v1.credit_notes.preview(params=params)
    note = client.v1.credit_notes.create(params=params)
    assert (
        (preview.total, [li.amount for li in preview.lines.data])
        == (note.total, [li.amount for li in note.lines.data])
        == (1000, [700, 300])
    )


def test_crediting_the_whole_open_invoice_pays_it(
    client: stripe.StripeClient, invoice: Any
) -> None:
    client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 2700})
    assert client.v1.invoices.retrieve(invoice.id).status == "paid"


def test_more_than_the_line_is_refused(client: stripe.StripeClient, invoice: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.credit_notes.create(
            params={
                "invoice": invoice.id,
                "lines": [
                    {
                        "type": "invoice_line_item",
                        "invoice_line_item": _line(invoice, 1200),
                        "amount": 1201,
                    }
                ],
            }
        )
    assert caught.value.param == "lines[0][amount]"


def test_more_than_the_invoice_is_refused(client: stripe.StripeClient, invoice: Any) -> None:
    client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 2000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 701})
    assert caught.value.param == "amount"


def test_a_credit_note_on_a_paid_invoice_credits_the_customer_balance(
    client: stripe.StripeClient, customer: Any, invoice: Any
) -> None:
    client.v1.invoices.pay(invoice.id)
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 400})
    balance = client.v1.customers.retrieve(customer.id).balance
    txn = client.v1.customers.balance_transactions.list(customer.id).data[0]
    assert (note.type, balance, txn.type, txn.credit_note) == (
        "post_payment",
        -400,
        "credit_note",
        note.id,
    )


def test_voiding_a_credit_note_restores_the_amount_due(
    client: stripe.StripeClient, invoice: Any
) -> None:
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 300})
    voided = client.v1.credit_notes.void_credit_note(note.id)
    assert (voided.status, client.v1.invoices.retrieve(invoice.id).amount_due) == ("void", 2700)


def test_credit_notes_are_listed_by_invoice(client: stripe.StripeClient, invoice: Any) -> None:
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": 300})
    assert [n.id for n in client.v1.credit_notes.list(params={"invoice": invoice.id}).data] == [
        note.id
    ]


def test_a_balance_credit_is_applied_at_finalization(
    client: stripe.StripeClient, customer: Any
) -> None:
    client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": -1000, "currency": "usd", "description": "Promo"}
    )
    draft = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "amount": 2500, "currency": "usd"}
    )
    final = client.v1.invoices.finalize_invoice(draft.id)
    assert (
        final.starting_balance,
        final.ending_balance,
        final.amount_due,
        client.v1.customers.retrieve(customer.id).balance,
    ) == (-1000, 0, 1500, 0)


def test_a_draft_line_of_an_invoice_item_updates_the_item(
    client: stripe.StripeClient, customer: Any
) -> None:
    draft = client.v1.invoices.create(params={"customer": customer.id})
    item = client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": draft.id,
            "quantity": 2,
            "unit_amount_decimal": "100",
            "currency": "usd",
        }
    )
    line_id = client.v1.invoices.retrieve(draft.id).lines.data[0].id
    line = client.v1.invoices.line_items.update(draft.id, line_id, params={"quantity": 5})
    assert (
        line.amount,
        client.v1.invoice_items.retrieve(item.id).amount,
        client.v1.invoices.retrieve(draft.id).total,
    ) == (500, 500, 500)


def test_deleting_an_invoice_item_removes_its_line(
    client: stripe.StripeClient, customer: Any
) -> None:
    draft = client.v1.invoices.create(params={"customer": customer.id})
    item = client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "amount": 900, "currency": "usd"}
    )
    deleted = client.v1.invoice_items.delete(item.id)
    after = client.v1.invoices.retrieve(draft.id)
    assert (deleted.deleted, after.total, after.lines.data) == (True, 0, [])


def test_an_open_invoice_can_be_marked_uncollectible(
    client: stripe.StripeClient, invoice: Any
) -> None:
    marked = client.v1.invoices.mark_uncollectible(invoice.id)
    assert (
        marked.status,
        client.v1.events.list(params={"type": "invoice.marked_uncollectible"})
        .data[0]
        .data.object.id,
    ) == ("uncollectible", invoice.id)


def test_a_failing_customer_gets_a_decline_and_payment_failed(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, invoice: Any
) -> None:
    server.control("POST", f"/customers/{customer.id}/payment_failure", {"fail": True})
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)
    failed = client.v1.events.list(params={"type": "invoice.payment_failed"}).data
    assert (caught.value.code, failed[0].data.object.attempt_count) == ("card_declined", 1)


def test_out_of_band_payment_succeeds_for_a_failing_customer(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, invoice: Any
) -> None:
    server.control("POST", f"/customers/{customer.id}/payment_failure", {"fail": True})
    assert client.v1.invoices.pay(invoice.id, params={"paid_out_of_band": True}).status == "paid"


def test_a_failing_customers_renewal_fails_its_automatic_attempt(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any
) -> None:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 800,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "day"},
        }
    )
    client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    server.control("POST", f"/customers/{customer.id}/payment_failure", {"fail": True})
    created = server.control("POST", "/clock/advance", {"seconds": 86400 + 3600})
    renewal = client.v1.invoices.retrieve(created["invoices_created"][0])
    assert (renewal.status, renewal.attempt_count, renewal.next_payment_attempt is not None) == (
        "open",
        1,
        True,
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.integers(min_value=1, max_value=1500), min_size=1, max_size=5))
def test_credit_notes_never_credit_more_than_the_invoice(
    client: stripe.StripeClient, server: EmulatorServer, amounts: list[int]
) -> None:
    server.control("POST", "/reset")
    customer = client.v1.customers.create(params={"name": "Prop"})
    invoice = _open_invoice_of(client, customer, 2700)
    issued = 0
    for amount in amounts:
        try:
            client.v1.credit_notes.create(params={"invoice": invoice.id, "amount": amount})
            issued += amount
        except stripe.InvalidRequestError:
            assert issued + amount > 2700
    after = client.v1.invoices.retrieve(invoice.id)
    assert (issued <= 2700, after.pre_payment_credit_notes_amount, after.amount_due) == (
        True,
        issued,
        2700 - issued,
    )


def _open_invoice_of(client: stripe.StripeClient, customer: Any, amount: int) -> Any:
    draft = client.v1.invoices.create(params={"customer": customer.id})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "invoice": draft.id, "amount": amount, "currency": "usd"}
    )
    return client.v1.invoices.finalize_invoice(draft.id)
