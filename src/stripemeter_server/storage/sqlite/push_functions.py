"""The SQL functions a set-based push plan calls on SQLite (ADR 0985), registered on every
connection: SQLite has neither exact decimals nor SHA-256, so the plan's arithmetic and
identifiers are the domain's own functions, called by the statement once per planned row
(deterministic: the same arguments always give the same answer). Whole amounts, the
common case, take integer arithmetic (exact, and a quarter of a ``Decimal``'s cost)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

from stripemeter_server.domain.decimals import add, sub
from stripemeter_server.domain.push_plan import push_identifiers, to_units


def _decimal(raw: int | str | float) -> Decimal:
    """A stored amount (integers as integers, decimals as their exact text)."""
    if isinstance(raw, float):  # never stored so; a float's text would not be exact
        raise TypeError("an amount stored as a float")
    return Decimal(raw)


def push_units(base: int | str, adjustments: str, late_out: str, scale: str) -> str:
    """A ``sum`` formula's whole value in pushed units (the aggregate plus the corrections,
    as ``CounterState.value``), as the text of an integer (SQLite's integers stop at 2⁶³)."""
    whole_base = isinstance(base, int) or "." not in base
    if whole_base and "." not in adjustments and "." not in late_out:
        try:  # whole amounts and a whole scale: the product is whole, nothing to round
            return str((int(base) + int(adjustments) - int(late_out)) * int(scale))
        except ValueError:  # not an integer's text after all: exactly, as decimals
            pass
    value = add(_decimal(base), sub(_decimal(adjustments), _decimal(late_out)))
    return str(to_units(value, Decimal(scale)))


def push_delta(after: str, pushed: int | str | None) -> str | None:
    """What a ``sum`` push sends: the units after minus those pushed; None when nothing."""
    if pushed is None:
        done = 0
    else:
        try:
            done = int(pushed)
        except ValueError:  # a whole number's text written with a fraction ("5.0")
            done = int(_decimal(pushed))
    delta = int(after) - done
    return str(delta) if delta else None


@lru_cache(maxsize=256)
def _identifiers(tenant_id: str, metric: str) -> Callable[[str, int, int], str]:
    return push_identifiers(tenant_id, metric)  # the prefix hashed once per metric


def push_id(tenant_id: str, metric: str, customer_ref: str, start_us: int, seq: int) -> str:
    """``push_identifier`` (``push_identifiers`` gives the same, tested in the domain)."""
    return _identifiers(tenant_id, metric)(customer_ref, start_us, seq)


def register_push_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("stripemeter_push_units", 4, push_units, deterministic=True)
    conn.create_function("stripemeter_push_delta", 2, push_delta, deterministic=True)
    conn.create_function("stripemeter_push_id", 5, push_id, deterministic=True)
