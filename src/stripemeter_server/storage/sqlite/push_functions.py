"""The SQL functions a set-based push plan calls on SQLite (ADR 0985), registered on every
connection: SQLite has neither exact decimals nor SHA-256, so the plan's arithmetic and
identifiers are the domain's own functions, called by the statement once per planned row
(deterministic: the same arguments always give the same answer)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from stripemeter_server.domain.decimals import add, sub
from stripemeter_server.domain.push_plan import push_identifier, to_units


def _decimal(raw: int | str | float) -> Decimal:
    """A stored amount (integers as integers, decimals as their exact text)."""
    if isinstance(raw, float):  # never stored so; a float's text would not be exact
        raise TypeError("an amount stored as a float")
    return Decimal(raw)


def push_units(base: int | str, adjustments: str, late_out: str, scale: str) -> str:
    """A ``sum`` formula's whole value in pushed units (the aggregate plus the corrections,
    as ``CounterState.value``), as the text of an integer (SQLite's integers stop at 2⁶³)."""
    value = add(_decimal(base), sub(_decimal(adjustments), _decimal(late_out)))
    return str(to_units(value, Decimal(scale)))


def push_delta(after: str, pushed: int | str | None) -> str | None:
    """What a ``sum`` push sends: the units after minus those pushed; None when nothing."""
    delta = int(after) - (0 if pushed is None else int(_decimal(pushed)))
    return str(delta) if delta else None


def register_push_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("stripemeter_push_units", 4, push_units, deterministic=True)
    conn.create_function("stripemeter_push_delta", 2, push_delta, deterministic=True)
    conn.create_function("stripemeter_push_id", 5, push_identifier, deterministic=True)
