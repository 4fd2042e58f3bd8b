"""The store settled before the read phases time anything (issue 19).

The read phases follow the fill of the ledger (up to 1M events over HTTP) by seconds. On
PostgreSQL, autovacuum then vacuums and analyses what the fill wrote and a checkpoint
writes its pages out, on the same two cores as the server and the clients; on SQLite the
write-ahead log still holds the fill's last pages. Reads timed then measure the fill's
aftermath as much as the reads. A production store is read minutes after a load, when
that work is done, so before the first read phase this waits for it:

* PostgreSQL: until no autovacuum worker runs in the database and no table is past
  autovacuum's own vacuum, insert-vacuum or analyze threshold (the server's settings, the
  table's ``reltuples``), for ``QUIET_S`` seconds in a row (a backend's table statistics
  reach the counters up to ~10 s after its last transaction); then one ``CHECKPOINT``.
* SQLite: a ``wal_checkpoint(TRUNCATE)`` (retried while a reader or writer holds it).

Waiting is bounded (``LIMIT_S``): past it, what was still pending is printed and the reads
run anyway. Nothing is run that autovacuum would not run itself (no ``VACUUM`` or
``ANALYZE`` of our own): the store is what it would be minutes after the load. Each wait
is printed as a plain line: what it waited for and how long.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from sqlalchemy.engine import make_url

QUIET_S = 12.0
LIMIT_S = 600.0
POLL_S = 1.0

# Tables past autovacuum's thresholds (``autovacuum.c``'s formulas; ``reltuples`` of -1,
# never vacuumed or analysed, counts as 0 there too), and the autovacuum workers at work.
_PENDING = """
SELECT s.relname,
       s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
           + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0)
       OR s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
           + current_setting('autovacuum_vacuum_insert_scale_factor')::float8
             * greatest(c.reltuples, 0),
       s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
           + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE c.relkind = 'r'
"""
_WORKERS = """
SELECT coalesce(query, '') FROM pg_stat_activity
WHERE backend_type = 'autovacuum worker' AND datname = current_database()
"""


def settle(database: str, url: str, log: Callable[[str], None]) -> None:
    """Wait for the store's background work after a load (see the module's docstring)."""
    if database == "postgres":
        _settle_postgres(url, log)
    else:
        _settle_sqlite(url, log)


def _settle_postgres(url: str, log: Callable[[str], None]) -> None:
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.monotonic()
        seen: set[str] = set()
        quiet_since: float | None = None
        pending: list[str] = []
        while True:
            now = time.monotonic()
            pending = _pending(conn)
            seen.update(pending)
            if pending:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= QUIET_S:
                break
            if now - started > LIMIT_S:
                log(f"postgres settle: still pending after {LIMIT_S:.0f} s: {', '.join(pending)}")
                break
            time.sleep(POLL_S)
        waited = time.monotonic() - started
        what = ", ".join(sorted(seen)) or "nothing pending"
        log(
            f"postgres settle: autovacuum and analyze of the load done after {waited:.1f} s "
            f"(incl. {QUIET_S:.0f} s quiet; waited for: {what})"
        )
        started = time.monotonic()
        conn.execute("CHECKPOINT")
        log(f"postgres settle: CHECKPOINT in {time.monotonic() - started:.1f} s")


def _pending(conn: object) -> list[str]:
    """What autovacuum still has to do: ``worker: <its query>`` and ``vacuum <table>`` or
    ``analyze <table>`` for each table past a threshold."""
    execute = conn.execute  # type: ignore[attr-defined]
    found = [f"worker: {query}" for (query,) in execute(_WORKERS).fetchall()]
    for table, vacuum, analyze in execute(_PENDING).fetchall():
        if vacuum:
            found.append(f"vacuum {table}")
        if analyze:
            found.append(f"analyze {table}")
    return found


def _settle_sqlite(url: str, log: Callable[[str], None]) -> None:
    path = make_url(url).database
    if not path or path == ":memory:":
        return
    started = time.monotonic()
    conn = sqlite3.connect(path, timeout=30)
    try:
        while True:
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy or time.monotonic() - started > LIMIT_S:
                break
            time.sleep(POLL_S)
    finally:
        conn.close()
    log(
        f"sqlite settle: WAL checkpoint (TRUNCATE) of {frames} frames ({done} written) in "
        f"{time.monotonic() - started:.1f} s{' (still busy)' if busy else ''}"
    )
