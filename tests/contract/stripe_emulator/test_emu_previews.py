"""`POST /v1/invoices/create_preview` agrees to the cent with what the renewal then bills
(tiers, credits, prorations), and changes nothing."""

from __future__ import annotations

from typing import Any

import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, make_meter, send_event

FEB_15 = 1771113600
HALF = (FEB_15 - T0) // 2
TIERS = [
    {"up_to": 100, "flat_amount": 1000, "unit_amount": 0},
    {"up_to": 1000, "unit_amount_decimal": "2.5"},
    {"up_to": "inf", "unit_amount": 1},
]


def _setup(client: stripe.StripeClient, seats: int = 2) -> tuple[Any, Any]:
    """A customer with a licensed seat price and a tiered meter-backed usage price."""
    customer = client.v1.customers.create(params={"name": "Acme"})
    meter = make_meter(client)
    seat = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1000,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month"},
        }
    )
    usage = client.v1.prices.create(
        params={
            "currency": "usd",
            "product_data": {"name": "API"},
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "tiers": TIERS,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": seat.id, "quantity": seats}, {"price": usage.id}],
        }
    )
    return customer, sub


def _renewal_total(client: stripe.StripeClient, server: EmulatorServer, until: int) -> int:
    created = server.control("POST", "/clock/set", {"at": until})["invoices_created"]
    return int(client.v1.invoices.retrieve(created[-1]).total)


def _preview(client: stripe.StripeClient, sub: Any, **extra: Any) -> Any:
    return client.v1.invoices.create_preview(params={"subscription": sub.id, **extra})


def test_the_preview_of_the_renewal_matches_the_renewal(
    client: stripe.StripeClient, server: EmulatorServer
) -> None:
    customer, sub = _setup(client)
    send_event(client, customer.id, "1234", timestamp=T0 + 60)
    preview = _preview(client, sub)
    assert preview.total == _renewal_total(client, server, FEB_15 + 3600)


def test_the_preview_is_a_draft_with_an_upcoming_id(client: stripe.StripeClient) -> None:
    _, sub = _setup(client)
    preview = _preview(client, sub)
    assert (
        preview.id.startswith("upcoming_in_"),
        preview.status,
        preview.number,
        preview.billing_reason,
    ) == (True, "draft", None, "subscription_cycle")


def test_a_preview_changes_nothing(client: stripe.StripeClient, server: EmulatorServer) -> None:
    _, sub = _setup(client)
    before = server.control("GET", "/state")["data"]
    _preview(
        client,
        sub,
        subscription_details={"items": [{"id": sub["items"].data[0].id, "quantity": 5}]},
    )
    after = server.control("GET", "/state")["data"]
    # only the request's idempotency record (the library sends a key on every POST) is new
    assert {k: v for k, v in after.items() if k != "idempotency"} == {
        k: v for k, v in before.items() if k != "idempotency"
    }


def test_the_preview_applies_credits_as_the_renewal_will(
    client: stripe.StripeClient, server: EmulatorServer
) -> None:
    customer, sub = _setup(client)
    client.v1.billing.credit_grants.create(
        params={
            "customer": customer.id,
            "applicability_config": {"scope": {"price_type": "metered"}},
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 700}},
        }
    )
    send_event(client, customer.id, "300", timestamp=T0 + 60)
    preview = _preview(client, sub)
    assert (preview.total, preview.total) == (
        preview.subtotal - 700,
        _renewal_total(client, server, FEB_15 + 3600),
    )


def test_the_preview_of_a_change_matches_the_renewal_after_it(
    client: stripe.StripeClient, server: EmulatorServer
) -> None:
    _, sub = _setup(client)
    server.control("POST", "/clock/set", {"at": T0 + HALF})
    change = [{"id": sub["items"].data[0].id, "quantity": 5}]
    preview = _preview(client, sub, subscription_details={"items": change})
    client.v1.subscriptions.update(sub.id, params={"items": change})
    assert preview.total == _renewal_total(client, server, FEB_15 + 3600)


def test_the_preview_of_always_invoice_is_the_immediate_invoice(
    client: stripe.StripeClient, server: EmulatorServer
) -> None:
    _, sub = _setup(client)
    server.control("POST", "/clock/set", {"at": T0 + HALF})
    change = [{"id": sub["items"].data[0].id, "quantity": 3}]
    preview = _preview(
        client, sub, subscription_details={"items": change, "proration_behavior": "always_invoice"}
    )
    updated = client.v1.subscriptions.update(
        sub.id, params={"items": change, "proration_behavior": "always_invoice"}
    )
    actual = client.v1.invoices.retrieve(updated.latest_invoice)
    assert (preview.billing_reason, preview.total) == ("subscription_update", actual.total)


def test_the_preview_of_a_new_subscription_is_its_first_invoice(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create(params={"name": "New"})
    seat = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 1500,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month"},
        }
    )
    items = [{"price": seat.id, "quantity": 3}]
    preview = client.v1.invoices.create_preview(
        params={"customer": customer.id, "subscription_details": {"items": items}}
    )
    assert (
        preview.billing_reason,
        preview.total,
        client.v1.subscriptions.list(params={"customer": customer.id}).data,
    ) == ("subscription_create", 4500, [])


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    usage=st.integers(min_value=0, max_value=5000),
    seats=st.integers(min_value=1, max_value=9),
    new_seats=st.integers(min_value=0, max_value=9),
    credit=st.integers(min_value=0, max_value=3000),
    offset=st.integers(min_value=60, max_value=FEB_15 - T0 - 60),
)
def test_previews_always_agree_with_the_renewal(
    client: stripe.StripeClient,
    server: EmulatorServer,
    usage: int,
    seats: int,
    new_seats: int,
    credit: int,
    offset: int,
) -> None:
    server.control("POST", "/reset")
    server.emulator.clock.restore({"frozen_at": T0, "offset": 0})
    customer, sub = _setup(client, seats)
    if credit:
        client.v1.billing.credit_grants.create(
            params={
                "customer": customer.id,
                "applicability_config": {"scope": {"price_type": "metered"}},
                "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": credit}},
            }
        )
    send_event(client, customer.id, str(usage), timestamp=T0 + 60)
    server.control("POST", "/clock/set", {"at": T0 + offset})
    change = [{"id": sub["items"].data[0].id, "quantity": new_seats}]
    preview = _preview(client, sub, subscription_details={"items": change})
    client.v1.subscriptions.update(sub.id, params={"items": change})
    assert preview.total == _renewal_total(client, server, FEB_15 + 3600)


def test_preview_renewal_and_a_full_credit_note_agree(
    client: stripe.StripeClient, server: EmulatorServer
) -> None:
    """Tiers, a credit grant and prorations on one invoice: the preview, the renewal and a
    credit note of everything creditable all come to the same total."""
    customer, sub = _setup(client)
    client.v1.billing.credit_grants.create(
        params={
            "customer": customer.id,
            "applicability_config": {"scope": {"price_type": "metered"}},
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 450}},
        }
    )
    send_event(client, customer.id, "777", timestamp=T0 + 60)
    server.control("POST", "/clock/set", {"at": T0 + HALF})
    client.v1.subscriptions.update(
        sub.id, params={"items": [{"id": sub["items"].data[0].id, "quantity": 4}]}
    )
    preview = _preview(client, sub)
    created = server.control("POST", "/clock/set", {"at": FEB_15 + 3600})["invoices_created"]
    invoice = client.v1.invoices.retrieve(created[-1])
    lines = client.v1.invoices.line_items.list(invoice.id, params={"limit": 100}).data
    left, credit_lines = invoice.total, []  # a proration credit line makes the invoice
    for li in lines:  # total less than its positive lines
        amount = min(left, li.amount - sum(c.amount for c in li.pretax_credit_amounts or []))
        if amount > 0:
            credit_lines.append(
                {"type": "invoice_line_item", "invoice_line_item": li.id, "amount": amount}
            )
            left -= amount
    note = client.v1.credit_notes.create(params={"invoice": invoice.id, "lines": credit_lines})
    assert preview.total == invoice.total == note.total
