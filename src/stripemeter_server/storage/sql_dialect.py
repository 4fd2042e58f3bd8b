"""The statement shapes in which SQLite and PostgreSQL differ, as one small port.

Each store's adapter package (``storage/sqlite/``, ``storage/postgres/``) implements it once;
``Store`` picks the implementation from the engine when it starts and the unit of work hands
it to every repository that needs it. So a repository says *what* it needs (lock these rows,
claim these due rows, upsert into this table) and never asks which store it is talking to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

Query = TypeVar("Query", bound=Select[Any])

# Both constructs take ``on_conflict_do_nothing`` / ``on_conflict_do_update(index_elements=,
# set_=)`` the same way, which is all the repositories use.
Upsert: TypeAlias = postgresql.Insert | sqlite.Insert


class SqlDialect(Protocol):
    """What a repository may ask of the store it runs on."""

    @property
    def name(self) -> str:
        """SQLAlchemy's name for the store (``sqlite`` or ``postgresql``)."""
        ...

    def upsert(self, table: Table) -> Upsert:
        """An INSERT into ``table`` that takes an ``ON CONFLICT`` clause."""
        ...

    def lock_rows(self, query: Query, of: Any = None) -> Query:
        """The query, holding its rows for update until commit (``of``: only that table's,
        for a join whose other rows must stay unlocked)."""
        ...

    def share_rows(self, query: Query) -> Query:
        """The query, holding its rows against update (not against readers) until commit."""
        ...

    def claim_due(self, query: Query) -> Query:
        """The query, taking its rows for update and passing over rows another transaction
        holds, so concurrent workers claiming work never wait on or double-take a row."""
        ...

    def clock_us(self) -> ColumnElement[Any]:
        """The database's own clock in integer microseconds since the epoch: one clock for
        every node that shares the database."""
        ...

    def lock_keys(self, conn: Connection, keys: Iterable[str]) -> None:
        """Serialise, until commit, every transaction that locks one of these names (taken in
        sorted order, so two transactions locking overlapping sets never deadlock)."""
        ...

    def json_text(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        """A text column's JSON object's ``key`` as text (``NULL`` when absent): to join on
        a value kept inside a definition's JSON (ADR 0937)."""
        ...

    def relax_commit_durability(self, conn: Connection) -> None:
        """Let this transaction's commit return before it is durable on disk: only for
        writes whose loss in a crash is harmless (a rate-limit bucket level)."""
        ...
