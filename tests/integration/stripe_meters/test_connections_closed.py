"""What the app (and a CLI command) builds, it releases: closing the context closes the
kept-alive connections of its Stripe gateways, not only the store's. Left open, only the
garbage collector closes them, each with a ``ResourceWarning``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from stripe_emulator import EmulatorConfig, EmulatorServer
from stripemeter_server.api.app import build_context, close_context, create_app
from stripemeter_server.config import Settings
from stripemeter_server.outbound import pinned_pool
from stripemeter_server.service.context import ServiceContext
from stripemeter_server.storage.unit_of_work import Store


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig()) as server:
        yield server


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    """Every connection the gateways' pool opens, recorded as it is made."""
    found: list[socket.socket] = []
    connect = socket.create_connection

    def recording(*args: Any, **kwargs: Any) -> socket.socket:
        sock = connect(*args, **kwargs)
        found.append(sock)
        return sock

    monkeypatch.setattr(pinned_pool.socket, "create_connection", recording)
    return found


def _settings(store: Store, emulator: EmulatorServer) -> Settings:
    return Settings(
        database_url=store.url,
        stripe_secret_key=SecretStr("sk_test_connections"),
        stripe_api_base=emulator.url,
    )


def _call_stripe(ctx: ServiceContext) -> None:
    """One call through the context's own gateway pool: it keeps the connection alive."""
    assert ctx.stripe.factory is not None and ctx.stripe.environment is not None
    ctx.stripe.factory(ctx.stripe.environment).list_meters()


def test_closing_the_context_closes_its_stripe_connections(
    store: Store, emulator: EmulatorServer, opened: list[socket.socket]
) -> None:
    ctx = build_context(_settings(store, emulator))
    _call_stripe(ctx)
    kept = [sock.fileno() != -1 for sock in opened]
    close_context(ctx)
    assert (kept, [sock.fileno() for sock in opened]) == ([True], [-1])


def test_a_stopped_app_has_closed_its_stripe_connections(
    store: Store, emulator: EmulatorServer, opened: list[socket.socket]
) -> None:
    app = create_app(_settings(store, emulator))
    with TestClient(app):
        _call_stripe(app.state.stripemeter.ctx)
        kept = [sock.fileno() != -1 for sock in opened]
    assert (kept, [sock.fileno() for sock in opened]) == ([True], [-1])
