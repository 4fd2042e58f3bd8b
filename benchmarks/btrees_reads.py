"""A per-customer ledger read on ``benchmarks/btrees.py``'s scratch store, layout by layout
(ADR 0980): what a deferred metric/customer/ts index costs the reads it serves.

The read is one customer's count and sum of a metric in a time window (the shape of the
period sums and of the history by day). On the deferred layouts it is the indexed part
(through the partial index, or the side table joined to the ledger by rowid) united with
the unindexed tail: the rows past the indexer's watermark, read by ``seq`` (the ledger's
rowid, a range of the table itself) or, with ``tail``, through a partial index over the
unindexed rows alone (or a second, small side table). Every layout's answer is checked
against a scan that uses no index.
"""

from __future__ import annotations

import random
import sqlite3
import time

_WHERE = "tenant_id = ? AND metric = ? AND customer_ref = ? AND ts_us >= ? AND ts_us < ?"
_MARK = "(SELECT coalesce(max(seq), 0) FROM ix_watermark WHERE tenant_id = ?)"


def statement(layout: set[str]) -> str:
    """The read's SQL for ``layout``; its parameters are ``params``'s."""
    if "side" in layout:
        indexed = (
            "SELECT e.quantity AS q FROM ev_cust s CROSS JOIN events e ON e.rowid = s.seq "
            f"WHERE s.{_WHERE.replace(' AND ', ' AND s.')}"
        )
    elif "defer" in layout:
        indexed = f"SELECT quantity AS q FROM events WHERE {_WHERE} AND indexed = 1"
    else:
        return f"SELECT count(*), total(quantity) FROM events WHERE {_WHERE}"
    if layout >= {"side", "tail"}:
        tail = indexed.replace("ev_cust", "ev_tail")
    elif "tail" in layout:
        tail = f"SELECT quantity FROM events WHERE {_WHERE} AND indexed = 0"
    else:
        # ``+column`` keeps the planner off the tenant's key indexes: the tail is a range
        # of rowids, not a search of the tenant's whole ledger.
        plain = "+" + _WHERE.replace(" AND ", " AND +")
        tail = f"SELECT quantity FROM events WHERE rowid > {_MARK} AND {plain}"
    return f"SELECT count(*), total(q) FROM ({indexed} UNION ALL {tail})"


def params(layout: set[str], key: tuple[str, str, str, int, int]) -> tuple[object, ...]:
    """The read's parameters: the key once per part (and the tenant for the watermark)."""
    if not layout & {"side", "defer"}:
        return key
    if "tail" in layout:
        return (*key, *key)
    return (*key, key[0], *key)


def answer(
    conn: sqlite3.Connection, layout: set[str], key: tuple[str, str, str, int, int]
) -> tuple[int, float]:
    """One read's (count, sum)."""
    count, total = conn.execute(statement(layout), params(layout, key)).fetchone()
    return int(count), round(float(total), 2)


def unindexed(conn: sqlite3.Connection, key: tuple[str, str, str, int, int]) -> tuple[int, float]:
    """The same read as a scan of the whole ledger, no index (the reference answer)."""
    count, total = conn.execute(
        f"SELECT count(*), total(quantity) FROM events NOT INDEXED WHERE {_WHERE}", key
    ).fetchone()
    return int(count), round(float(total), 2)


def cost(
    conn: sqlite3.Connection,
    layout: set[str],
    keys: list[tuple[str, str, str, int, int]],
    checked: int = 3,
) -> float:
    """µs of process CPU per read over ``keys``; the first ``checked`` answers compared
    with the scan (an ``AssertionError`` if one differs)."""
    for key in keys[:checked]:
        assert answer(conn, layout, key) == unindexed(conn, key), key
    before = time.process_time()
    for key in keys:
        answer(conn, layout, key)
    return (time.process_time() - before) / len(keys) * 1e6


def keys(
    tenant: str, metric: str, customers: list[str], start: int, width: int, count: int
) -> list[tuple[str, str, str, int, int]]:
    """``count`` random customers' windows: the first half of the load's time range."""
    rng = random.Random(7)
    return [(tenant, metric, rng.choice(customers), start, start + width) for _ in range(count)]
