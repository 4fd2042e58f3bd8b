"""Real-server fixtures (see ``sdk_server``); nothing here skips."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk_server import Server, ServerFactory


@pytest.fixture
def api_key() -> str:
    return "sk_test_" + secrets.token_hex(16)


@pytest.fixture
def start_server(tmp_path: Path, api_key: str) -> Iterator[ServerFactory]:
    """``start_server()`` → a fresh server; ``start_server(database=…)`` shares a database."""
    servers: list[Server] = []

    def factory(database: Path | None = None) -> Server:
        server = Server(database or tmp_path / "db.sqlite3", api_key)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.kill()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that need no crash: they use their own metric codes and
    customers, so they do not see each other's events."""
    database = tmp_path_factory.mktemp("shared") / "db.sqlite3"
    server = Server(database, "sk_test_" + secrets.token_hex(16)).start()
    yield server
    server.kill()


@pytest.fixture
def unique() -> str:
    """A fresh suffix for metric codes and customer refs."""
    return secrets.token_hex(6)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRIPEMETER_URL", "STRIPEMETER_API_KEY", "STRIPEMETER_TENANT"):
        monkeypatch.delenv(name, raising=False)
