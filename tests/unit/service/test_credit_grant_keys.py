"""The key of a Stripe credit grant for metered credit (ADR 0922): one per grant and
invoice, always a valid Stripe idempotency key, and the ledger record names its grant."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.invoice_items import MAX_KEY_LENGTH
from stripemeter_server.service.invoicing.credit_grants import grant_key

names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300
)


def test_the_key_names_tenant_grant_and_invoice() -> None:
    assert grant_key("acme", "cg_1", "in_9") == "stripemeter:acme:credit_grant:cg_1:in_9"


@given(names, names, names)
def test_every_key_fits_stripe(tenant: str, grant: str, invoice: str) -> None:
    assert 0 < len(grant_key(tenant, grant, invoice)) <= MAX_KEY_LENGTH


@given(names, names, names, names)
def test_two_invoices_never_share_a_key(tenant: str, grant: str, first: str, second: str) -> None:
    same = grant_key(tenant, grant, first) == grant_key(tenant, grant, second)
    assert same == (first == second)
