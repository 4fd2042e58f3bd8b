"""The Stripe port's billing credit grants, through the official library against the
emulator: created once per idempotency key, listed, voided, and the balance summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.domain.destinations import HostAllowList
from stripemeter_server.service.ports.stripe import CreditGrantOut, StripeCredentials
from stripemeter_server.stripe.gateway import StripeGateway

SECRET = "sk_test_credit_grants_port"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig()) as server:
        yield server


@pytest.fixture
def gateway(emulator: EmulatorServer) -> Iterator[StripeGateway]:
    emulator.control("POST", "/reset")
    port = StripeGateway(
        StripeCredentials(SECRET, api_base=emulator.url),
        allowed_hosts=HostAllowList.of_urls(emulator.url),
    )
    yield port
    port.close()


@pytest.fixture
def customer(emulator: EmulatorServer) -> str:
    created = emulator.stripe_client().v1.customers.create(params={"name": "Alice"})
    return str(created.id)


def grant(customer: str, amount: int = 500, key: str = "k1") -> CreditGrantOut:
    return CreditGrantOut(
        customer, "usd", amount, "Prepaid credit (cg_1)", {"stripemeter_key": key}, f"idem-{key}"
    )


def test_a_grant_is_created_with_its_amount_and_metadata(
    gateway: StripeGateway, customer: str
) -> None:
    created = gateway.create_credit_grant(grant(customer))
    assert (
        created.currency,
        created.amount,
        created.voided,
        created.metadata["stripemeter_key"],
    ) == ("usd", 500, False, "k1")


def test_the_same_idempotency_key_creates_one_grant(gateway: StripeGateway, customer: str) -> None:
    first = gateway.create_credit_grant(grant(customer))
    again = gateway.create_credit_grant(grant(customer))
    assert (again.grant_id, len(gateway.credit_grants(customer))) == (first.grant_id, 1)


def test_the_balance_summary_sums_the_usable_grants(gateway: StripeGateway, customer: str) -> None:
    gateway.create_credit_grant(grant(customer, 500, "a"))
    gateway.create_credit_grant(grant(customer, 250, "b"))
    assert gateway.credit_balance(customer, "usd") == 750


def test_a_voided_grant_leaves_the_balance(gateway: StripeGateway, customer: str) -> None:
    created = gateway.create_credit_grant(grant(customer, 500, "a"))
    gateway.void_credit_grant(created.grant_id, "void-a")
    listed = {g.grant_id: g.voided for g in gateway.credit_grants(customer)}
    assert (listed, gateway.credit_balance(customer, "usd")) == ({created.grant_id: True}, 0)
