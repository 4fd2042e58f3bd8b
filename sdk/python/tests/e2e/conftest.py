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


@pytest.fixture
def server(start_server: ServerFactory) -> Server:
    return start_server()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRIPEMETER_URL", "STRIPEMETER_API_KEY", "STRIPEMETER_TENANT"):
        monkeypatch.delenv(name, raising=False)
