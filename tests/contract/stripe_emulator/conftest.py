"""Fixtures: one emulator per test worker (reset before every test, clock frozen at a
fixed instant), real `stripe` clients pointed at it, and a loopback webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from stripe_emulator import EmulatorClock, EmulatorConfig, EmulatorServer
from tests.contract.stripe_emulator.stripe_emulator_support import T0, Receiver, make_meter


@pytest.fixture(scope="session")
def server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(clock=EmulatorClock(frozen_at=T0), auto_deliver_webhooks=False)
    with EmulatorServer(config) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: EmulatorServer) -> None:
    server.control("POST", "/reset")
    server.control(
        "POST",
        "/config",
        {
            "requests_per_second": None,
            "meter_events_per_second": None,
            "require_known_customers": True,
            "meter_event_concurrency_per_customer": True,
            "invoice_finalize_grace": 3600,
            "async_meter_errors": True,
        },
    )  # the default
    server.emulator.clock.restore({"frozen_at": T0, "offset": 0})


@pytest.fixture
def client(server: EmulatorServer) -> stripe.StripeClient:
    return server.stripe_client()


@pytest.fixture
def customer(client: stripe.StripeClient) -> Any:
    return client.v1.customers.create(params={"name": "Acme", "metadata": {"tenant": "t1"}})


@pytest.fixture
def meter(client: stripe.StripeClient) -> Any:
    return make_meter(client)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    with Receiver() as rec:
        yield rec


@pytest.fixture(autouse=True)
def _fresh_receiver(request: pytest.FixtureRequest) -> None:
    if "receiver" in request.fixturenames:
        rec: Receiver = request.getfixturevalue("receiver")
        rec.received.clear()
        rec.statuses.clear()


@pytest.fixture
def sync_meter_errors(server: EmulatorServer) -> None:
    """Refuse meter events for an unknown meter or customer at once (reset by `_fresh`)."""
    server.control("POST", "/config", {"async_meter_errors": False})
