"""psycopg's pipeline mode for a whole transaction (the ingest group's, ADR 0934).

In pipeline mode the driver sends a statement without waiting for its answer; it waits only
when an answer is asked for. A transaction's ``BEGIN`` then leaves with its first statement,
a write whose answer nobody reads (the counters' write-back, the ingest tally) with the next
statement that is read, and the last such write with ``COMMIT``: fewer round trips, each a
context switch to a backend on the same cores. The raw-driver statements of the hot path
read their answers through ``fetchall``, which waits by itself; a statement SQLAlchemy runs
reads its cursor's description at once, so the pipeline is synced right after it is sent
(``sync_for_sqlalchemy``): it costs the one round trip it cost before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from sqlalchemy.engine import Connection

_PIPELINE = "stripemeter_pipeline"  # the connection's info: its open pipeline, if any


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Run the block's statements on ``conn`` in pipeline mode (leaving it syncs)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    # psycopg waits for the answer to the BEGIN it sends itself, even in pipeline mode; a
    # BEGIN sent as a statement of an autocommit connection waits for nothing, and the
    # transaction it opens ends in COMMIT or ROLLBACK all the same.
    driver.autocommit = True
    try:
        with driver.pipeline() as pipeline:
            driver.execute("BEGIN")
            conn.info[_PIPELINE] = pipeline
            try:
                yield
            except BaseException:
                with suppress(psycopg.Error):  # the block's own error is the one to raise
                    driver.rollback()
                raise
            finally:
                conn.info.pop(_PIPELINE, None)
            if driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                driver.rollback()  # left without a commit: nothing of it is kept
    finally:
        with suppress(psycopg.Error):  # only a broken connection refuses: it is not reused
            driver.autocommit = False


def sync_for_sqlalchemy(conn: Connection, *_args: Any) -> None:
    """``after_cursor_execute``: a SQLAlchemy statement's answer is read at once."""
    pipeline = conn.info.get(_PIPELINE)
    if pipeline is not None:
        pipeline.sync()
