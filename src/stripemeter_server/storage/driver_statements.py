"""Hot statements run on the driver's own cursor, compiled once per store (ADR 0950).

A statement executed through SQLAlchemy's ``Connection.execute`` costs ~0.15-0.2 ms of CPU
besides the driver's own work (its execution context, the compiled cache's key, the cursor
result and its description), and the entitlement fast paths run two to four of them per
request. A ``DriverStatement`` is compiled once per dialect; each call hands the driver the
SQL text and the parameters, with the types' own bind and result processors applied as
SQLAlchemy applies them (``ExactDecimal`` included), so every value is what a
``Connection.execute`` would have returned. It runs on the unit of work's connection, in
its transaction; the driver's errors are translated as the unit of work translates them.

Only statements whose parameters are all bound by name (or carry their own value) can be
built: a literal rendered at execution time (SQLAlchemy's "post-compile" parameters, such
as ``aggregate_strings``' separator) is refused when the statement is first built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass(slots=True)
class _Built:
    sql: str
    order: tuple[str, ...] | None  # the parameters' order for a positional driver
    fixed: dict[str, Any]  # parameters that carry their own value (``literal(1)``)
    binds: tuple[tuple[str, Processor], ...]
    keys: tuple[str, ...]  # the result's column names
    results: tuple[tuple[str, Processor], ...] | None = field(default=None)  # on first rows


@dataclass(frozen=True, slots=True)
class DriverHandle:
    """A driver connection held outside SQLAlchemy's pool (SQLite's event-loop reads,
    ADR 0971), with the dialect its statements are compiled for: ``rows`` takes it as it
    takes a ``Connection``."""

    dialect: Dialect
    driver_connection: Any


class DriverStatement:
    """A Core statement run on the driver's cursor; rows come back as dictionaries."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        # a query's columns (their names and types), in order; a write returns none
        self._columns = list(getattr(statement, "selected_columns", ()))
        self._built: dict[str, _Built] = {}

    def _build(self, dialect: Dialect) -> _Built:
        compiled = cast(SQLCompiler, self._statement.compile(dialect=dialect))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement rendered at execution time cannot run on the driver")
        binds, fixed = [], {}
        for name, bind in compiled.binds.items():
            if not bind.required:
                fixed[name] = bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds.append((name, processor))
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        keys = tuple(column.key for column in self._columns)
        built = _Built(str(compiled), order, fixed, tuple(binds), keys)
        self._built[dialect.name] = built
        return built

    def bound(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL text and the driver's arguments for ``params`` (bind processors
        applied): what ``rows`` hands the driver, for a caller with its own connection
        (the usage reads on the event loop, ADR 0971)."""
        built = self._built.get(dialect.name) or self._build(dialect)
        values = {**built.fixed, **params} if built.fixed else dict(params)
        for name, processor in built.binds:
            values[name] = processor(values[name])
        args: Any = values if built.order is None else tuple(values[n] for n in built.order)
        return built.sql, args

    def _execute(self, conn: Connection | DriverHandle, params: Mapping[str, Any]) -> Any:
        sql, args = self.bound(conn.dialect, params)
        driver = (
            conn.driver_connection
            if isinstance(conn, DriverHandle)
            else conn.connection.driver_connection
        )
        cursor = driver.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, args)
        return cursor

    def rows(
        self, conn: Connection | DriverHandle, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        cursor = self._execute(conn, params)
        try:
            return self.processed(conn.dialect, cursor, cursor.fetchall())
        finally:
            cursor.close()

    def processed(self, dialect: Dialect, cursor: Any, found: list[Any]) -> list[dict[str, Any]]:
        """The driver's rows as ``rows`` returns them: by column name, each value through
        its type's result processor, built from the driver's column types once (psycopg
        builds the cursor's ``description`` anew each time it is asked: ~2 % of a read)."""
        built = self._built.get(dialect.name) or self._build(dialect)
        if built.results is None:
            built.results = self._result_processors(dialect, cursor.description)
        keys, processed = built.keys, built.results
        rows = [dict(zip(keys, row, strict=True)) for row in found]
        for row in rows:
            for key, processor in processed:
                row[key] = processor(row[key])
        return rows

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """For a write: how many rows it touched."""
        cursor = self._execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _result_processors(
        self, dialect: Dialect, description: Any
    ) -> tuple[tuple[str, Processor], ...]:
        """The columns that have a processor, each with it, as SQLAlchemy builds it from the
        driver's column type."""
        found = (
            (column.key, column.type.dialect_impl(dialect).result_processor(dialect, described[1]))
            for column, described in zip(self._columns, description, strict=True)
        )
        return tuple((key, processor) for key, processor in found if processor is not None)
