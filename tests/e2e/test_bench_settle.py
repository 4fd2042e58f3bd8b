"""The bench's read phases start from a settled store (``benchmarks/settle.py``, ADR 0967):
on PostgreSQL the wait ends once autovacuum has nothing left to do for what was written and
a checkpoint ran; on SQLite the write-ahead log is checkpointed and emptied. Each says so."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from benchmarks import settle
from tests.support.postgres import PostgresServer


def test_sqlite_settles_with_its_log_checkpointed_and_emptied(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the log keeps every page until asked
    writer.execute("CREATE TABLE t (x TEXT)")
    writer.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * 2000)
    writer.commit()
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    lines: list[str] = []
    settle.settle("sqlite", f"sqlite:///{path}", lines.append)
    assert wal.stat().st_size == 0  # TRUNCATE: every frame written back, the log emptied
    assert len(lines) == 1 and lines[0].startswith("sqlite settle: WAL checkpoint (TRUNCATE)")
    assert "(still busy)" not in lines[0]
    writer.close()


def test_postgres_settles_once_autovacuum_has_nothing_left(
    pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settle, "QUIET_S", 0.5)
    url = pg_server.create_database("settle_probe")
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t SELECT generate_series(1, 5000)")
    lines: list[str] = []
    settle.settle("postgres", url, lines.append)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        assert settle._pending(conn) == []  # nothing autovacuum would still do
        analysed = conn.execute(
            "SELECT coalesce(last_autoanalyze, last_analyze) IS NOT NULL"
            " FROM pg_stat_user_tables WHERE relname = 't'"
        ).fetchone()
    assert analysed == (True,)  # the wait covered autovacuum's analyze of the load
    assert lines[0].startswith("postgres settle: autovacuum and analyze of the load done after")
    assert "analyze t" in lines[0]
    assert lines[1].startswith("postgres settle: CHECKPOINT in")
