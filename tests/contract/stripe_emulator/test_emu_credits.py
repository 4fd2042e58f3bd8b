"""Billing credits: grants, the balance summary and ledger, and their application to
metered lines when the renewal invoice is finalized."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, send_event

FEB_15 = 1771113600
SCOPE = {"scope": {"price_type": "metered"}}


def _grant(client: stripe.StripeClient, customer: str, value: int, **extra: Any) -> Any:
    return client.v1.billing.credit_grants.create(
        params={
            "customer": customer,
            "category": "paid",
            "applicability_config": SCOPE,
            "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": value}},
            **extra,
        }
    )


def _balance(client: stripe.StripeClient, customer: str) -> int:
    summary = client.v1.billing.credit_balance_summary.retrieve(
        params={
            "customer": customer,
            "filter": {
                "type": "applicability_scope",
                "applicability_scope": {"price_type": "metered"},
            },
        }
    )
    return sum(b.available_balance.monetary.value for b in summary.balances)


@pytest.fixture
def metered(client: stripe.StripeClient, customer: Any, meter: Any) -> Any:
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 10,
            "product_data": {"name": "API"},
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )


def _renew(client: stripe.StripeClient, server: EmulatorServer) -> Any:
    result = server.control("POST", "/clock/advance", {"seconds": FEB_15 - T0 + 3600})
    return client.v1.invoices.retrieve(result["invoices_created"][0])


def test_a_grant_is_created_with_its_amount_and_scope(
    client: stripe.StripeClient, customer: Any
) -> None:
    grant = _grant(client, customer.id, 500, name="Welcome")
    assert (
        grant.object,
        grant.amount.monetary.value,
        grant.applicability_config.scope.price_type,
        grant.priority,
        grant.effective_at,
    ) == ("billing.credit_grant", 500, "metered", 50, T0)


def test_the_balance_summary_counts_the_grant(client: stripe.StripeClient, customer: Any) -> None:
    _grant(client, customer.id, 500)
    assert _balance(client, customer.id) == 500


def test_credits_reduce_the_metered_line_at_finalization(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, metered: Any
) -> None:
    _grant(client, customer.id, 500)
    send_event(client, customer.id, "80", timestamp=T0 + 60)
    invoice = _renew(client, server)
    line = invoice.lines.data[0]
    assert (
        invoice.subtotal,
        invoice.total,
        line.pretax_credit_amounts[0].amount,
        _balance(client, customer.id),
    ) == (800, 300, 500, 0)


def test_credits_never_exceed_the_line(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, metered: Any
) -> None:
    _grant(client, customer.id, 500)
    send_event(client, customer.id, "20", timestamp=T0 + 60)
    invoice = _renew(client, server)
    assert (invoice.total, _balance(client, customer.id)) == (0, 300)


def test_credits_do_not_apply_to_licensed_lines(client: stripe.StripeClient, customer: Any) -> None:
    _grant(client, customer.id, 500)
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 900,
            "product_data": {"name": "Seat"},
            "recurring": {"interval": "month"},
        }
    )
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    assert client.v1.invoices.retrieve(sub.latest_invoice).total == 900


def test_the_higher_priority_grant_is_used_first(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, metered: Any
) -> None:
    low = _grant(client, customer.id, 500, priority=60)
    high = _grant(client, customer.id, 500, priority=10)
    send_event(client, customer.id, "30", timestamp=T0 + 60)
    _renew(client, server)
    debits = client.v1.billing.credit_balance_transactions.list(
        params={"customer": customer.id}
    ).data
    assert [
        (t.credit_grant, t.debit.amount.monetary.value) for t in debits if t.type == "debit"
    ] == [(high.id, 300)] and low.id


def test_an_expired_grant_is_not_applied(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, metered: Any
) -> None:
    _grant(client, customer.id, 500, expires_at=T0 + 86400)
    send_event(client, customer.id, "30", timestamp=T0 + 60)
    assert _renew(client, server).total == 300


def test_voiding_a_grant_empties_it(client: stripe.StripeClient, customer: Any) -> None:
    grant = _grant(client, customer.id, 500)
    voided = client.v1.billing.credit_grants.void_grant(grant.id)
    assert (voided.voided_at, _balance(client, customer.id)) == (T0, 0)


def test_expiring_a_grant_empties_it(client: stripe.StripeClient, customer: Any) -> None:
    grant = _grant(client, customer.id, 500)
    expired = client.v1.billing.credit_grants.expire(grant.id)
    assert (expired.expires_at, _balance(client, customer.id)) == (T0, 0)


def test_voiding_the_invoice_gives_the_credits_back(
    client: stripe.StripeClient, server: EmulatorServer, customer: Any, metered: Any
) -> None:
    _grant(client, customer.id, 500)
    send_event(client, customer.id, "80", timestamp=T0 + 60)
    invoice = _renew(client, server)
    client.v1.invoices.void_invoice(invoice.id)
    assert _balance(client, customer.id) == 500


def test_grants_are_listed_by_customer(client: stripe.StripeClient, customer: Any) -> None:
    grant = _grant(client, customer.id, 500)
    other = client.v1.customers.create(params={"name": "Other"})
    _grant(client, other.id, 100)
    listed = client.v1.billing.credit_grants.list(params={"customer": customer.id})
    assert [g.id for g in listed.data] == [grant.id]


def test_a_grant_without_a_scope_is_refused(client: stripe.StripeClient, customer: Any) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing.credit_grants.create(
            params={
                "customer": customer.id,
                "applicability_config": {"scope": {}},
                "amount": {"type": "monetary", "monetary": {"currency": "usd", "value": 1}},
            }
        )
    assert caught.value.param == "applicability_config[scope][price_type]"
