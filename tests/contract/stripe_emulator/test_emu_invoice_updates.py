"""Updating drafts as Stripe does: ``auto_advance=false`` keeps an invoice from finalizing
(the invoice gate's hold) and ``true`` schedules it again; an invoice item's quantity or
amount can be corrected on a draft, never on a finalized invoice."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer


@pytest.fixture
def draft(client: stripe.StripeClient, customer: Any) -> Any:
    """A draft that finalizes by itself one hour from now (``auto_advance``)."""
    invoice = client.v1.invoices.create(params={"customer": customer.id, "auto_advance": True})
    client.v1.invoice_items.create(
        params={
            "customer": customer.id,
            "invoice": invoice.id,
            "unit_amount_decimal": "2",
            "quantity": 10,
        }
    )
    return invoice


def advance(server: EmulatorServer, seconds: int) -> list[str]:
    finalized: list[str] = server.control("POST", "/clock/advance", {"seconds": seconds})[
        "invoices_finalized"
    ]
    return finalized


def test_auto_advance_false_keeps_a_draft_from_finalizing(
    server: EmulatorServer, client: stripe.StripeClient, draft: Any
) -> None:
    client.v1.invoices.update(draft.id, params={"auto_advance": False})
    assert (advance(server, 7200), client.v1.invoices.retrieve(draft.id).status) == ([], "draft")


def test_auto_advance_true_finalizes_it_an_hour_later(
    server: EmulatorServer, client: stripe.StripeClient, draft: Any
) -> None:
    client.v1.invoices.update(draft.id, params={"auto_advance": False})
    advance(server, 7200)
    updated = client.v1.invoices.update(draft.id, params={"auto_advance": True})
    assert updated.automatically_finalizes_at == server.emulator.clock.now() + 3600
    assert advance(server, 3600) == [draft.id]


def test_auto_advance_of_a_finalized_invoice_is_refused(
    client: stripe.StripeClient, draft: Any
) -> None:
    client.v1.invoices.finalize_invoice(draft.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoices.update(draft.id, params={"auto_advance": False})


def test_updating_an_item_reprices_it_and_the_draft(
    client: stripe.StripeClient, draft: Any
) -> None:
    item_id = (
        client.v1.invoices.retrieve(draft.id).lines.data[0].parent.invoice_item_details.invoice_item
    )
    item = client.v1.invoice_items.update(item_id, params={"quantity": 12})
    assert (item.quantity, item.amount, client.v1.invoices.retrieve(draft.id).total) == (12, 24, 24)


def test_an_item_on_a_finalized_invoice_cannot_be_updated(
    client: stripe.StripeClient, draft: Any
) -> None:
    item_id = (
        client.v1.invoices.retrieve(draft.id).lines.data[0].parent.invoice_item_details.invoice_item
    )
    client.v1.invoices.finalize_invoice(draft.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.invoice_items.update(item_id, params={"amount": 1})
