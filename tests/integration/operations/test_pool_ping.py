"""PostgreSQL connections are pinged before use only after sitting idle (ADR 0860): one
whose server side went away while it was idle is replaced, and the read goes on."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError

from stripemeter_server.storage.postgres import engine as postgres_engine
from tests.conftest import open_store


def _backend_pid(store: object) -> int:
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_an_idle_connection_whose_backend_ended_is_replaced(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store("postgres", request, tmp_path)
    server = request.getfixturevalue("pg_server")
    try:
        first = _backend_pid(store)  # one connection, now idle in the pool
        with psycopg.connect(server.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        monkeypatch.setattr(postgres_engine, "IDLE_PING_S", 0.0)  # every checkout pings
        assert _backend_pid(store) != first  # replaced, and the statement ran
    finally:
        store.close()


class _Record:
    def __init__(self, returned: float | None) -> None:
        self.info = {} if returned is None else {postgres_engine._RETURNED: returned}


class _Connection:
    """A DB-API connection whose cursor counts its statements (or fails them)."""

    def __init__(self, fails: bool = False) -> None:
        self.fails, self.executed = fails, 0
        self.autocommit = False
        self.in_autocommit: list[bool] = []  # the setting each statement ran under

    def cursor(self) -> _Connection:
        return self

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def execute(self, _: str) -> None:
        self.executed += 1
        self.in_autocommit.append(self.autocommit)
        if self.fails:
            raise OSError("the server closed the connection")


def test_a_connection_returned_just_now_is_not_pinged_and_an_idle_one_is() -> None:
    now = time.monotonic()
    recent, idle, new = _Connection(), _Connection(), _Connection()
    postgres_engine._ping_if_idle(recent, _Record(now), None)
    postgres_engine._ping_if_idle(idle, _Record(now - 2 * postgres_engine.IDLE_PING_S), None)
    postgres_engine._ping_if_idle(new, _Record(None), None)
    assert (recent.executed, idle.executed, new.executed) == (0, 1, 1)
    # outside a transaction (ADR 0883), and the connection's own setting restored
    assert (idle.in_autocommit, idle.autocommit) == ([True], False)
    with pytest.raises(DisconnectionError):  # the pool then connects anew
        postgres_engine._ping_if_idle(_Connection(fails=True), _Record(None), None)
